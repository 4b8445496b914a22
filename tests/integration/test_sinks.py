"""Sinks with the real binary: a signed webhook over HTTPS (test CA) checked with an independent HMAC (openssl dgst),
transient faults (503 with Retry-After, 429, a hung server) retried until delivered exactly once, a permanent 400
dead-lettered and replayed with `leadrelay dlq`, a file sink with rotation, and config errors."""
import base64
import json
import os
import subprocess
import tempfile
import unittest
import urllib.request

from emulators import Receiver, TestCA
from harness import BIN, Daemon, lead, schema_errors

SECRET = "s3cr3t-signing-key-for-tests"


def sink_config(hook_url, folder, ca=None, extra_hook="", file_extra=""):
    with open(os.path.join(folder, "hook.secret"), "w") as f:
        f.write(SECRET + "\n")
    hook = (f"  - name: hook\n    type: webhook\n    url: \"{hook_url}\"\n    secret_file: hook.secret\n"
            f"    initial_backoff: 50ms\n    max_backoff: 200ms\n    breaker_failures: 3\n    breaker_cooldown: 300ms\n"
            f"    request_timeout: 500ms\n")
    if ca:
        hook += f"    ca_file: \"{ca.ca_cert}\"\n"
    hook += extra_hook
    archive = f"  - name: archive\n    type: file\n    path: archive/leads.jsonl\n{file_extra}"
    routes = "routes:\n  - name: all\n    to: [{sink: hook}, {sink: archive}]\n"
    return "sinks:\n" + hook + archive + routes


def openssl_signature(key, payload):
    """base64(HMAC-SHA256(key, payload)) computed by openssl, not by leadrelay's code."""
    r = subprocess.run(["openssl", "dgst", "-sha256", "-hmac", key, "-binary"], input=payload, capture_output=True,
                       check=True)
    return base64.b64encode(r.stdout).decode()


class WebhookSink(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.ca = TestCA(self.tmp.name)
        self.receiver = None
        self.d = None

    def tearDown(self):
        if self.d:
            self.d.close()
        if self.receiver:
            self.receiver.close()
        self.tmp.cleanup()

    def start(self, script=None, default=200, file_extra=""):
        self.receiver = Receiver(self.ca, script, default)
        self.d = Daemon(extra="")
        self.d.extra = sink_config(self.receiver.url, self.d.dir, self.ca, file_extra=file_extra)
        self.d.write_config()
        self.d.start()

    def post(self, n):
        status, _, _ = self.d.post(lead(n))
        self.assertEqual(status, 202)

    def admin(self, method, path):
        return self.d.admin_json(method, path)

    def test_signed_delivery_checked_with_openssl(self):
        self.start()
        self.post(1)
        self.receiver.wait_for(lambda r: len(r.delivered()) == 1)
        headers, body, _ = self.receiver.requests[0]
        self.assertEqual(headers["content-type"], "application/json")
        lead_json = json.loads(body)
        self.assertEqual(schema_errors([lead_json]), "")
        self.assertEqual(headers["webhook-id"], "msg_" + lead_json["lead_id"])
        payload = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
        self.assertEqual(headers["webhook-signature"], "v1," + openssl_signature(SECRET, payload))

    def test_secret_rotation_signs_with_each_secret(self):
        new_key = os.urandom(24)
        whsec = "whsec_" + base64.b64encode(new_key).decode()
        self.receiver = Receiver(self.ca)
        self.d = Daemon(extra="")
        self.d.extra = sink_config(self.receiver.url, self.d.dir, self.ca)
        with open(os.path.join(self.d.dir, "hook.secret"), "w") as f:
            f.write(SECRET + "\n" + whsec + "\n")  # the old secret and the new one, while receivers move over
        self.d.write_config()
        self.d.start()
        self.post(1)
        self.receiver.wait_for(lambda r: len(r.delivered()) == 1)
        headers, body, _ = self.receiver.requests[0]
        payload = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
        old, new = headers["webhook-signature"].split(" ")
        self.assertEqual(old, "v1," + openssl_signature(SECRET, payload))
        # A whsec_ secret is base64: its bytes are the key (openssl takes them as hex).
        r = subprocess.run(["openssl", "dgst", "-sha256", "-mac", "HMAC", "-macopt", "hexkey:" + new_key.hex(),
                            "-binary"], input=payload, capture_output=True, check=True)
        self.assertEqual(new, "v1," + base64.b64encode(r.stdout).decode())

    def test_transient_faults_are_retried_until_delivered_once(self):
        self.start(script=[(503, {"Retry-After": "1"}), 429, 500, "hang"])
        self.post(1)
        self.receiver.wait_for(lambda r: len(r.delivered()) == 1)
        # 503 (Retry-After 1 s honoured), 429, 500, a request that never got an answer, then the success.
        self.assertEqual([s for _, _, s in self.receiver.requests], [503, 429, 500, None, 200])
        ids = {h["webhook-id"] for h, _, _ in self.receiver.requests}
        self.assertEqual(len(ids), 1, "every retry carries the same webhook-id")
        self.d.wait_event("sink_circuit_open")  # three failures in a row opened it...
        self.d.wait_event("sink_circuit_closed")  # ...and the success closed it (logged after it was counted)
        with urllib.request.urlopen(f"http://127.0.0.1:{self.d.admin_port}/metrics", timeout=10) as r:
            metrics = r.read().decode()
        self.assertIn('leadrelay_deliveries_total{destination="sink:hook",result="ok"} 1', metrics)
        self.assertIn('leadrelay_delivery_retries_total{destination="sink:hook"} 4', metrics)
        self.assertIn('leadrelay_sink_circuit_open{sink="hook"} 0', metrics)
        self.assertEqual(self.admin("GET", "/dlq")["dead_letters"], [])

    def test_malformed_answers_are_retried_and_never_take_the_daemon_down(self):
        # Answers a broken or hostile destination might send: a Content-Length of 2^56 with body bytes in the same
        # packet (Beast's eager parse once reserved it: std::bad_alloc), one past 64 bits, a chunk size past 64
        # bits, a status line that is no HTTP. Each is a transient failure; then the delivery goes through, once.
        self.start(script=[
            ("raw", b"HTTP/1.1 200 OK\r\nContent-Length: 71322631598739000\r\n\r\n{\"ok\":true}"),
            ("raw", b"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\n{}"),
            ("raw", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n{}"),
            ("raw", b"SMTP/1.0 220 hello\r\n\r\n"),
        ])
        self.post(1)
        messages = [self.d.wait_event("sink_retry")["message"] for _ in range(4)]
        self.assertEqual(messages[0], "body limit exceeded")
        self.assertTrue(all(messages), messages)
        self.receiver.wait_for(lambda r: len(r.delivered()) == 1)
        self.assertEqual(len(self.receiver.requests), 5)
        # A Retry-After of 20 digits is capped at a day, not wrapped into a negative or tiny pause.
        self.receiver.set_default((503, {"Retry-After": "99999999999999999999"}))
        self.post(2)
        event = self.d.wait_event("sink_retry")
        self.assertTrue(event["message"].startswith("HTTP 503"), event)
        self.assertEqual(event["retry_in_ms"], 24 * 3600 * 1000)
        self.assertIsNone(self.d.proc.poll(), "the daemon is still running")
        self.assertEqual(self.d.get("/healthz")[0], 200)

    def test_permanent_refusal_is_dead_lettered_then_replayed(self):
        self.start(default=400)
        for n in range(3):
            self.post(n)
        for _ in range(3):
            self.d.wait_event("sink_dead_letter")  # logged once the dead letter is stored
        r = subprocess.run([BIN, "dlq", "list", "--sink", "hook", "--admin", f"127.0.0.1:{self.d.admin_port}",
                            "--token-file", self.d.token_file()],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        dead = json.loads(r.stdout)["dead_letters"]
        self.assertEqual(len(dead), 3)
        self.assertTrue(all(d["destination"] == "sink:hook" and d["error"].startswith("HTTP 400") for d in dead))
        shown = subprocess.run([BIN, "dlq", "show", "--id", str(dead[0]["id"]), "--admin",
                                f"127.0.0.1:{self.d.admin_port}", "--token-file", self.d.token_file()], capture_output=True, text=True, timeout=30)
        self.assertEqual(json.loads(shown.stdout)["lead"]["lead_id"], dead[0]["lead_id"])
        # The archive sink took all three: one sink's refusals do not hold back another.
        self.assertEqual(self.admin("GET", "/dlq?sink=archive")["dead_letters"], [])

        self.receiver.set_default(200)  # the receiver is fixed
        r = subprocess.run([BIN, "dlq", "replay", "--sink", "hook", "--admin", f"127.0.0.1:{self.d.admin_port}",
                            "--token-file", self.d.token_file()],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(json.loads(r.stdout), {"replayed": 3})
        self.receiver.wait_for(lambda r: len(r.delivered()) == 3)
        self.assertEqual(self.admin("GET", "/dlq?sink=hook")["dead_letters"], [])
        self.assertEqual(sorted(json.loads(b)["lead_id"] for _, b in self.receiver.delivered()),
                         sorted(d["lead_id"] for d in dead))

    def test_file_sink_rotates_and_keeps_every_lead(self):
        self.start(file_extra="    max_bytes: 4KiB\n    keep: 10\n    fsync: true\n")
        for n in range(12):
            self.post(n)
        self.receiver.wait_for(lambda r: len(r.delivered()) == 12)
        self.d.stop()
        folder = os.path.join(self.d.dir, "archive")
        files = sorted(os.listdir(folder))
        self.assertGreater(len(files), 1, "4 KiB holds a few leads: the file must have rotated")
        leads = []
        for name in files:
            with open(os.path.join(folder, name)) as f:
                for line in f:
                    leads.append(json.loads(line))
            self.assertLessEqual(os.path.getsize(os.path.join(folder, name)), 4096)
        self.assertEqual(len(leads), 12)
        self.assertEqual(len({x["lead_id"] for x in leads}), 12)
        self.assertEqual(schema_errors(leads), "")

    def test_untrusted_certificate_is_retried_not_accepted(self):
        self.receiver = Receiver(self.ca)
        self.d = Daemon(extra="")
        self.d.extra = sink_config(self.receiver.url, self.d.dir, ca=None)  # no ca_file: the test CA is unknown
        self.d.write_config()
        self.d.start()
        self.post(1)
        event = self.d.wait_event("sink_retry")
        self.assertIn("certificate verify failed", event["message"])
        self.assertEqual(self.receiver.delivered(), [])


class SinkConfigErrors(unittest.TestCase):
    def check(self, text):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "config.yaml")
            with open(path, "w") as f:
                f.write("state_dir: ./state\n"
                        "sources: [{name: a, path: /a, format: ms-marketplace, auth: {type: none}}]\n" + text)
            return subprocess.run([BIN, "check-config", path], capture_output=True, text=True, timeout=30)

    def test_mistakes_are_named(self):
        r = self.check("sinks:\n  - name: crm\n    type: webhok\n    url: https://x.example\n"
                       "  - name: arch\n    type: file\n    path: a.jsonl\n    max_byte: 1MiB\n"
                       "routes:\n  - name: all\n    to: [{sink: cmr}]\n")
        self.assertEqual(r.returncode, 78)
        self.assertIn("sinks[0].type: unknown sink type 'webhok'; did you mean 'webhook'?", r.stderr)
        self.assertIn("sinks[1].max_byte: unknown key 'max_byte'; did you mean 'max_bytes'?", r.stderr)
        self.assertIn("routes[0].to[0]: no sink named 'cmr'", r.stderr)

    def test_webhook_needs_a_secret(self):
        r = self.check("sinks:\n  - name: hook\n    type: webhook\n    url: https://x.example/h\n")
        self.assertEqual(r.returncode, 78)
        self.assertIn("give exactly one of secret_file or secret_env", r.stderr)


if __name__ == "__main__":
    unittest.main()


class SignedSource(unittest.TestCase):
    """A source with `auth: {type: hmac}` takes what a webhook sink sends: the signature is checked over the raw
    body with Python's own hmac module as the sender, including rotation and the ±5 min replay window."""

    def setUp(self):
        self.d = Daemon()
        self.d.write_config()
        with open(self.d.config) as f:
            text = f.read()
        with open(self.d.config, "w") as f:
            f.write(text.replace("      type: query_secret\n      param: code\n", "      type: hmac\n"))
        self.d.start()
        self.secret = self.d.secret

    def tearDown(self):
        self.d.close()

    def send(self, body, msg_id="msg_1", timestamp=None, key=None, signature=None):
        import hmac, hashlib, time as t
        ts = str(int(t.time()) if timestamp is None else timestamp)
        if signature is None:
            mac = hmac.new((key or self.secret).encode(), f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
            signature = "v1," + base64.b64encode(mac).decode()
        status, _, data = self.d.post(body, path="/leads/marketplace", headers={
            "webhook-id": msg_id, "webhook-timestamp": ts, "webhook-signature": signature})
        return status, data

    def test_signed_requests(self):
        import time as t
        self.assertEqual(self.send(lead(1))[0], 202)
        self.assertEqual(self.send(lead(2), signature="v1,AAAA v1," + "B" * 43 + "=")[0], 401)
        self.assertEqual(self.send(lead(3), key="not-the-secret-at-all")[0], 401)
        self.assertEqual(self.send(lead(4), timestamp=int(t.time()) - 600)[0], 401)  # outside ±5 min
        status, data = self.send(lead(5), signature="")
        self.assertEqual(status, 401)
        self.assertEqual(json.loads(data)["error"], "unauthorized")
        self.assertEqual(len(self.d.stored()), 1)
