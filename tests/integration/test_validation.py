"""Contact validation with real processes: a real DNS server (dnsmasq) on loopback with test zones answers the
daemon's and `leadrelay validate`'s MX lookups; a silent UDP socket plays a server that never answers; the
spam list is reloaded on SIGHUP; verdicts reach Kafka inside lead.v1 and drive routes."""
import json
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.request

from harness import BIN, SAMPLE_LEAD, Daemon, DevBroker, consume, kafka_config, schema_errors

ZONE = "lrtest.com"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DnsServer:
    """dnsmasq answering only from its own records (no upstream), logging every query it receives."""

    def __init__(self, ttl=300):
        self.port = free_port()
        self.lines = []
        self.cond = threading.Condition()
        args = ["dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", "--no-poll", "--bind-interfaces",
                "--listen-address=127.0.0.1", f"--port={self.port}", "--pid-file=", "--user=root", "--group=root",
                "--log-queries", "--log-facility=-", f"--local-ttl={ttl}", f"--local=/{ZONE}/",
                # MX: a domain that takes mail
                f"--mx-host=mx.{ZONE},mail.mx.{ZONE},10", f"--host-record=mail.mx.{ZONE},127.0.0.10",
                # A only: mail goes to the A record (implicit MX)
                f"--host-record=aonly.{ZONE},127.0.0.11",
                # null MX (RFC 7505): "MX 0 ." as raw RDATA, beside an A record that must not count
                f"--dns-rr=nullmx.{ZONE},15,000000", f"--host-record=nullmx.{ZONE},127.0.0.12",
                # a name with neither MX nor A/AAAA
                f"--txt-record=nomail.{ZONE},hello"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._read, daemon=True).start()
        self.wait_for("started", 10)

    def _read(self):
        for line in self.proc.stderr:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()

    def wait_for(self, text, timeout=10):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not any(text in line for line in self.lines):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"dnsmasq never logged {text!r}:\n" + "\n".join(self.lines))
                self.cond.wait(left)

    def queries(self, qtype, name):
        with self.cond:
            return sum(1 for line in self.lines if f"query[{qtype}] {name} " in line)

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def close(self):
        self.proc.terminate()
        self.proc.wait(10)


def validate(*args, stdin=None):
    r = subprocess.run([BIN, "validate", *args], input=stdin, capture_output=True, text=True, timeout=60)
    return r


def email_verdict(output_line):
    v = json.loads(output_line)["email_check"]
    return v["verdict"], v["reasons"]


class ValidateCommandWithDns(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dns = DnsServer()

    @classmethod
    def tearDownClass(cls):
        cls.dns.close()

    def test_mail_acceptance_from_real_dns(self):
        cases = {
            f"jane@mx.{ZONE}": ("Valid", []),
            f"jane@aonly.{ZONE}": ("Valid", []),
            f"jane@nullmx.{ZONE}": ("Invalid", ["null_mx"]),
            f"jane@nomail.{ZONE}": ("Invalid", ["no_mail_host"]),
            f"jane@nxdomain.{ZONE}": ("Invalid", ["no_such_domain"]),
            "jane@outside-the-zone.com": ("Unknown", ["dns_failure"]),  # dnsmasq refuses: never Invalid
        }
        for email, expected in cases.items():
            with self.subTest(email=email):
                r = validate("--dns-server", self.dns.address, "--email", email)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(email_verdict(r.stdout), expected)
        # The implicit-MX path asked MX first, then A.
        self.assertEqual(self.dns.queries("MX", f"aonly.{ZONE}"), 1)
        self.assertEqual(self.dns.queries("A", f"aonly.{ZONE}"), 1)
        # A null MX settles it: no A lookup.
        self.assertEqual(self.dns.queries("A", f"nullmx.{ZONE}"), 0)

    def test_repeated_domain_is_answered_from_the_cache(self):
        p = subprocess.Popen([BIN, "validate", "--dns-server", self.dns.address], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
        try:
            # One line at a time: the second is written only after the first was answered.
            for person in ("ann", "bob"):
                p.stdin.write(json.dumps({"email": f"{person}@cache.mx.{ZONE}"}) + "\n")
                p.stdin.flush()
                self.assertEqual(email_verdict(p.stdout.readline())[0], "Invalid")  # no such name in the zone
            # A domain never asked before, afterwards: once dnsmasq logged it, it has logged everything before it.
            # (A name other tests ask too could match a line they left in the shared log.)
            sentinel = f"sentinel{os.getpid()}x{time.monotonic_ns()}.{ZONE}"
            p.stdin.write(json.dumps({"email": f"zed@{sentinel}"}) + "\n")
            p.stdin.flush()
            p.stdout.readline()
            self.dns.wait_for(f"query[MX] {sentinel}")
        finally:
            p.stdin.close()
            p.wait(10)
        self.assertEqual(self.dns.queries("MX", f"cache.mx.{ZONE}"), 1, "\n".join(self.dns.lines))

    def test_cached_answers_expire_with_their_ttl(self):
        """Answers are kept for their TTL: with a 1 s TTL (and negative_ttl 1 s) a lookup 1.5 s later asks again."""
        short = DnsServer(ttl=1)
        with tempfile.TemporaryDirectory() as d:
            config = os.path.join(d, "config.yaml")
            with open(config, "w") as f:
                f.write("state_dir: ./state\n"
                        "sources: [{name: a, path: /a, format: ms-marketplace, auth: {type: none}}]\n"
                        f"validation:\n  dns:\n    servers: [\"{short.address}\"]\n    negative_ttl: 1s\n")
            p = subprocess.Popen([BIN, "validate", "--config", config], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True)
            try:
                def ask(email):
                    p.stdin.write(json.dumps({"email": email}) + "\n")
                    p.stdin.flush()
                    return email_verdict(p.stdout.readline())[0]
                self.assertEqual(ask(f"a@mx.{ZONE}"), "Valid")
                self.assertEqual(ask(f"a@gone.{ZONE}"), "Invalid")
                self.assertEqual(ask(f"b@mx.{ZONE}"), "Valid")      # within the TTL: cached
                self.assertEqual(ask(f"b@gone.{ZONE}"), "Invalid")
                time.sleep(1.5)  # the passing of time is what is under test: let both TTLs run out
                self.assertEqual(ask(f"c@mx.{ZONE}"), "Valid")
                self.assertEqual(ask(f"c@gone.{ZONE}"), "Invalid")
                short.wait_for(f"query[MX] gone.{ZONE}")
            finally:
                p.stdin.close()
                p.wait(10)
                short.close()
        self.assertEqual(short.queries("MX", f"mx.{ZONE}"), 2, "\n".join(short.lines))
        self.assertEqual(short.queries("MX", f"gone.{ZONE}"), 2, "\n".join(short.lines))

    def test_server_that_never_answers_gives_unknown_within_the_deadline(self):
        silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        silent.bind(("127.0.0.1", 0))
        with tempfile.TemporaryDirectory() as d, silent:
            config = os.path.join(d, "config.yaml")
            with open(config, "w") as f:
                f.write("state_dir: ./state\n"
                        "sources: [{name: a, path: /a, format: ms-marketplace, auth: {type: none}}]\n"
                        "validation:\n  dns:\n"
                        f"    servers: [\"127.0.0.1:{silent.getsockname()[1]}\"]\n"
                        "    timeout: 300ms\n")
            started = time.monotonic()
            r = validate("--config", config, "--email", "jane@contoso.com")
            elapsed = time.monotonic() - started
            # The query did reach the silent server.
            silent.settimeout(1)
            self.assertTrue(silent.recv(512))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(email_verdict(r.stdout), ("Unknown", ["dns_timeout"]))
        # The deadline is 300 ms; the whole process (start, lookup, exit) stays well inside 3 s.
        self.assertLess(elapsed, 3.0)


class ValidateCommandBatch(unittest.TestCase):
    def test_batch_file_one_verdict_per_line(self):
        lines = [
            {"email": "Jane.Doe@Contoso.com", "phone": "+49 30 12345678", "country": "DE"},
            {"email": "throwaway@mailinator.com"},
            {"email": "jane..doe@contoso.com"},
            {"email": "info@contoso.com", "phone": "(650) 253-0000", "country": "US"},
            {"phone": "12", "country": "US", "first_name": "asdf"},
            {"email": "ceo@m\u00fcnchen.de", "phone": "+44 20 7946 0958", "country": "DE"},
        ]
        with tempfile.NamedTemporaryFile("w+", suffix=".jsonl") as f:
            f.write("\n".join(json.dumps(x) for x in lines) + "\n")
            f.flush()
            f.seek(0)
            r = subprocess.run([BIN, "validate", "--no-dns"], stdin=f, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = [json.loads(line) for line in r.stdout.splitlines()]
        self.assertEqual(len(out), len(lines))
        self.assertEqual(out[0]["email_check"]["normalized"], "jane.doe@contoso.com")
        self.assertEqual(out[0]["email_check"]["verdict"], "Unknown")  # DNS off
        self.assertEqual(out[0]["phone_check"]["e164"], "+493012345678")
        self.assertEqual(out[0]["quality"], "High")
        self.assertEqual((out[1]["email_check"]["verdict"], out[1]["quality"]), ("Spam", "Low"))
        self.assertEqual(out[1]["email_check"]["reasons"], ["disposable_domain"])
        self.assertEqual(out[2]["email_check"]["reasons"], ["local_part_dots"])
        self.assertTrue(out[3]["email_check"]["role_mailbox"])
        self.assertEqual(out[3]["phone_check"]["type"], "fixed_line_or_mobile")
        self.assertEqual(out[4]["phone_check"]["verdict"], "Invalid")
        self.assertEqual(sorted(out[4]["quality_reasons"]), ["phone_invalid", "placeholder_name"])
        self.assertEqual(out[5]["email_check"]["normalized"], "ceo@xn--mnchen-3ya.de")
        self.assertEqual(out[5]["quality_reasons"], ["phone_country_mismatch"])

    def test_bad_line_is_reported_and_the_rest_answered(self):
        r = validate("--no-dns", stdin='{"email": "a@contoso.com"}\n[1, 2]\n{"email": "b@contoso.com"}\n')
        self.assertEqual(r.returncode, 65)
        out = r.stdout.splitlines()
        self.assertEqual(len(out), 3)
        self.assertIn("line 2", json.loads(out[1])["error"])


def marketplace_lead(email, phone="16175555555", first="Jane"):
    body = json.loads(json.dumps(SAMPLE_LEAD))
    body["UserDetails"].update({"Email": email, "Phone": phone, "FirstName": first, "LastName": "Rivera"})
    return json.dumps(body).encode()


ROUTES = """  - name: low
    when: {quality: Low}
    to: [{kafka: leads.low}]
  - name: good
    to: [{kafka: leads.good}]
"""


class DaemonValidation(unittest.TestCase):
    def setUp(self):
        self.broker = DevBroker()
        self.tmp = tempfile.TemporaryDirectory()
        self.spam_list = os.path.join(self.tmp.name, "spam.txt")
        with open(self.spam_list, "w") as f:
            f.write("# our own spam list\nknown-spammer.com\n")

    def tearDown(self):
        self.d.close()
        self.broker.close()
        self.tmp.cleanup()

    def start(self, validation):
        self.d = Daemon(extra=kafka_config(self.broker.bootstrap, ROUTES), validation=validation).start()

    def post(self, body):
        status, _, _ = self.d.post(body)
        self.assertEqual(status, 202)

    def test_verdicts_from_dns_reach_kafka_and_drive_routes(self):
        dns = DnsServer()
        try:
            self.start(f"validation:\n  dns:\n    servers: [\"{dns.address}\"]\n    timeout: 1s\n")
            self.post(marketplace_lead(f"jane@mx.{ZONE}"))                  # Valid, High
            self.post(marketplace_lead(f"joe@nullmx.{ZONE}"))               # Invalid (null MX), Low
            self.post(marketplace_lead("spam@mailinator.com"))               # Spam, Low
            self.post(marketplace_lead(f"kim@aonly.{ZONE}", first="test"))  # Valid, Low (placeholder name)
            good = consume(self.broker.bootstrap, "leads.good", count=1)
            low = consume(self.broker.bootstrap, "leads.low", count=3)
        finally:
            dns.close()
        self.assertEqual(schema_errors([m[2] for m in good + low]), "")
        g = good[0][2]
        self.assertEqual((g["email_check"]["verdict"], g["quality"]), ("Valid", "High"))
        self.assertEqual(g["phone_check"]["e164"], "+16175555555")
        by_email = {m[2]["contact"]["email"]: m[2] for m in low}
        self.assertEqual(by_email[f"joe@nullmx.{ZONE}"]["email_check"]["reasons"], ["null_mx"])
        self.assertEqual(by_email[f"joe@nullmx.{ZONE}"]["quality_reasons"], ["email_invalid"])
        self.assertEqual(by_email["spam@mailinator.com"]["email_check"]["verdict"], "Spam")
        self.assertEqual(by_email[f"kim@aonly.{ZONE}"]["email_check"]["verdict"], "Valid")
        self.assertEqual(by_email[f"kim@aonly.{ZONE}"]["quality_reasons"], ["placeholder_name"])
        # The throwaway domain was never looked up.
        self.assertEqual(dns.queries("MX", "mailinator.com"), 0)
        with urllib.request.urlopen(f"http://127.0.0.1:{self.d.admin_port}/metrics", timeout=10) as r:
            metrics = r.read().decode()
        for line in ('leadrelay_email_verdicts_total{verdict="Valid"} 2', 'leadrelay_email_verdicts_total{verdict="Spam"} 1',
                     'leadrelay_email_verdicts_total{verdict="Invalid"} 1', 'leadrelay_lead_quality_total{quality="Low"} 3',
                     'leadrelay_dns_lookups_total{result="null_mx"} 1'):
            self.assertIn(line, metrics)

    def test_spam_list_is_reloaded_on_sighup(self):
        self.start(f"validation:\n  spam_lists: [\"{self.spam_list}\"]\n  dns:\n    enabled: false\n")
        self.post(marketplace_lead("a@known-spammer.com"))
        self.post(marketplace_lead("b@mail.new-spammer.com"))
        low = consume(self.broker.bootstrap, "leads.low", count=1)
        good = consume(self.broker.bootstrap, "leads.good", count=1)
        self.assertEqual(low[0][2]["email_check"]["reasons"], ["spam_domain"])
        self.assertEqual(good[0][2]["email_check"]["verdict"], "Unknown")  # DNS off: no verdict on mail acceptance

        with open(self.spam_list, "a") as f:
            f.write("new-spammer.com\n")
        self.d.proc.send_signal(signal.SIGHUP)
        self.d.wait_event("reload_applied")
        self.post(marketplace_lead("c@sub.new-spammer.com"))
        low = consume(self.broker.bootstrap, "leads.low", count=2)
        self.assertEqual(sorted(m[2]["contact"]["email"] for m in low), ["a@known-spammer.com", "c@sub.new-spammer.com"])
        self.assertEqual(low[1][2]["email_check"]["verdict"], "Spam")

    def test_unreadable_list_is_a_config_error(self):
        with tempfile.TemporaryDirectory() as d:
            config = os.path.join(d, "config.yaml")
            with open(config, "w") as f:
                f.write("state_dir: ./state\n"
                        "sources: [{name: a, path: /a, format: ms-marketplace, auth: {type: none}}]\n"
                        "validation:\n  spam_lists: [missing.txt]\n"
                        "  quality:\n    low_when: [email_invalid, phone_invlid]\n")
            r = subprocess.run([BIN, "check-config", config], capture_output=True, text=True, timeout=30)
        self.d = Daemon()  # for tearDown
        self.assertEqual(r.returncode, 78)
        self.assertIn("config.yaml:4:15: validation.spam_lists: cannot read list file", r.stderr)
        self.assertIn("validation.quality.low_when: unknown quality reason 'phone_invlid'; did you mean 'phone_invalid'?",
                      r.stderr)


if __name__ == "__main__":
    unittest.main()
