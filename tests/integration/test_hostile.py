"""Hostile input against the real binary: each case gets its status (or a closed connection), never a crash or a
hang, and the daemon keeps answering /healthz and accepting leads afterwards."""
import itertools
import json
import select
import socket
import time
import unittest

from harness import Daemon, json_body_of, lead, read_until_close, status_of


def request(d, method="POST", path=None, headers=None, body=b"", content_type="application/json",
            content_length=True):
    path = path or d.lead_path
    lines = [f"{method} {path} HTTP/1.1", "Host: leadrelay"]
    if content_type:
        lines.append(f"Content-Type: {content_type}")
    if content_length:
        lines.append(f"Content-Length: {len(body)}")
    lines += headers or []
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def chunked(body, size=8192):
    out = b""
    for i in range(0, len(body), size):
        part = body[i:i + size]
        out += f"{len(part):x}\r\n".encode() + part + b"\r\n"
    return out + b"0\r\n\r\n"


class Hostile(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(server={"header_timeout": "1s", "body_timeout": "1s"}).start()
        cls.fresh = itertools.count(10000)

    @classmethod
    def tearDownClass(cls):
        cls.d.close()

    def tearDown(self):
        # After every case the daemon is alive and still takes leads (a new one each time: a repeat would be
        # answered as a redelivery).
        self.assertEqual(self.d.get("/healthz"), (200, b'{"status":"ok"}'))
        self.assertEqual(self.d.post(lead(next(self.fresh)))[0], 202)

    def expect(self, raw, status, error=None, field=None):
        data = self.d.raw(raw)
        self.assertEqual(status_of(data), status, data[:300])
        body = json_body_of(data)
        self.assertIn("message", body)
        if error:
            self.assertEqual(body["error"], error, body)
        if field:
            self.assertEqual(body.get("field"), field, body)
        return data

    def test_table(self):
        d = self.d
        big = b'{"Description": "' + b"a" * (1024 * 1024) + b'"}'
        cases = [
            ("empty body", request(d), 400, "empty_body"),
            ("not JSON", request(d, body=b"hello"), 400, "invalid_json"),
            ("truncated JSON", request(d, body=b'{"UserDetails": {'), 400, "invalid_json"),
            ("trailing garbage", request(d, body=b'{} []'), 400, "invalid_json"),
            ("JSON array", request(d, body=b'[{"UserDetails": {}}]'), 400, "not_an_object"),
            ("JSON string", request(d, body=b'"lead"'), 400, "not_an_object"),
            ("1 MiB body", request(d, body=big), 413, "body_too_large"),
            ("1 MiB chunked body", request(d, body=chunked(big), content_length=False,
                                           headers=["Transfer-Encoding: chunked"]), 413, "body_too_large"),
            ("wrong content type", request(d, body=lead(1), content_type="text/plain"), 415, "unsupported_media_type"),
            ("form content type", request(d, body=b"a=b", content_type="application/x-www-form-urlencoded"), 415,
             "unsupported_media_type"),
            ("no content type", request(d, body=lead(1), content_type=None), 415, "unsupported_media_type"),
            ("latin-1 charset", request(d, body=lead(1), content_type="application/json; charset=latin1"), 415,
             "unsupported_media_type"),
            ("wrong method", request(d, method="GET", content_length=False), 405, "method_not_allowed"),
            ("PUT", request(d, method="PUT", body=lead(1)), 405, "method_not_allowed"),
            ("missing secret", request(d, path="/leads/marketplace", body=lead(1)), 401, "unauthorized"),
            ("wrong secret", request(d, path="/leads/marketplace?code=guess", body=lead(1)), 401, "unauthorized"),
            ("unknown path", request(d, path="/admin", body=lead(1)), 404, "not_found"),
            ("invalid UTF-8", request(d, body=b'{"UserDetails": {"FirstName": "\xc3\x28"}}'), 400, "invalid_utf8"),
            ("depth bomb", request(d, body=b"[" * 30000 + b"]" * 30000), 400, "too_deep"),
            ("duplicate keys", request(d, body=b'{"UserDetails": {"Email": "a@b.io", "email": "c@d.io"}}'), 400,
             "duplicate_key"),
            ("number where a string belongs", request(d, body=b'{"UserDetails": {"Phone": 16175555555}}'), 400,
             "wrong_type"),
            ("string where an object belongs", request(d, body=b'{"UserDetails": "Jane"}'), 400, "wrong_type"),
            ("header flood", request(d, body=lead(1), headers=[f"X-Flood-{i}: {'v' * 100}" for i in range(200)]),
             431, "header_too_large"),
            ("one huge header", request(d, body=lead(1), headers=["X-Big: " + "v" * 20000]), 431,
             "header_too_large"),
            ("garbage request line", b"\x16\x03\x01\x02\x00 not http\r\n\r\n", 400, "bad_request"),
            ("bad Content-Length", request(d, content_length=False, headers=["Content-Length: ten"]) + b"0123456789",
             400, "bad_request"),
            # Lengths at the limits of 64 bits: read by Beast's parser with overflow checks, never multiplied.
            ("Content-Length 0", request(d, content_length=False, headers=["Content-Length: 0"]), 400, "empty_body"),
            ("Content-Length 2^64-1", request(d, content_length=False, headers=["Content-Length: 18446744073709551615"]),
             413, "body_too_large"),
            ("Content-Length 2^64", request(d, content_length=False, headers=["Content-Length: 18446744073709551616"]),
             400, "bad_request"),
            ("Content-Length -1", request(d, content_length=False, headers=["Content-Length: -1"]), 400, "bad_request"),
            ("Content-Length of 20 digits", request(d, content_length=False,
                                                    headers=["Content-Length: 99999999999999999999"]), 400, "bad_request"),
            ("chunk size 0", request(d, content_length=False, headers=["Transfer-Encoding: chunked"]) + b"0\r\n\r\n",
             400, "empty_body"),
            ("chunk size 2^64-1", request(d, content_length=False, headers=["Transfer-Encoding: chunked"]) +
             b"ffffffffffffffff\r\n{}", 413, "body_too_large"),
            ("chunk size 2^64", request(d, content_length=False, headers=["Transfer-Encoding: chunked"]) +
             b"10000000000000000\r\n{}", 400, "bad_request"),
            ("chunk size -1", request(d, content_length=False, headers=["Transfer-Encoding: chunked"]) +
             b"-1\r\n{}\r\n0\r\n\r\n", 400, "bad_request"),
            ("chunk size of 20 digits", request(d, content_length=False, headers=["Transfer-Encoding: chunked"]) +
             b"99999999999999999999\r\n{}", 400, "bad_request"),
        ]
        self.assertGreaterEqual(len(cases), 30)
        for name, raw, status, error in cases:
            with self.subTest(name):
                self.expect(raw, status, error)
        # The answers name the field where one applies.
        self.expect(request(d, body=b'{"UserDetails": {"Phone": 16175555555}}'), 400, "wrong_type",
                    "UserDetails.Phone")
        data = self.expect(request(d, method="GET", content_length=False), 405)
        self.assertIn(b"\r\nAllow: POST\r\n", data)

    def test_slow_header_client_is_cut_off(self):
        # Sends the request head one byte per second (slowloris); the server must close the connection once
        # header_timeout (1 s) has passed, long before the head is complete.
        s = socket.create_connection(("127.0.0.1", self.d.port), timeout=10)
        head = request(self.d, body=lead(1))
        started = time.monotonic()
        closed = False
        for byte in head:
            try:
                s.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            # Wait for the attack's next beat, or for the server to close: whichever comes first.
            readable, _, _ = select.select([s], [], [], 1.0)
            if readable:
                try:
                    closed = s.recv(4096) == b""
                except ConnectionResetError:
                    closed = True
                break
        elapsed = time.monotonic() - started
        s.close()
        self.assertTrue(closed, "the server must close the connection, not answer it")
        self.assertLess(elapsed, 4, "the server must close a slow client within header_timeout")
        self.assertLess(elapsed, len(head), "the head must not have been sent whole")

    def test_stalled_body_is_cut_off(self):
        body = lead(1)
        s = socket.create_connection(("127.0.0.1", self.d.port), timeout=10)
        s.sendall(request(self.d, body=body)[:-10])  # all but the last 10 bytes, then nothing
        started = time.monotonic()
        data = read_until_close(s)
        s.close()
        self.assertEqual(data, b"", "no answer for a body that never arrived")
        self.assertLess(time.monotonic() - started, 4)

    def test_idle_connection_is_closed(self):
        s = socket.create_connection(("127.0.0.1", self.d.port), timeout=10)
        started = time.monotonic()
        self.assertEqual(read_until_close(s), b"")
        s.close()
        self.assertLess(time.monotonic() - started, 4)

    def test_no_lead_was_stored_for_refused_requests(self):
        before = set(self.d.stored())
        self.d.raw(request(self.d, body=b'{"UserDetails": "Jane"}'))
        self.d.raw(request(self.d, path="/leads/marketplace?code=guess", body=lead(99)))
        self.assertEqual(set(self.d.stored()), before)


if __name__ == "__main__":
    unittest.main()


class RateLimits(unittest.TestCase):
    """Token buckets with the real binary: per source and per client address, 429 with Retry-After and a JSON
    error, nothing stored for the refused requests, and other clients or sources unaffected."""

    def test_source_limit(self):
        d = Daemon(source_extra="    rate_limit: 1\n    rate_burst: 2\n").start()
        try:
            answers = [d.post(lead(n)) for n in range(4)]
            self.assertEqual([a[0] for a in answers[:2]], [202, 202])
            status, headers, body = answers[2]
            self.assertEqual(status, 429)
            self.assertGreaterEqual(int(headers["retry-after"]), 1)
            self.assertEqual(json.loads(body)["error"], "rate_limited")
            self.assertEqual(len(d.stored()), 2 + sum(1 for a in answers[3:] if a[0] == 202))
        finally:
            d.close()

    def test_client_limit(self):
        d = Daemon(server={"client_rate_limit": 1, "client_rate_burst": 1}).start()
        try:
            self.assertEqual(d.post(lead(1))[0], 202)
            status, headers, body = d.post(lead(2))
            self.assertEqual(status, 429)
            self.assertIn("this client", json.loads(body)["message"])
            # Health checks are not leads: never limited.
            self.assertEqual(d.get("/healthz")[0], 200)
        finally:
            d.close()
