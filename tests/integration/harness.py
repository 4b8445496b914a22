"""Drives the real leadrelay binary for integration tests: temp state, port 0, events read from its JSON logs.

Standard library only. Waits are on events (a log line, a socket closing, a process exiting), each with a
deadline, never on fixed sleeps.
"""
import http.client
import json
import os
import queue
import secrets
import signal
import socket
import sqlite3
import struct
import subprocess
import tempfile
import threading
import time
import unittest

BIN = os.environ.get("LEADRELAY_BIN", os.path.join(os.path.dirname(__file__), "../../build/leadrelay"))
CHECK_LEADS = os.environ.get("CHECK_LEADS_BIN", os.path.join(os.path.dirname(__file__), "../../build/tests/check_leads"))
SOURCE_DIR = os.environ.get("LEADRELAY_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "../.."))

SAMPLE_LEAD = {
    "UserDetails": {
        "FirstName": "Jane", "LastName": "Doe", "Email": "jane.doe@contoso.com", "Phone": "16175555555",
        "Country": "USA", "Company": "Contoso", "Title": "CTO",
    },
    "LeadSource": "AzureMarketplace-INS|contoso.analytics-pro",
    "ActionCode": "INS",
    "OfferTitle": "Contoso Analytics Pro",
    "Description": "Interested in a trial",
}


def lead(n):
    """A distinct lead body for person n."""
    body = json.loads(json.dumps(SAMPLE_LEAD))
    body["UserDetails"]["Email"] = f"person{n}@contoso.com"
    body["UserDetails"]["FirstName"] = f"Person{n}"
    return json.dumps(body).encode()


class Daemon:
    """One leadrelay process with its own folder, config, secret and state."""

    # Suites that are not about validation keep DNS off: no lookups leave the machine.
    DNS_OFF = "validation:\n  dns:\n    enabled: false\n"

    def __init__(self, server=None, journal=None, workdir=None, extra="", source_extra="", validation=DNS_OFF):
        self.tmp = None
        if workdir is None:
            self.tmp = tempfile.TemporaryDirectory(prefix="leadrelay-it-")
            workdir = self.tmp.name
        self.dir = workdir
        self.secret = secrets.token_hex(24)
        self.secret_file = os.path.join(self.dir, "marketplace.secret")
        if not os.path.exists(self.secret_file):
            with open(self.secret_file, "w") as f:
                f.write(self.secret + "\n")
        else:
            with open(self.secret_file) as f:
                self.secret = f.read().strip()
        # One admin token per role, in files beside the config (admin.tokens).
        self.tokens = {}
        for role in ("operator", "viewer", "referrals_admin"):
            path = os.path.join(self.dir, f"{role}.token")
            if not os.path.exists(path):
                with open(path, "w") as f:
                    f.write(secrets.token_hex(20) + "\n")
            with open(path) as f:
                self.tokens[role] = f.read().strip()
        self.server = {"listen": ["127.0.0.1:0"], "header_timeout": "2s", "body_timeout": "2s",
                       "idle_timeout": "5s", "shutdown_grace": "5s"}
        self.server.update(server or {})
        self.journal = journal or {}
        self.extra = extra  # raw YAML appended to the config (kafka, outbox, routes)
        self.source_extra = source_extra  # raw YAML keys added to the source (4-space indent)
        self.validation = validation  # raw YAML: the validation section
        self.admin_extra = ""  # raw YAML keys added to the admin section (2-space indent)
        self.config = os.path.join(self.dir, "leadrelay.yaml")
        self.write_config()
        self.proc = None
        self.events = queue.Queue()
        self.lines = []
        self.port = None
        self.admin_port = None

    def write_config(self):
        def block(name, values):
            out = [f"{name}:"]
            for k, v in values.items():
                out.append(f"  {k}: {json.dumps(v)}")
            return "\n".join(out) + "\n"

        text = ("state_dir: ./state\n" + block("server", self.server) +
                'admin:\n  listen: "127.0.0.1:0"\n  tokens:\n' +
                "".join(f"    - {{name: {role}-token, role: {role}, token_file: {role}.token}}\n"
                        for role in ("operator", "viewer", "referrals_admin")) +
                self.admin_extra)
        if self.journal:
            text += block("journal", self.journal)
        text += ("logging:\n  level: debug\n"
                 "sources:\n"
                 "  - name: marketplace\n"
                 "    path: /leads/marketplace\n"
                 "    format: ms-marketplace\n"
                 "    auth:\n"
                 "      type: query_secret\n"
                 "      param: code\n"
                 "      secret_file: marketplace.secret\n")
        text += self.source_extra
        text += self.validation
        text += self.extra
        with open(self.config, "w") as f:
            f.write(text)

    @property
    def db_path(self):
        return os.path.join(self.dir, "state", "leadrelay.db")

    @property
    def lead_path(self):
        return f"/leads/marketplace?code={self.secret}"

    def start(self, timeout=20, clock_offset=None, env_extra=None):
        """Starts the daemon; `clock_offset` ("25h") moves its wall clock forward: an injected clock."""
        self.events = queue.Queue()
        env = dict(os.environ)
        env.pop("LEADRELAY_CLOCK_OFFSET", None)
        if clock_offset:
            env["LEADRELAY_CLOCK_OFFSET"] = clock_offset
        env.update(env_extra or {})
        self.proc = subprocess.Popen([BIN, "run", "--config", self.config], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, env=env)
        threading.Thread(target=self._read_logs, args=(self.proc, self.events), daemon=True).start()
        event = self.wait_event("listening", timeout)
        self.port = int(event["address"].rsplit(":", 1)[1])
        return self

    def _read_logs(self, proc, events):
        for raw in proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.lines.append(line)
            try:
                event = json.loads(line)
                if event.get("event") == "admin_listening":
                    self.admin_port = int(event["address"].rsplit(":", 1)[1])
                events.put(event)
            except ValueError:
                events.put({"event": "unparsed", "line": line})
        proc.stderr.close()
        events.put({"event": "exited"})

    def wait_event(self, name, timeout=20):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no '{name}' log event within {timeout}s; log so far:\n" + "\n".join(self.lines))
            try:
                event = self.events.get(timeout=left)
            except queue.Empty:
                continue
            if event.get("event") == name:
                return event
            if event.get("event") == "exited" and name != "exited":
                raise RuntimeError(f"leadrelay exited while waiting for '{name}':\n" + "\n".join(self.lines))

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc is None:
            return None
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout)
        self.proc = None
        return code

    def kill9(self):
        self.proc.kill()
        self.proc.wait(10)
        self.proc = None

    def rss_kib(self, field="VmRSS"):
        """The daemon's resident memory (VmRSS) or its peak (VmHWM), in KiB."""
        with open(f"/proc/{self.proc.pid}/status") as f:
            return int(next(line for line in f if line.startswith(field + ":")).split()[1])

    def close(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None
        if self.tmp is not None:
            self.tmp.cleanup()

    # --- clients ---
    def connection(self, timeout=10):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def post(self, body, path=None, content_type="application/json", headers=None, conn=None):
        own = conn is None
        conn = conn or self.connection()
        h = {"Content-Type": content_type} if content_type else {}
        h.update(headers or {})
        conn.request("POST", path or self.lead_path, body=body, headers=h)
        resp = conn.getresponse()
        data = resp.read()
        result = (resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
        if own:
            conn.close()
        return result

    def token_file(self, role="operator"):
        return os.path.join(self.dir, f"{role}.token")

    def admin(self, method, path, body=None, role="operator", headers=None, timeout=30):
        """One request to the admin listener with the role's token (role None: no token); (status, headers, body)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.admin_port, timeout=timeout)
        h = dict(headers or {})
        if role is not None:
            h["Authorization"] = f"Bearer {self.tokens[role]}"
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            h.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=body, headers=h)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data

    def admin_json(self, method, path, body=None, role="operator", headers=None, expect=200):
        status, h, data = self.admin(method, path, body, role, headers)
        if status != expect:
            raise AssertionError(f"{method} {path}: {status} (expected {expect}): {data[:500]!r}")
        return json.loads(data) if data and h.get("content-type", "").startswith("application/json") else data

    def get(self, path):
        conn = self.connection()
        conn.request("GET", path)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, data

    def raw(self, data, read_timeout=10):
        """Sends raw bytes, returns everything the server sends back until it closes (or the timeout)."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=read_timeout)
        try:
            s.sendall(data)
            return read_until_close(s)
        finally:
            s.close()

    # --- the store, read as an independent client would ---
    def intake_log_drained(self, timeout=30, or_store_refuses=False):
        """Waits (the daemon running) until the intake log holds no lead that is not yet in the store: a 202 means
        durable in the log, and the log's mover brings the lead into the store a moment later. With
        `or_store_refuses`, also stops once /readyz says the store refuses writes (the leads then wait in the log);
        returns whether the log drained."""
        deadline = time.monotonic() + timeout
        while True:
            status, _, data = self.admin("GET", "/status")
            if status == 200 and json.loads(data)["backlog"]["leads_in_intake_log"] == 0:
                return True
            if or_store_refuses and self.get("/readyz")[0] == 503:
                return False
            if time.monotonic() > deadline:
                raise TimeoutError(f"the intake log still holds leads after {timeout}s: {data[:300]!r}")
            time.sleep(0.02)  # the mover writes no event per lead; /status is the thing to watch

    def in_intake_log(self):
        """{lead_id: raw body} for every whole record in the intake log (state_dir/intake-log), read from its files
        as the format in daemon/store/intake_log.hpp says: [u32 length][u32 CRC-32C][payload], little-endian. Records
        already moved into the store stay until their whole segment is deleted, so this is a superset of what waits."""
        out = {}
        directory = os.path.join(os.path.dirname(self.db_path), "intake-log")
        for name in sorted(os.listdir(directory)) if os.path.isdir(directory) else []:
            with open(os.path.join(directory, name), "rb") as f:
                data = f.read()
            pos = 0
            while pos + 8 <= len(data):
                length, crc = struct.unpack_from("<II", data, pos)
                if (length == 0 and crc == 0) or pos + 8 + length > len(data):
                    break
                payload, fields, p = data[pos + 8:pos + 8 + length], [], 25  # version, write start, two times
                for _ in range(5):  # lead id, source, format, redelivery key, raw body
                    n = struct.unpack_from("<I", payload, p)[0]
                    fields.append(payload[p + 4:p + 4 + n])
                    p += 4 + n
                out[fields[0].decode()] = fields[4]
                pos += 8 + length
        return out

    def stored(self, routed=False, timeout=30, drained=True):
        """{lead_id: (count, raw body, mapped lead or None)} for every row in the journal. The journal keeps the raw
        body; the mapped lead is the one the pipeline wrote beside it. With the daemon running this first waits until
        the intake log has moved every lead into the store (drained=False: read the store as it is); routed=True also
        waits until the pipeline has mapped every row."""
        if drained and self.proc is not None and self.proc.poll() is None:
            self.intake_log_drained(timeout)
        deadline = time.monotonic() + timeout
        while True:
            db = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=10)
            try:
                rows = db.execute("SELECT l.lead_id, l.raw, r.lead FROM leads l LEFT JOIN routed r ON r.seq = l.seq"
                                  ).fetchall()
            finally:
                db.close()
            if not routed or all(lead_json is not None for _, _, lead_json in rows):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"the pipeline did not map every stored lead within {timeout}s")
            time.sleep(0.05)  # the pipeline writes no event per lead; the store is the thing to watch
        out = {}
        for lead_id, raw, lead_json in rows:
            count = out[lead_id][0] + 1 if lead_id in out else 1
            out[lead_id] = (count, bytes(raw), json.loads(lead_json) if lead_json is not None else None)
        return out


def query(db_path, sql, args=()):
    """Rows of one query on the store, read-only (safe beside the running daemon)."""
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


class DevBroker:
    """`leadrelay dev-broker` as its own process: a mock Kafka cluster on loopback."""

    def __init__(self, brokers=1, port=None, produce_errors=0):
        args = [BIN, "dev-broker", "--brokers", str(brokers)] + (["--port", str(port)] if port else [])
        args += ["--produce-errors", str(produce_errors)] if produce_errors else []
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.bootstrap = self.proc.stdout.readline().decode().strip()
        if not self.bootstrap:
            raise RuntimeError("dev-broker printed no bootstrap address: " + self.proc.stderr.read().decode())
        self.events = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for raw in self.proc.stderr:
            try:
                self.events.put(json.loads(raw))
            except ValueError:
                pass

    def _signal(self, sig, event):
        self.proc.send_signal(sig)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if self.events.get(timeout=deadline - time.monotonic()).get("event") == event:
                    return
            except queue.Empty:
                break
        raise TimeoutError(f"dev-broker did not log {event}")

    def down(self):
        self._signal(signal.SIGUSR1, "dev_broker_down")

    def up(self):
        self._signal(signal.SIGUSR2, "dev_broker_up")

    def close(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.proc.stdout.close()
        self.proc.stderr.close()


def consume(bootstrap, topic, count=None, timeout=60):
    """Reads a topic from the beginning with kcat (an independent client): with `count`, waits until that many
    messages arrived; without, reads to the end. Returns [(key, headers, payload dict)]."""
    args = ["kcat", "-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-J", "-q"]
    args += ["-c", str(count)] if count is not None else ["-e"]
    r = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    messages = []
    for line in r.stdout.splitlines():
        m = json.loads(line)
        h = m.get("headers") or []
        headers = dict(zip(h[0::2], h[1::2]))
        messages.append((m.get("key"), headers, json.loads(m["payload"])))
    return messages


def kafka_config(bootstrap, routes, outbox=""):
    return f"kafka:\n  brokers: \"{bootstrap}\"\n" + outbox + "routes:\n" + routes


def schema_errors(leads):
    """Checks lead.v1 documents with tests/support/check_leads (RapidJSON's draft-04 validator); '' when all valid."""
    text = "".join(json.dumps(lead_json) + "\n" for lead_json in leads)
    r = subprocess.run([CHECK_LEADS], input=text, capture_output=True, text=True, timeout=60)
    return "" if r.returncode == 0 else r.stdout


def read_until_close(s):
    chunks = []
    while True:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            break
        except socket.timeout:
            chunks.append(b"<timeout>")
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def read_response(s):
    """Reads exactly one HTTP response (head and Content-Length body) from a socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = s.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def status_of(response_bytes):
    """The status code of the first HTTP response in raw bytes, or None when the server sent nothing."""
    if not (response_bytes.startswith(b"HTTP/1.1 ") or response_bytes.startswith(b"HTTP/1.0 ")):
        return None
    return int(response_bytes[9:12])


def json_body_of(response_bytes):
    head, _, body = response_bytes.partition(b"\r\n\r\n")
    length = None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return json.loads(body[:length] if length is not None else body)


class WithKafka(unittest.TestCase):
    """A dev-broker and a daemon publishing to it along `routes` (YAML list items), fresh for each test."""

    routes = "  - name: all\n    to: [{kafka: leads.all}]\n"

    def setUp(self):
        self.broker = DevBroker()
        self.d = Daemon(extra=kafka_config(self.broker.bootstrap, self.routes)).start()

    def tearDown(self):
        self.d.close()
        self.broker.close()
