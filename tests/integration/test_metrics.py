"""Observability with the real binary: Prometheus metrics on the admin listener count what happened, and
`leadrelay status` reads the running daemon's status."""
import json
import re
import subprocess
import time
import unittest
import urllib.request

from harness import BIN, Daemon, DevBroker, WithKafka, consume, kafka_config, lead

def scrape(d):
    with urllib.request.urlopen(f"http://127.0.0.1:{d.admin_port}/metrics", timeout=10) as r:
        return r.headers.get("Content-Type"), r.read().decode()


def value(text, name, **labels):
    """The sample `name{labels}` (labels in any order), or None."""
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = re.match(r"^([a-z_]+)(\{[^}]*\})? (\S+)$", line)
        if not m or m.group(1) != name:
            continue
        found = dict(re.findall(r'([a-z_]+)="([^"]*)"', m.group(2) or ""))
        if found == {k: str(v) for k, v in labels.items()}:
            return float(m.group(3))
    return None


class Metrics(WithKafka):

    def test_counters_follow_the_leads(self):
        d = self.d
        for n in range(3):
            self.assertEqual(d.post(lead(n))[0], 202)
        self.assertEqual(d.post(lead(0))[0], 200)  # a redelivery
        self.assertEqual(d.post(b'{"UserDetails": {"Phone": 1}}')[0], 400)
        self.assertEqual(d.post(lead(9), path="/leads/marketplace?code=wrong")[0], 401)
        consume(self.broker.bootstrap, "leads.all", count=3)
        deadline = time.monotonic() + 20
        # Delivery reports are counted a moment after the broker has the messages, and the backlog drops once their
        # acknowledgements are stored, a moment after that.
        while True:
            content_type, text = scrape(d)
            if (value(text, "leadrelay_deliveries_total", destination="kafka:leads.all", result="ok") == 3
                    and value(text, "leadrelay_outbox_backlog") == 0):
                break
            self.assertLess(time.monotonic(), deadline, text)
            time.sleep(0.1)
        self.assertEqual(content_type, "text/plain; version=0.0.4; charset=utf-8")
        self.assertEqual(value(text, "leadrelay_leads_received_total", source="marketplace"), 5)
        self.assertEqual(value(text, "leadrelay_leads_accepted_total", source="marketplace"), 3)
        self.assertEqual(value(text, "leadrelay_leads_redelivered_total", source="marketplace"), 1)
        self.assertEqual(value(text, "leadrelay_leads_rejected_total", source="marketplace", reason="wrong_type"), 1)
        self.assertEqual(value(text, "leadrelay_leads_rejected_total", source="unknown", reason="unauthorized"), 1)
        self.assertEqual(value(text, "leadrelay_route_matches_total", rule="all"), 3)
        self.assertEqual(value(text, "leadrelay_outbox_backlog"), 0)
        self.assertEqual(value(text, "leadrelay_config_last_reload_success"), 1)
        self.assertGreaterEqual(value(text, "leadrelay_journal_commit_duration_seconds_count"), 1)
        self.assertGreaterEqual(value(text, "leadrelay_http_request_duration_seconds_count"), 6)
        self.assertIsNotNone(value(text, "leadrelay_kafka_producer_queue_messages"))
        # Every sample follows Prometheus naming: the leadrelay_ prefix.
        names = {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and not line.startswith("#")}
        self.assertTrue(all(n.startswith("leadrelay_") for n in names), names)

    def test_status_command(self):
        r = subprocess.run([BIN, "status", "--admin", f"127.0.0.1:{self.d.admin_port}", "--token-file",
                            self.d.token_file()], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        status = json.loads(r.stdout)
        self.assertRegex(status["config_hash"], r"^[0-9a-f]{16}$")
        self.assertTrue(status["last_reload"]["ok"])
        self.assertIn("deliveries", status["backlog"])
        self.assertGreaterEqual(status["uptime_seconds"], 0)
        with urllib.request.urlopen(f"http://127.0.0.1:{self.d.admin_port}/metrics", timeout=10) as m:
            hash_label = re.search(r'leadrelay_config_info\{hash="([0-9a-f]+)"\} 1', m.read().decode())
        self.assertEqual(hash_label.group(1), status["config_hash"])

    def test_status_shows_the_backlog_per_destination(self):
        self.broker.down()
        for n in range(2):
            self.assertEqual(self.d.post(lead(n))[0], 202)
        deadline = time.monotonic() + 30
        by_destination = {}
        while time.monotonic() < deadline:  # until the routing worker has queued both for Kafka
            r = subprocess.run([BIN, "status", "--admin", f"127.0.0.1:{self.d.admin_port}", "--token-file",
                            self.d.token_file()], capture_output=True,
                               text=True, timeout=30)
            by_destination = json.loads(r.stdout)["backlog"]["by_destination"]
            if by_destination.get("kafka:leads.all", {}).get("deliveries") == 2:
                break
            time.sleep(0.05)  # polling a condition the daemon does not announce
        self.assertEqual(by_destination["kafka:leads.all"]["deliveries"], 2)
        self.assertGreater(by_destination["kafka:leads.all"]["bytes"], 0)

    def test_status_command_when_nothing_listens(self):
        self.d.stop()
        r = subprocess.run([BIN, "status", "--admin", f"127.0.0.1:{self.d.admin_port}", "--token-file",
                            self.d.token_file()], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 69)
        self.assertIn("cannot reach the admin listener", r.stderr)


class RetriedDeliveries(unittest.TestCase):
    """A broker that refuses the first produce requests with a retriable error: the lead still arrives once, and
    the retries are counted per destination."""

    def test_retries_are_counted(self):
        broker = DevBroker(produce_errors=3)
        d = Daemon(extra=kafka_config(broker.bootstrap, "  - name: all\n    to: [{kafka: leads.all}]\n")).start()
        try:
            status, _, _ = d.post(lead(1))
            self.assertEqual(status, 202)
            messages = consume(broker.bootstrap, "leads.all", count=1)
            self.assertEqual(messages[0][2]["contact"]["email"], "person1@contoso.com")
            # librdkafka reports its statistics every 5 s: wait for the report that carries the retries.
            deadline = time.monotonic() + 30
            retries = None
            while time.monotonic() < deadline:
                retries = value(scrape(d)[1], "leadrelay_delivery_retries_total", destination="kafka:leads.all")
                if retries:
                    break
                d.wait_event("kafka_stats", timeout=max(0.1, deadline - time.monotonic()))
            self.assertGreaterEqual(retries or 0, 1)  # refused requests that carried the one message
            self.assertEqual(value(scrape(d)[1], "leadrelay_deliveries_total", destination="kafka:leads.all",
                                   result="ok"), 1)
            self.assertEqual(len(consume(broker.bootstrap, "leads.all")), 1)  # retried, not duplicated
        finally:
            d.close()
            broker.close()


if __name__ == "__main__":
    unittest.main()
