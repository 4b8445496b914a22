"""TLS in the listener, with the real binary: leads over HTTPS (a test CA made by the openssl CLI, Python's ssl as the
client), TLS 1.2 or newer with forward-secret AEAD suites only, plain HTTP and TLS 1.1 refused, the certificate reloaded
on SIGHUP (a broken one keeps the old in use), client certificates required when the listener names a client CA, and a
clear exit when the certificate cannot be loaded at start."""
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import unittest
import warnings

from emulators import TestCA
from harness import BIN, Daemon, lead, read_until_close


class Tls(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.ca = TestCA(self.tmp.name)
        self.d = None

    def tearDown(self):
        if self.d:
            self.d.close()
        self.tmp.cleanup()

    def start(self, **server):
        # The daemon reads its own copies, so a test can replace them and send SIGHUP.
        cert = os.path.join(self.tmp.name, "listener.pem")
        key = os.path.join(self.tmp.name, "listener.key")
        shutil.copy(self.ca.cert, cert)
        shutil.copy(self.ca.key, key)
        config = {"tls_cert_file": cert, "tls_key_file": key}
        config.update(server)
        self.d = Daemon(server=config)
        self.d.start()
        return cert, key

    def context(self, client_cert=None, maximum=None):
        ctx = ssl.create_default_context(cafile=self.ca.ca_cert)
        if maximum is not None:
            ctx.maximum_version = maximum
        if client_cert:
            ctx.load_cert_chain(*client_cert)
        return ctx

    def post(self, body, ctx=None):
        conn = http.client.HTTPSConnection("127.0.0.1", self.d.port, context=ctx or self.context(), timeout=10)
        try:
            conn.request("POST", self.d.lead_path, body=body, headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            return resp.status, json.loads(resp.read() or b"{}"), conn.sock.version(), conn.sock.cipher()[0]
        finally:
            conn.close()

    def peer_serial(self):
        with socket.create_connection(("127.0.0.1", self.d.port), timeout=10) as raw:
            with self.context().wrap_socket(raw, server_hostname="localhost") as s:
                return int(s.getpeercert()["serialNumber"], 16)

    def test_leads_over_tls(self):
        self.start()
        status, body, version, _ = self.post(lead(1))
        self.assertEqual(status, 202, body)
        self.assertIn(version, ("TLSv1.2", "TLSv1.3"))
        self.assertIn(body["lead_id"], self.d.stored())
        # keep-alive over one TLS connection
        conn = http.client.HTTPSConnection("127.0.0.1", self.d.port, context=self.context(), timeout=10)
        for n in range(2, 5):
            conn.request("POST", self.d.lead_path, body=lead(n), headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            resp.read()
            self.assertEqual(resp.status, 202)
        conn.request("GET", "/readyz")
        self.assertEqual(conn.getresponse().status, 200)
        conn.close()
        self.assertEqual(len(self.d.stored()), 4)

    def test_tls12_uses_forward_secret_aead_suites(self):
        self.start()
        status, _, version, cipher = self.post(lead(1), self.context(maximum=ssl.TLSVersion.TLSv1_2))
        self.assertEqual((status, version), (202, "TLSv1.2"))
        self.assertTrue(cipher.startswith("ECDHE-") and ("GCM" in cipher or "CHACHA20" in cipher), cipher)
        # A client offering only CBC suites without forward secrecy finds nothing in common.
        ctx = self.context(maximum=ssl.TLSVersion.TLSv1_2)
        ctx.set_ciphers("AES128-SHA:AES256-SHA:AES128-SHA256")
        with self.assertRaises(ssl.SSLError):
            self.post(lead(2), ctx)

    def test_old_protocols_and_plain_http_refused(self):
        self.start()
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.set_ciphers("ALL:@SECLEVEL=0")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # offering them is the point
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        with self.assertRaises((ssl.SSLError, ConnectionError)):
            self.post(lead(1), ctx)
        # Plain HTTP on the TLS port: no HTTP answer, the connection closes.
        with socket.create_connection(("127.0.0.1", self.d.port), timeout=10) as s:
            s.sendall(b"POST " + self.d.lead_path.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                      b"\r\nContent-Length: 2\r\n\r\n{}")
            answer = read_until_close(s)
        self.assertFalse(answer.startswith(b"HTTP/"), answer[:80])
        self.assertEqual(self.d.stored(), {})
        # The listener still serves TLS afterwards.
        self.assertEqual(self.post(lead(2))[0], 202)

    def test_certificate_reloaded_on_sighup(self):
        cert, key = self.start()
        first = self.peer_serial()
        new_cert, new_key = self.ca.issue("server2", "/CN=localhost",
                                          "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n")
        shutil.copy(new_cert, cert)
        shutil.copy(new_key, key)
        self.d.proc.send_signal(signal.SIGHUP)
        self.d.wait_event("tls_reloaded")
        second = self.peer_serial()
        self.assertNotEqual(first, second)
        self.assertEqual(self.post(lead(1))[0], 202)

        # A broken certificate is refused; the one in use stays.
        with open(cert, "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n")
        self.d.proc.send_signal(signal.SIGHUP)
        event = self.d.wait_event("tls_reload_failed")
        self.assertIn("listener.pem", event["message"])
        self.assertEqual(self.peer_serial(), second)
        self.assertEqual(self.post(lead(2))[0], 202)

    def test_client_certificate_required_when_configured(self):
        self.start(tls_client_ca_file=self.ca.ca_cert)
        partner = self.ca.issue("partner", "/CN=partner-client", "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n")
        status, body, _, _ = self.post(lead(1), self.context(client_cert=partner))
        self.assertEqual(status, 202, body)

        # No certificate, or one from another CA: the handshake fails (with TLS 1.3 the refusal may only be seen
        # on the first read), and nothing is stored.
        other = TestCA(tempfile.mkdtemp(dir=self.tmp.name), name="someone else")
        stranger = other.issue("stranger", "/CN=stranger", "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n")
        for ctx in (self.context(), self.context(client_cert=stranger)):
            with self.assertRaises((ssl.SSLError, ConnectionError, http.client.RemoteDisconnected)):
                self.post(lead(2), ctx)
        self.assertEqual(len(self.d.stored()), 1)

    def test_unloadable_certificate_stops_start(self):
        bad = os.path.join(self.tmp.name, "bad.pem")
        with open(bad, "w") as f:
            f.write("garbage\n")
        d = Daemon(server={"tls_cert_file": bad, "tls_key_file": self.ca.key})
        try:
            proc = subprocess.run([BIN, "run", "--config", d.config], capture_output=True, timeout=30)
            self.assertEqual(proc.returncode, 78, proc.stderr)
            self.assertIn(b"tls_failed", proc.stderr)
            self.assertIn(b"bad.pem", proc.stderr)
            # A key without a certificate is a config error naming the key.
            d.server = {"listen": ["127.0.0.1:0"], "tls_key_file": self.ca.key}
            d.write_config()
            proc = subprocess.run([BIN, "check-config", d.config], capture_output=True, timeout=30)
            self.assertNotEqual(proc.returncode, 0)
            self.assertIn(b"tls_cert_file", proc.stdout + proc.stderr)
        finally:
            d.close()


class AdminTls(unittest.TestCase):
    """The admin listener over TLS: the leads API and the command line (which trusts the configured certificate)."""

    def test_admin_listener_serves_https_only(self):
        with tempfile.TemporaryDirectory() as tmp:
            ca = TestCA(tmp)
            d = Daemon()
            try:
                d.admin_extra = f'  tls_cert_file: "{ca.cert}"\n  tls_key_file: "{ca.key}"\n'
                d.write_config()
                d.start()
                ctx = ssl.create_default_context(cafile=ca.ca_cert)
                conn = http.client.HTTPSConnection("127.0.0.1", d.admin_port, context=ctx, timeout=10)
                conn.request("GET", "/api/v1/leads", headers={"Authorization": f"Bearer {d.tokens['viewer']}"})
                resp = conn.getresponse()
                self.assertEqual((resp.status, json.loads(resp.read())["leads"]), (200, []))
                self.assertIn(conn.sock.version(), ("TLSv1.2", "TLSv1.3"))
                conn.close()
                # Plain HTTP gets no answer.
                s = socket.create_connection(("127.0.0.1", d.admin_port), timeout=10)
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                self.assertFalse(read_until_close(s).startswith(b"HTTP/1.1 200"))
                s.close()
                r = subprocess.run([BIN, "status", "--config", d.config, "--admin", f"127.0.0.1:{d.admin_port}",
                                    "--token-file", d.token_file()], capture_output=True, text=True, timeout=30)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn("config_hash", json.loads(r.stdout))
            finally:
                d.close()


if __name__ == "__main__":
    unittest.main()
