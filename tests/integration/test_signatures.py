"""Partner Center signed webhooks with the real binary: the body signed with RSA-SHA256 by `openssl dgst -sign`
(independent of leadrelay), the signing certificate issued by a test CA and served over HTTPS by a certificate host.
Accepted when the signature, chain, subject and issuer hold (the certificate downloaded once); 401 for a changed body,
a missing or foreign signature, another algorithm, an untrusted chain, the wrong subject or issuer; certificate URLs
off the allow-list never fetched (no server-side request forgery); 503 with Retry-After while the certificate host
fails, and acceptance once it is back."""
import base64
import http.server
import json
import os
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

from emulators import TestCA
from harness import Daemon, lead

SIGNER_SUBJECT = "/CN=pcnotifications-dispatch.microsoft.com/O=Microsoft Corporation"


class CertificateHost:
    """An HTTPS server answering GET <path> from `files` ({path: bytes, or an int status}); records every path."""

    def __init__(self, ca):
        self.files = {}
        self.requests = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                outer.requests.append(self.path)
                answer = outer.files.get(self.path, 404)
                status, body = (answer, b"") if isinstance(answer, int) else (200, answer)
                self.send_response(status)
                self.send_header("Content-Type", "application/pkix-cert")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(ca.cert, ca.key)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path):
        return f"https://127.0.0.1:{self.port}{path}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def der(pem_path):
    return subprocess.run(["openssl", "x509", "-in", pem_path, "-outform", "DER"], capture_output=True,
                          check=True).stdout


def rsa_sign(key_path, body):
    """base64 of the RSA-SHA256 (PKCS#1 v1.5) signature made by openssl, not by leadrelay's code."""
    r = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key_path], input=body, capture_output=True, check=True)
    return base64.b64encode(r.stdout).decode()


class PartnerCenterSignatures(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.ca = TestCA(cls.tmp.name)
        cls.signer = cls.ca.issue("signer", SIGNER_SUBJECT)
        cls.wrong_subject = cls.ca.issue("impostor", "/CN=notifications.example.com/O=Microsoft Corporation")
        os.makedirs(os.path.join(cls.tmp.name, "other"))
        other = TestCA(os.path.join(cls.tmp.name, "other"), name="someone else")
        cls.stranger = other.issue("stranger", SIGNER_SUBJECT)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def setUp(self):
        self.host = CertificateHost(self.ca)
        self.host.files = {
            "/cert/pc.cer": der(self.signer[0]),
            "/cert/impostor.cer": der(self.wrong_subject[0]),
            "/cert/stranger.cer": der(self.stranger[0]),
        }
        self.other_host = CertificateHost(self.ca)  # serves the good certificate, but is not on the allow-list
        self.other_host.files = dict(self.host.files)
        allowed = f"127.0.0.1:{self.host.port}"

        def source(name, issuer_line):
            return (f"  - name: {name}\n    path: /leads/{name}\n    format: ms-marketplace\n"
                    f"    replay_window: 0s\n    auth:\n      type: partner_center\n"
                    f"      certificate_hosts: [\"{allowed}\"]\n      ca_file: \"{self.ca.ca_cert}\"\n{issuer_line}")

        self.d = Daemon(source_extra=source("pc", "      certificate_issuer: leadrelay test CA\n") +
                        source("pc-default-issuer", ""))
        self.d.start()

    def tearDown(self):
        self.d.close()
        self.host.close()
        self.other_host.close()

    def post(self, body, url, signature=None, key=None, header="authorization", algorithm="rsa-sha256",
             path="/leads/pc", signed_body=None):
        if signature is None and key is not None:
            signature = rsa_sign(key, signed_body if signed_body is not None else body)
        headers = {"X-MS-Certificate-Url": url}
        if algorithm:
            headers["X-MS-Signature-Algorithm"] = algorithm
        if signature is not None:
            if header == "authorization":
                headers["Authorization"] = "Signature " + signature
            else:
                headers["x-ms-signature"] = signature
        status, resp_headers, data = self.d.post(body, path=path, headers=headers)
        return status, resp_headers, json.loads(data or b"{}")

    def test_signed_leads_accepted_certificate_downloaded_once(self):
        url = self.host.url("/cert/pc.cer")
        status, _, body = self.post(lead(1), url, key=self.signer[1])
        self.assertEqual(status, 202, body)
        status, _, body2 = self.post(lead(2), url, key=self.signer[1], header="x-ms-signature")
        self.assertEqual(status, 202, body2)
        stored = self.d.stored(routed=True)
        self.assertEqual(set(stored), {body["lead_id"], body2["lead_id"]})
        self.assertEqual(stored[body["lead_id"]][2]["source"]["name"], "pc")
        self.assertEqual(self.host.requests, ["/cert/pc.cer"])  # cached after the first download

    def test_refused_signatures(self):
        url = self.host.url("/cert/pc.cer")
        cases = {
            "body changed after signing": dict(body=lead(3), url=url, key=self.signer[1], signed_body=lead(4)),
            "no signature": dict(body=lead(3), url=url),
            "garbage signature": dict(body=lead(3), url=url, signature="not base64!"),
            "another algorithm": dict(body=lead(3), url=url, key=self.signer[1], algorithm="rsa-sha1"),
            "signed by a key the certificate does not hold": dict(body=lead(3), url=url, key=self.stranger[1]),
            "certificate from an untrusted CA": dict(body=lead(3), url=self.host.url("/cert/stranger.cer"),
                                                     key=self.stranger[1]),
            "certificate issued to someone else": dict(body=lead(3), url=self.host.url("/cert/impostor.cer"),
                                                       key=self.wrong_subject[1]),
            "certificate URL answers 404": dict(body=lead(3), url=self.host.url("/cert/missing.cer"),
                                                key=self.signer[1]),
            "issuer is not the expected one (default: Microsoft)": dict(body=lead(3), url=url, key=self.signer[1],
                                                                        path="/leads/pc-default-issuer"),
        }
        for name, case in cases.items():
            with self.subTest(name):
                status, _, body = self.post(**case)
                self.assertEqual(status, 401, body)
                self.assertEqual(body["error"], "unauthorized")
        self.assertEqual(self.d.stored(), {})
        # The certificate itself is fine: the same source accepts a proper signature.
        self.assertEqual(self.post(lead(5), url, key=self.signer[1])[0], 202)

    def test_urls_off_the_allow_list_are_never_fetched(self):
        good = "/cert/pc.cer"
        urls = [
            self.other_host.url(good),                                   # another port
            f"http://127.0.0.1:{self.host.port}{good}",                  # not https
            f"https://user@127.0.0.1:{self.host.port}{good}",            # user info
            f"https://localhost:{self.host.port}{good}",                 # another name for the host
            f"https://127.0.0.1:{self.other_host.port}#@127.0.0.1:{self.host.port}{good}",
            "https://169.254.169.254/metadata/instance",                 # cloud metadata
            "file:///etc/passwd",
            "",
        ]
        for url in urls:
            with self.subTest(url):
                status, _, body = self.post(lead(6), url, key=self.signer[1])
                self.assertEqual(status, 401, body)
        self.assertEqual(self.other_host.requests, [])
        self.assertEqual(self.host.requests, [])
        self.assertEqual(self.d.stored(), {})
        self.d.wait_event("signing_certificate_refused")

    def test_unreachable_certificate_host_asks_for_a_retry(self):
        url = self.host.url("/cert/flaky.cer")
        self.host.files["/cert/flaky.cer"] = 503
        status, headers, body = self.post(lead(7), url, key=self.signer[1])
        self.assertEqual((status, body["error"]), (503, "certificate_unavailable"), body)
        self.assertTrue(int(headers["retry-after"]) > 0)
        self.d.wait_event("signing_certificate_unavailable")
        # Right after a failure the host is left alone for a few seconds (no fetch storm from a flood).
        self.assertEqual(self.post(lead(7), url, key=self.signer[1])[0], 503)
        self.assertEqual(self.host.requests, ["/cert/flaky.cer"])
        self.assertEqual(self.d.stored(), {})
        # The host recovers; the sender's retry (Partner Center tries 10 times) is accepted.
        self.host.files["/cert/flaky.cer"] = der(self.signer[0])
        deadline = time.monotonic() + 20
        while True:
            status, _, body = self.post(lead(7), url, key=self.signer[1])
            if status != 503 or time.monotonic() > deadline:
                break
            time.sleep(0.5)  # the sender's retry interval, not a synchronisation
        self.assertEqual(status, 202, body)
        self.assertEqual(len(self.d.stored()), 1)


if __name__ == "__main__":
    unittest.main()
