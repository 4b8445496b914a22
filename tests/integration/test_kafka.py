"""Delivery to Kafka with real processes: a dev-broker, the daemon, and kcat as the independent consumer.
Every lead answered 202 appears on its routed topics exactly once, with its key and headers, through outages,
kill -9 and backpressure."""
import collections
import concurrent.futures
import json
import socket
import time
import unittest

from harness import DevBroker, Daemon, consume, kafka_config, schema_errors

ROUTES = """  - name: validation
    when: {test_lead: true}
    drop: Partner Center validation lead
  - name: hot
    when: {call_to_action: ContactMe}
    to: [{kafka: leads.hot}]
    continue: true
  - name: all
    to: [{kafka: leads.all}]
"""


def body(n, action="INS"):
    return json.dumps({
        "UserDetails": {"FirstName": f"P{n}", "Email": f"Person{n}@Contoso.com", "Country": "US"},
        "LeadSource": f"AzureMarketplace-{action}|contoso.analytics-pro", "ActionCode": action,
    }).encode()


class Kafka(unittest.TestCase):
    def setUp(self):
        self.broker = DevBroker()
        self.daemon = None

    def tearDown(self):
        if self.daemon:
            self.daemon.close()
        self.broker.close()

    def start(self, outbox=""):
        self.daemon = Daemon(extra=kafka_config(self.broker.bootstrap, ROUTES, outbox)).start()
        return self.daemon

    def post_all(self, ns, action_of=lambda n: "INS"):
        d = self.daemon

        def client(chunk):
            conn = d.connection()
            ids = {}
            for n in chunk:
                status, _, data = d.post(body(n, action_of(n)), conn=conn)
                self.assertEqual(status, 202, data)
                ids[json.loads(data)["lead_id"]] = n
            conn.close()
            return ids

        chunks = [ns[i::16] for i in range(16)]
        accepted = {}
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            for ids in pool.map(client, chunks):
                accepted.update(ids)
        return accepted

    def assert_exactly_once(self, messages, expected_ids, topic):
        ids = [m[2]["lead_id"] for m in messages]
        counts = collections.Counter(ids)
        duplicates = sum(c - 1 for c in counts.values())
        missing = set(expected_ids) - set(counts)
        self.assertEqual(missing, set(), f"{topic}: leads answered 202 but never published")
        self.assertEqual(set(counts) - set(expected_ids), set(), f"{topic}: unexpected leads")
        self.assertEqual(duplicates, 0, f"{topic}: {duplicates} duplicates")

    def test_1000_leads_routed_exactly_once_with_key_and_headers(self):
        self.start()
        accepted = self.post_all(list(range(1000)), action_of=lambda n: "PLT" if n % 4 == 0 else "INS")
        self.assertEqual(len(accepted), 1000)
        hot_ids = [i for i, n in accepted.items() if n % 4 == 0]
        all_msgs = consume(self.broker.bootstrap, "leads.all", count=1000)
        hot_msgs = consume(self.broker.bootstrap, "leads.hot", count=len(hot_ids))
        self.assert_exactly_once(all_msgs, accepted, "leads.all")
        self.assert_exactly_once(hot_msgs, hot_ids, "leads.hot")
        # Nothing beyond: read both topics to their end.
        self.assertEqual(len(consume(self.broker.bootstrap, "leads.all")), 1000)
        self.assertEqual(len(consume(self.broker.bootstrap, "leads.hot")), len(hot_ids))
        for key, headers, lead in all_msgs:
            n = accepted[lead["lead_id"]]
            self.assertEqual(key, f"person{n}@contoso.com", "key = the normalized email")
            self.assertEqual(headers["lead-id"], lead["lead_id"])
            self.assertEqual(headers["lead-schema"], "lead.v1")
            self.assertEqual(headers["lead-source"], "marketplace")
            self.assertEqual(headers["lead-action"], "PLT" if n % 4 == 0 else "INS")
            self.assertEqual(headers["test-lead"], "false")
        self.assertEqual(schema_errors(m[2] for m in all_msgs + hot_msgs), "")

    def test_one_persons_leads_keep_their_order(self):
        d = self.start()
        sent = []
        for i in range(20):
            b = json.loads(body(7))
            b["Description"] = f"visit {i}"  # distinct deliveries of the same person and offer
            status, _, data = d.post(json.dumps(b).encode())
            self.assertEqual(status, 202)
            sent.append(json.loads(data)["lead_id"])
        messages = consume(self.broker.bootstrap, "leads.all", count=20)
        self.assertEqual(len({m[0] for m in messages}), 1, "one key, so one partition")
        self.assertEqual([m[2]["lead_id"] for m in messages], sent, "published in the order they were accepted")
        self.assertEqual([m[2]["occurrence"] for m in messages], list(range(1, 21)))

    def test_validation_lead_is_dropped_not_published(self):
        d = self.start()
        test = json.dumps({"userDetails": {"email": "MSFT_TEST_1@contoso.com"}, "description": "MSFT_TEST_1"})
        self.assertEqual(d.post(test.encode())[0], 202)
        self.assertEqual(d.post(body(1))[0], 202)
        messages = consume(self.broker.bootstrap, "leads.all", count=1)
        d.wait_event("lead_dropped")
        self.assertEqual(len(consume(self.broker.bootstrap, "leads.all")), 1)
        self.assertEqual(messages[0][2]["contact"]["email"], "person1@contoso.com")

    def test_broker_outage_loses_nothing(self):
        d = self.start()
        first = self.post_all(list(range(100)))
        self.broker.down()
        during = self.post_all(list(range(100, 300)))  # still 202: journaled, waiting in the outbox
        self.broker.up()
        expected = {**first, **during}
        messages = consume(self.broker.bootstrap, "leads.all", count=300, timeout=120)
        self.assert_exactly_once(messages, expected, "leads.all")
        self.assertEqual(len(consume(self.broker.bootstrap, "leads.all")), 300)
        self.assertEqual(d.stop(), 0)

    def test_kill_9_with_deliveries_pending(self):
        d = self.start()
        self.broker.down()
        accepted = self.post_all(list(range(200)))
        # Wait until the pipeline has put every lead in the outbox, then crash.
        deadline = time.monotonic() + 30
        while self.pending(d) < 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.pending(d), 200)
        d.kill9()
        d.start()
        self.broker.up()
        messages = consume(self.broker.bootstrap, "leads.all", count=200, timeout=120)
        self.assert_exactly_once(messages, accepted, "leads.all")

    def test_kill_9_while_publishing_counts_duplicates(self):
        d = self.start()
        accepted = self.post_all(list(range(300)))
        d.kill9()  # some deliveries acknowledged by Kafka, maybe not yet recorded
        d.start()
        more = self.post_all(list(range(300, 400)))
        expected = {**accepted, **more}
        messages = consume(self.broker.bootstrap, "leads.all", count=400, timeout=120)
        end = consume(self.broker.bootstrap, "leads.all")
        counts = collections.Counter(m[2]["lead_id"] for m in end)
        duplicates = sum(c - 1 for c in counts.values())
        print(f"kill -9 while publishing: {len(expected)} leads accepted, {len(set(counts))} published, "
              f"lost {len(set(expected) - set(counts))}, duplicates on Kafka {duplicates}", flush=True)
        self.assertEqual(set(expected) - set(counts), set())
        self.assertGreaterEqual(len(messages), 400)

    def test_backlog_full_answers_503_then_recovers(self):
        d = self.start(outbox="outbox:\n  max_backlog: 20\n")
        self.broker.down()
        statuses = []
        for n in range(500):
            status, headers, data = d.post(body(n))
            statuses.append(status)
            if status == 503:
                self.assertEqual(json.loads(data)["error"], "backlog_full")
                self.assertEqual(headers["retry-after"], "5")
                break
        self.assertEqual(statuses[-1], 503, "intake must push back when the outbox budget is used up")
        accepted = statuses.count(202)
        self.broker.up()
        consume(self.broker.bootstrap, "leads.all", count=accepted, timeout=120)
        deadline = time.monotonic() + 30
        while d.post(body(9999))[0] != 202:
            self.assertLess(time.monotonic(), deadline, "intake never accepted again after the backlog drained")
            time.sleep(0.1)

    def test_dev_broker_on_a_fixed_port(self):
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        fixed = DevBroker(brokers=3, port=port)
        try:
            self.assertEqual(fixed.bootstrap, f"127.0.0.1:{port}")
            self.daemon = Daemon(extra=kafka_config(fixed.bootstrap, ROUTES)).start()
            self.assertEqual(self.daemon.post(body(1))[0], 202)
            messages = consume(fixed.bootstrap, "leads.all", count=1)
            self.assertEqual(messages[0][0], "person1@contoso.com")
        finally:
            self.daemon.close()
            self.daemon = None
            fixed.close()

    @staticmethod
    def pending(d):
        import sqlite3
        db = sqlite3.connect(f"file:{d.db_path}?mode=ro", uri=True, timeout=10)
        try:
            return db.execute("SELECT COUNT(*) FROM deliveries WHERE state = 0").fetchone()[0]
        finally:
            db.close()


if __name__ == "__main__":
    unittest.main()
