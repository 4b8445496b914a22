"""The store's schema across releases, with the real binary: a store made with release 0.1.0's schema (its DDL is
kept in fixtures/store-0.1.0.sql; 0.1.0 set no user_version) holding leads in every state is opened by this build,
migrated in place, and everything in it flows on: leads not yet routed are routed and published, pending
deliveries are published, delivered ones are not sent again, dead letters stay listed and replayable, and
redelivery keys still answer as duplicates in their window and not after it. A store newer than the binary is
refused untouched (exit 73). `leadrelay store info` reads a running daemon's store."""
import http.client
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
import unittest

from harness import BIN, SOURCE_DIR, Daemon, DevBroker, consume, kafka_config, lead, query

FIXTURE = os.path.join(SOURCE_DIR, "tests", "integration", "fixtures", "store-0.1.0.sql")
ROUTES = "  - name: all\n    to: [{kafka: leads.all}]\n"
LEADS = 300


def wait_for(predicate, what, timeout=60):
    """Polls the store (read-only, as an independent client): the daemon writes no event per delivery."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.05)


def store_info(state_dir):
    r = subprocess.run([BIN, "store", "info", "--state-dir", state_dir], capture_output=True, text=True, timeout=30)
    return r.returncode, r.stdout + r.stderr


def admin(d, method, path):
    status, _, body = d.admin(method, path)
    return status, json.loads(body)


class MigrationFrom010(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="leadrelay-store-")
        # 1. Real rows: this build stores, routes and delivers LEADS leads (lead ids, raw bodies, routed lead.v1
        #    documents, redelivery and person keys exactly as the daemon writes them).
        broker = DevBroker()
        try:
            d = Daemon(extra=kafka_config(broker.bootstrap, ROUTES))
            d.start()
            try:
                for n in range(LEADS):
                    status = d.post(lead(n))[0]
                    assert status == 202, status
                wait_for(lambda: query(d.db_path, "SELECT COUNT(*) FROM deliveries WHERE state = 1")[0][0] == LEADS,
                         "the first daemon did not deliver every lead")
            finally:
                d.stop()
            source_db = d.db_path
            # 2. The same rows in a store made with 0.1.0's DDL, put into every state.
            cls.workdir = os.path.join(cls.tmp.name, "old")
            os.makedirs(os.path.join(cls.workdir, "state"))
            shutil.copy(d.secret_file, os.path.join(cls.workdir, "marketplace.secret"))
            cls.db_path = os.path.join(cls.workdir, "state", "leadrelay.db")
            db = sqlite3.connect(cls.db_path)
            with open(FIXTURE) as f:
                db.executescript(f.read())
            db.execute("ATTACH DATABASE ? AS src", (f"file:{source_db}?mode=ro",))
            for table in ("leads", "routed", "deliveries", "cursors", "replay_keys", "person_keys"):
                cols = ", ".join(r[1] for r in db.execute(f"PRAGMA main.table_info({table})"))
                db.execute(f"INSERT INTO main.{table} ({cols}) SELECT {cols} FROM src.{table}")
            db.commit()
            db.execute("DETACH DATABASE src")
            d.close()
        finally:
            broker.close()
        seqs = [s for (s,) in db.execute("SELECT seq FROM leads ORDER BY seq")]
        ids = dict(db.execute("SELECT seq, lead_id FROM leads"))
        cls.all_ids = set(ids.values())
        unrouted, pending, dead = seqs[240:], seqs[180:240], seqs[150:180]
        cls.unrouted = {ids[s] for s in unrouted}
        cls.pending = {ids[s] for s in pending}
        cls.dead = {ids[s] for s in dead}
        marks = lambda s: ",".join(str(x) for x in s)  # noqa: E731
        now_ms = int(time.time() * 1000)
        db.execute(f"DELETE FROM deliveries WHERE lead_seq IN ({marks(unrouted)})")
        db.execute(f"DELETE FROM routed WHERE seq IN ({marks(unrouted)})")
        db.execute("UPDATE cursors SET value = ? WHERE name = 'pipeline'", (seqs[239],))
        db.execute(f"UPDATE deliveries SET state = 0, error = NULL, done_ms = NULL WHERE lead_seq IN ({marks(pending)})")
        db.execute(f"UPDATE deliveries SET state = 2, error = 'HTTP 400: refused by the fixture', done_ms = ? "
                   f"WHERE lead_seq IN ({marks(dead)})", (now_ms,))
        # Five Contact me leads (they need an answer): three whose 14 days passed before the upgrade, two within them.
        for n, s in enumerate(seqs[:5]):
            db.execute("UPDATE routed SET lead = json_set(lead, '$.action.call_to_action', 'ContactMe', "
                       "'$.action.partner_action_required', json('true')) WHERE seq = ?", (s,))
            if n < 3:
                db.execute("UPDATE leads SET received_at_ms = ? WHERE seq = ?", (now_ms - 20 * 86400000, s))
        cls.contact_me_expired = {ids[s] for s in seqs[:3]}
        cls.contact_me_waiting = {ids[s] for s in seqs[3:5]}
        # Redelivery keys in both windows: the first 100 leads' keys have expired, the others' have not.
        first = {ids[s] for s in seqs[:100]}
        db.execute(f"UPDATE replay_keys SET expires_ms = 1 WHERE lead_id IN ({','.join(repr(i) for i in first)})")
        db.commit()
        cls.version_before = db.execute("PRAGMA user_version").fetchone()[0]
        cls.counts_before = {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                             for t in ("leads", "routed", "deliveries", "replay_keys", "person_keys")}
        cls.id_of = {n: ids[seqs[n]] for n in range(LEADS)}
        db.close()
        cls.info_before = store_info(os.path.join(cls.workdir, "state"))
        # 3. This build on that store, publishing to a fresh broker: only what is still owed reaches it.
        cls.broker = DevBroker()
        cls.d = Daemon(workdir=cls.workdir, extra=kafka_config(cls.broker.bootstrap, ROUTES)).start()

    @classmethod
    def tearDownClass(cls):
        cls.d.close()
        cls.broker.close()
        cls.tmp.cleanup()

    def test_1_store_was_0_1_0(self):
        self.assertEqual(self.version_before, 0)
        code, text = self.info_before
        self.assertEqual(code, 0, text)
        self.assertIn("schema version: 0 (older: migrated at the next start)", text)

    def test_2_everything_is_still_there_and_flows_on(self):
        # Leads not yet routed and pending deliveries reach Kafka, once each; delivered ones are not sent again.
        owed = self.unrouted | self.pending
        messages = consume(self.broker.bootstrap, "leads.all", count=len(owed))
        self.assertEqual({h["lead-id"] for _, h, _ in messages}, owed)
        wait_for(lambda: query(self.db_path, "SELECT COUNT(*) FROM deliveries WHERE state = 0")[0][0] == 0
                 and query(self.db_path, "SELECT value FROM cursors WHERE name = 'pipeline'")[0][0] >=
                 query(self.db_path, "SELECT MAX(seq) FROM leads")[0][0], "the outbox did not drain")
        self.assertEqual(len(consume(self.broker.bootstrap, "leads.all")), len(owed))  # read to the end: no more
        for _, headers, payload in messages:
            self.assertEqual(payload["lead_id"], headers["lead-id"])
        # Every lead, delivery and key is still there (the unrouted leads now have their routed rows and
        # deliveries too).
        self.assertEqual({i for (i,) in query(self.db_path, "SELECT lead_id FROM leads")}, self.all_ids)
        self.assertEqual(query(self.db_path, "SELECT COUNT(*) FROM routed")[0][0], LEADS)
        self.assertEqual(query(self.db_path, "SELECT COUNT(*) FROM deliveries")[0][0], LEADS)
        self.assertEqual(query(self.db_path, "SELECT COUNT(*) FROM deliveries WHERE state = 1")[0][0],
                         LEADS - len(self.dead))
        self.assertGreaterEqual(query(self.db_path, "SELECT COUNT(*) FROM replay_keys")[0][0],
                                self.counts_before["replay_keys"] - 100)
        self.assertEqual(query(self.db_path, "SELECT COUNT(*) FROM person_keys")[0][0],
                         self.counts_before["person_keys"])
        self.assertEqual(query(self.db_path, "PRAGMA user_version")[0][0], 9)
        # Every lead routed before the upgrade got the lifecycle its lead.v1 says (Get it now leads are
        # informational; Contact me leads past their 14 days are Expired, without events), and so did the ones
        # routed after it.
        self.assertEqual(query(self.db_path, "SELECT status, COUNT(*) FROM lifecycle GROUP BY status ORDER BY 1"),
                         [("Expired", 3), ("Informational", LEADS - 5), ("Received", 2)])
        self.assertEqual({i for (i,) in query(self.db_path, "SELECT lead_id FROM lifecycle WHERE status = 'Expired'")},
                         self.contact_me_expired)
        self.assertEqual({i for (i,) in query(self.db_path, "SELECT lead_id FROM lifecycle WHERE status = 'Received'")},
                         self.contact_me_waiting)
        self.assertEqual(query(self.db_path, "SELECT COUNT(*) FROM lead_events")[0][0], 0)
        # The insight roll-up (schema 7) holds every lifecycle, by status, and each lead's offer was copied in.
        self.assertEqual(query(self.db_path, "SELECT status, SUM(n) FROM insight_cells GROUP BY status ORDER BY 1"),
                         [("Expired", 3), ("Informational", LEADS - 5), ("Received", 2)])
        self.assertEqual(query(self.db_path, "SELECT COUNT(*) FROM lifecycle WHERE offer IS NULL")[0][0], 0)
        # So do the narrow roll-ups of schema 8, cell for cell once summed over the columns they leave out.
        for table, columns in (("insight_by_country", "country"), ("insight_by_listing", "offer, program")):
            key = f"classification, month, {columns}, lead_type, status, accept_bucket"
            self.assertEqual(query(self.db_path, f"SELECT {key}, SUM(n) FROM {table} GROUP BY {key} ORDER BY {key}"),
                             query(self.db_path, f"SELECT {key}, SUM(n) FROM insight_cells GROUP BY {key} "
                                                 f"ORDER BY {key}"), table)
        # Where each lead went, for the CRM updates of later changes: from the old deliveries, and the new routing.
        self.assertEqual(query(self.db_path, "SELECT destinations, COUNT(*) FROM lifecycle GROUP BY 1"),
                         [("kafka:leads.all", LEADS)])
        self.assertEqual(query(self.db_path, "SELECT COUNT(*) FROM lifecycle l JOIN leads s USING (seq, lead_id) "
                                             "WHERE l.received_at_ms = s.received_at_ms")[0][0], LEADS)

    def test_3_dead_letters_stay_listed_and_replay(self):
        status, body = admin(self.d, "GET", "/dlq")
        self.assertEqual(status, 200)
        self.assertEqual({x["lead_id"] for x in body["dead_letters"]}, self.dead)
        self.assertTrue(all(x["error"] == "HTTP 400: refused by the fixture" for x in body["dead_letters"]))
        before = len(consume(self.broker.bootstrap, "leads.all"))
        status, body = admin(self.d, "POST", "/dlq/replay")
        self.assertEqual((status, body), (200, {"replayed": len(self.dead)}))
        # Partitions interleave when read from the beginning: compare sets. The dead letters were never published.
        after = consume(self.broker.bootstrap, "leads.all", count=before + len(self.dead))
        self.assertEqual({h["lead-id"] for _, h, _ in after}, self.unrouted | self.pending | self.dead)

    def test_4_redelivery_keys_keep_their_windows(self):
        status, _, body = self.d.post(lead(150))  # its key is in its window: the same lead
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["lead_id"], self.id_of[150])
        status, _, body = self.d.post(lead(5))  # its key expired: a new lead
        self.assertEqual(status, 202, body)
        self.assertNotEqual(json.loads(body)["lead_id"], self.id_of[5])

    def test_5_store_info_on_the_running_daemon(self):
        code, text = store_info(os.path.join(self.workdir, "state"))
        self.assertEqual(code, 0, text)
        self.assertIn("schema version: 9 (current)", text)
        for table in ("leads", "routed", "deliveries", "replay_keys", "person_keys", "cursors", "insight_by_country",
                      "lifecycle_company_config"):
            self.assertRegex(text, rf"\n{table} +\d+ +(\d+|-)\n")
        self.assertRegex(text, r"WAL: +\d+ bytes")
        self.assertRegex(text, r"free pages: +\d+")


class NewerStore(unittest.TestCase):
    def test_a_store_newer_than_the_binary_is_refused_untouched(self):
        d = Daemon()
        try:
            d.start()
            d.stop()
            db = sqlite3.connect(d.db_path)
            db.execute("PRAGMA user_version = 99")
            db.commit()
            db.close()
            with open(d.db_path, "rb") as f:
                before = f.read()
            r = subprocess.run([BIN, "run", "--config", d.config], capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 73, r.stderr)
            self.assertIn("schema version 99, newer than this leadrelay", r.stderr)
            with open(d.db_path, "rb") as f:
                self.assertEqual(f.read(), before)
        finally:
            d.close()


if __name__ == "__main__":
    unittest.main()
