"""kill -9 while leads are in flight: after a restart, every lead that was answered 202 is in the store exactly once,
and its redelivery is recognised (its key was durable with it)."""
import http.client
import json
import threading
import unittest

from harness import Daemon, lead, query

TOTAL = 200
CONNECTIONS = 16


class Crash(unittest.TestCase):
    def post_until_killed(self, d, kill_after, first_lead):
        """16 connections post distinct leads; kill -9 once `kill_after` of them were acknowledged."""
        lock = threading.Lock()
        next_lead = [0]
        acked = {}  # lead_id -> body
        enough = threading.Event()

        def worker():
            conn = d.connection(timeout=10)
            while True:
                with lock:
                    n = next_lead[0]
                    if n >= TOTAL:
                        break
                    next_lead[0] += 1
                body = lead(first_lead + n)  # new leads each round: repeats would be redeliveries
                try:
                    status, _, data = d.post(body, conn=conn)
                except (ConnectionError, http.client.HTTPException, OSError):
                    break  # the daemon died: this lead got no answer
                if status != 202:
                    continue
                with lock:
                    acked[json.loads(data)["lead_id"]] = body
                    if len(acked) >= kill_after:
                        enough.set()
            conn.close()
            enough.set()

        threads = [threading.Thread(target=worker) for _ in range(CONNECTIONS)]
        for t in threads:
            t.start()
        self.assertTrue(enough.wait(60), "leads were not being acknowledged")
        d.kill9()
        for t in threads:
            t.join(30)
        return acked, next_lead[0]

    def test_kill_9_loses_no_acknowledged_lead(self):
        d = Daemon()
        try:
            all_acked = {}
            for round_no, kill_after in enumerate((60, 100, 150)):
                d.start()
                acked, sent = self.post_until_killed(d, kill_after, round_no * 1000)
                self.assertGreaterEqual(len(acked), kill_after)
                self.assertLess(len(acked), TOTAL, "the kill must land while leads are still in flight")
                all_acked.update(acked)
                # Restart on the same state: the store recovers, and every acknowledged lead is there once.
                d.start()
                self.assertEqual(d.get("/readyz"), (200, b'{"status":"ready"}'))
                stored = d.stored(routed=True)
                missing = [i for i in all_acked if i not in stored]
                self.assertEqual(missing, [], f"round {round_no}: acknowledged leads lost")
                for lead_id, body in all_acked.items():
                    count, raw, mapped = stored[lead_id]
                    self.assertEqual(count, 1)
                    self.assertEqual(raw, body)
                    self.assertEqual(mapped["lead_id"], lead_id)
                # Redelivery keys live inside the lead's own log record and move into the store in the lead's own
                # transaction: no key ever names a lead the store lacks, and every acknowledged lead's redelivery is
                # still recognised after the kill, whether it was in the log or already in the store.
                orphans = query(d.db_path, "SELECT COUNT(*) FROM replay_keys k LEFT JOIN leads l "
                                           "ON l.lead_id = k.lead_id WHERE l.lead_id IS NULL")[0][0]
                self.assertEqual(orphans, 0, "a redelivery key without its lead")
                for lead_id, body in acked.items():
                    status, _, data = d.post(body)
                    self.assertEqual((status, json.loads(data)["lead_id"]), (200, lead_id), "a redelivery not seen")
                print(f"kill -9 round {round_no}: {len(acked)} acknowledged of {sent} sent, lost 0, "
                      f"{len(stored)} rows in the store", flush=True)
                d.stop()
        finally:
            d.close()


if __name__ == "__main__":
    unittest.main()
