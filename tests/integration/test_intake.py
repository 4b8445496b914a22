"""The real binary over real sockets: leads answered 202 are in the store; keep-alive, pipelining, health."""
import concurrent.futures
import json
import os
import re
import socket
import threading
import time
import unittest

from harness import SAMPLE_LEAD, Daemon, lead, read_response, read_until_close, schema_errors, status_of

UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


class Intake(unittest.TestCase):
    def setUp(self):
        self.d = Daemon().start()

    def tearDown(self):
        self.d.close()

    def test_every_202_has_its_row(self):
        accepted = {}
        conn = self.d.connection()
        for n in range(50):
            body = lead(n)
            status, headers, data = self.d.post(body, conn=conn)
            self.assertEqual(status, 202, data)
            self.assertEqual(headers["content-type"], "application/json")
            answer = json.loads(data)
            self.assertEqual(answer["status"], "accepted")
            self.assertRegex(answer["lead_id"], UUID7)
            accepted[answer["lead_id"]] = body
        conn.close()
        stored = self.d.stored(routed=True)
        self.assertEqual(len(stored), 50)
        for lead_id, body in accepted.items():
            count, raw, mapped = stored[lead_id]
            self.assertEqual(count, 1)
            self.assertEqual(raw, body, "the raw body is kept exactly as received")
            self.assertEqual(mapped["lead_id"], lead_id)
            self.assertEqual(mapped["schema"], "lead.v1")
        self.assertEqual(schema_errors(m for _, _, m in stored.values()), "")

    def test_schema_checker_refuses_a_bad_lead(self):
        self.assertIn("invalid", schema_errors([{"schema": "lead.v1", "lead_id": "x"}]))

    def test_stored_leads_match_the_schema_for_every_kind_of_input(self):
        bodies = [
            SAMPLE_LEAD,
            {},
            {"userDetails": {"firstName": "MSFT_TEST_636573304831318844", "email": "MSFT_TEST_1@contoso.com"},
             "leadSource": "AzureMarketplace-INS|Contoso Analytics Pro", "description": "MSFT_TEST_636573304831318844"},
            {"UserDetails": {"Country": "Atlantis", "Phone": " "}, "LeadSource": "free text", "ActionCode": "XYZ"},
            {"UserDetails": None, "LeadSource": "AppSource (SPZA)-PLT|pub.offer", "Description": "a\nb\u0000c"},
            {"UserDetails": {"FirstName": "Zoë", "Company": "株式会社", "Country": "Côte d'Ivoire"}},
        ]
        for body in bodies:
            self.assertEqual(self.d.post(json.dumps(body).encode())[0], 202, body)
        stored = self.d.stored(routed=True)
        self.assertEqual(len(stored), len(bodies))
        self.assertEqual(schema_errors(m for _, _, m in stored.values()), "")

    def test_mapped_lead_in_the_store(self):
        status, _, data = self.d.post(json.dumps(SAMPLE_LEAD).encode())
        self.assertEqual(status, 202)
        lead_id = json.loads(data)["lead_id"]
        _, _, mapped = self.d.stored(routed=True)[lead_id]
        self.assertEqual(mapped["source"], {"name": "marketplace", "format": "ms-marketplace"})
        self.assertEqual(mapped["origin"], "AzureMarketplace")
        self.assertEqual(mapped["action"]["call_to_action"], "GetItNowOrFreeTrial")
        self.assertEqual(mapped["offer"]["publisher_id"], "contoso")
        self.assertEqual(mapped["contact"]["country"], "US")
        self.assertEqual(mapped["contact"]["country_raw"], "USA")
        self.assertTrue(mapped["contactable"])
        self.assertFalse(mapped["test_lead"])

    def test_concurrent_clients(self):
        def client(k):
            conn = self.d.connection()
            ids = []
            for n in range(20):
                status, _, data = self.d.post(lead(k * 100 + n), conn=conn)
                self.assertEqual(status, 202)
                ids.append(json.loads(data)["lead_id"])
            conn.close()
            return ids

        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            ids = [i for chunk in pool.map(client, range(16)) for i in chunk]
        self.assertEqual(len(set(ids)), 320)
        stored = self.d.stored()
        self.assertTrue(all(stored[i][0] == 1 for i in ids))

    def test_pipelined_requests_are_answered_in_order(self):
        requests = b""
        for n in range(5):
            body = lead(n)
            requests += (f"POST {self.d.lead_path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         f"Content-Length: {len(body)}\r\n\r\n").encode() + body
        requests += b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        s = socket.create_connection(("127.0.0.1", self.d.port), timeout=10)
        s.sendall(requests)
        data = read_until_close(s)
        s.close()
        self.assertEqual(data.count(b"HTTP/1.1 202 Accepted"), 5)
        self.assertEqual(data.rfind(b"HTTP/1.1 200 OK") > data.rfind(b"HTTP/1.1 202"), True)
        ids = re.findall(rb'"lead_id":"([0-9a-f-]+)"', data)
        stored = self.d.stored()
        for n, lead_id in enumerate(ids):
            self.assertEqual(stored[lead_id.decode()][1], lead(n), "answers come back in request order")

    def test_a_request_cut_anywhere_is_read_whole(self):
        # The server parses what one read brought and reads on only when a request is incomplete: cut the bytes
        # inside the request line, inside a header, at the end of the head, inside the body and in a chunk.
        def plain(body):
            return (f"POST {self.d.lead_path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n").encode() + body

        def chunked(body):
            return (f"POST {self.d.lead_path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    f"Transfer-Encoding: chunked\r\n\r\n").encode() + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)

        cases = [(plain, lambda r, b: 3, "in the request line"),
                 (plain, lambda r, b: 40, "in a header"),
                 (plain, lambda r, b: len(r) - len(b) - 2, "in the blank line ending the head"),
                 (plain, lambda r, b: len(r) - len(b), "at the end of the head"),
                 (plain, lambda r, b: len(r) - len(b) + 100, "in the body"),
                 (chunked, lambda r, b: len(r) - 300, "in the chunk"),
                 (chunked, lambda r, b: len(r) - 4, "in the last chunk")]
        for n, (frame, where, what) in enumerate(cases):
            body = lead(700 + n)  # distinct leads: a repeated body would be a redelivery
            request = frame(body)
            cut = where(request, body)
            with self.subTest(cut=what):
                s = socket.create_connection(("127.0.0.1", self.d.port), timeout=10)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                s.sendall(request[:cut])
                # No event says the server has read the first part; a pause makes two reads likely (the answer is
                # the same either way, which is what is asserted).
                time.sleep(0.05)
                s.sendall(request[cut:])
                answer = read_response(s)
                s.close()
                self.assertEqual(status_of(answer), 202, answer)
                lead_id = json.loads(answer.partition(b"\r\n\r\n")[2])["lead_id"]
                self.assertEqual(self.d.stored()[lead_id][1], body)

    def test_answers_read_late_all_arrive_in_order(self):
        # One lead and its redeliveries, pipelined on a connection whose reader waits: the answers (~230 bytes each)
        # outgrow the most a socket's send buffer may grow to (tcp_wmem's last figure, 4 MiB here), so the server's
        # writes find the socket full, and it stops reading requests until the reader makes room. Redeliveries
        # store nothing, so the test stays quick.
        with open("/proc/sys/net/ipv4/tcp_wmem") as f:
            n = max(20000, int(f.read().split()[2]) // 200)
        body = lead(4242)
        request = (f"POST {self.d.lead_path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   f"Content-Length: {len(body)}\r\n\r\n").encode() + body
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: a small window
        s.settimeout(60)
        s.connect(("127.0.0.1", self.d.port))
        sent = threading.Event()
        closing = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        sender = threading.Thread(target=lambda: (s.sendall(request * n + closing), sent.set()))
        sender.start()
        # Had the server taken every request meanwhile, its answers would not have filled the socket.
        self.assertFalse(sent.wait(timeout=3), "the server read every request although nobody read its answers")
        data = read_until_close(s)
        sender.join()
        s.close()
        statuses = re.findall(rb"HTTP/1.1 (\d{3}) ", data)
        self.assertEqual(statuses, [b"202"] + [b"200"] * n, data[-300:])  # the last 200: /healthz
        ids = re.findall(rb'"lead_id":"([0-9a-f-]+)"', data)
        self.assertEqual(len(ids), n)
        self.assertEqual(set(ids), {ids[0]}, "every redelivery names the first delivery's lead")
        self.assertEqual(data.count(b'"status":"duplicate"'), n - 1)
        self.assertTrue(data.endswith(b'{"status":"ok"}'), data[-300:])
        self.assertEqual(self.d.stored()[ids[0].decode()][:2], (1, body))

    def test_expect_100_continue(self):
        body = lead(1)
        s = socket.create_connection(("127.0.0.1", self.d.port), timeout=10)
        s.sendall((f"POST {self.d.lead_path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n").encode())
        interim = b""
        while not interim.endswith(b"\r\n\r\n"):  # exactly the interim response, however TCP splits it
            chunk = s.recv(1)
            self.assertTrue(chunk, interim)
            interim += chunk
        self.assertTrue(interim.startswith(b"HTTP/1.1 100 Continue"), interim)
        s.sendall(body)
        final = read_until_close(s)
        s.close()
        self.assertEqual(status_of(final), 202, final)

    def test_charset_and_http10(self):
        status, _, _ = self.d.post(lead(1), content_type="application/json; charset=utf-8")
        self.assertEqual(status, 202)
        body = lead(2)
        data = self.d.raw((f"POST {self.d.lead_path} HTTP/1.0\r\nContent-Type: application/json\r\n"
                           f"Content-Length: {len(body)}\r\n\r\n").encode() + body)
        self.assertEqual(status_of(data), 202, data)

    def test_health_and_readiness(self):
        self.assertEqual(self.d.get("/healthz"), (200, b'{"status":"ok"}'))
        self.assertEqual(self.d.get("/readyz"), (200, b'{"status":"ready"}'))

    def test_logs_carry_no_contact_details(self):
        body = json.loads(json.dumps(SAMPLE_LEAD))
        body["UserDetails"]["Email"] = "pii.canary@pii-example.org"
        body["UserDetails"]["Phone"] = "+1 212 555 0199"
        self.assertEqual(self.d.post(json.dumps(body).encode())[0], 202)
        body["UserDetails"]["Phone"] = 2125550199  # rejected: the error names the field, never the value
        self.assertEqual(self.d.post(json.dumps(body).encode())[0], 400)
        self.d.wait_event("lead_rejected")
        self.d.stop()
        log = "\n".join(self.d.lines)
        self.assertIn("lead_accepted", log)
        for secret in ("pii.canary", "pii-example.org", "555 0199", "2125550199", self.d.secret):
            self.assertNotIn(secret, log)


class StoreFromBeforeRawOnlyJournal(unittest.TestCase):
    """Stores written before 0.9 kept the mapped lead in leads.lead and had no leads.format column: a new daemon
    adds the column, routes those rows from their stored lead, and journals new leads raw."""

    def test_old_rows_are_routed_and_new_leads_stored(self):
        import sqlite3
        first = Daemon().start()
        try:
            status, _, data = first.post(lead(1))
            self.assertEqual(status, 202)
            old_id = json.loads(data)["lead_id"]
            old_lead = first.stored(routed=True)[old_id][2]
        finally:
            first.close()
        d = Daemon()
        os.makedirs(os.path.dirname(d.db_path))
        db = sqlite3.connect(d.db_path)
        db.executescript("""CREATE TABLE leads (seq INTEGER PRIMARY KEY, lead_id TEXT NOT NULL UNIQUE,
                              source TEXT NOT NULL, received_at_ms INTEGER NOT NULL, raw BLOB NOT NULL,
                              lead TEXT NOT NULL);""")
        db.execute("INSERT INTO leads (lead_id, source, received_at_ms, raw, lead) VALUES (?, ?, ?, ?, ?)",
                   (old_id, "marketplace", 1732320000000, lead(1), json.dumps(old_lead)))
        db.commit()
        db.close()
        try:
            d.start()
            status, _, data = d.post(lead(2))
            self.assertEqual(status, 202)
            new_id = json.loads(data)["lead_id"]
            stored = d.stored(routed=True)
            self.assertEqual(stored[old_id][2]["lead_id"], old_id)
            self.assertEqual(stored[old_id][2]["contact"], old_lead["contact"])
            self.assertEqual(stored[new_id][2]["lead_id"], new_id)
            self.assertEqual(stored[new_id][1], lead(2))
        finally:
            d.close()


class FullStore(unittest.TestCase):
    def test_full_store_answers_503_and_nothing_acknowledged_is_lost(self):
        d = Daemon(journal={"max_store_bytes": "768KiB"}).start()
        try:
            accepted = []
            big = json.loads(json.dumps(SAMPLE_LEAD))
            big["Description"] = "x" * 30000
            for n in range(40):
                big["UserDetails"]["Email"] = f"p{n}@contoso.com"
                status, headers, data = d.post(json.dumps(big).encode())
                if status == 503:
                    self.assertEqual(json.loads(data)["error"], "store_unavailable")
                    self.assertEqual(headers.get("retry-after"), "5")
                    break
                self.assertEqual(status, 202)
                accepted.append(json.loads(data)["lead_id"])
                # The 202 means durable in the intake log; the store fills up only as the log's mover (a background
                # thread, which a busy machine can hold back) brings the leads in. Wait for that: the lead is moved,
                # or the store refused it and the daemon says so.
                d.intake_log_drained(timeout=60, or_store_refuses=True)
            else:
                self.fail("the store never filled up")
            self.assertGreater(len(accepted), 0)
            self.assertEqual(d.get("/readyz"), (503, b'{"status":"store_unavailable"}'))
            # Acknowledged means durable: in the store, or in the intake log until the store takes writes again.
            stored = d.stored(drained=False)
            in_log = d.in_intake_log()
            self.assertEqual(sorted(set(stored) | set(in_log)), sorted(accepted))
            # Room again (a bigger budget, applied by a restart): what waited in the log moves into the store.
            d.journal = {"max_store_bytes": "64MiB"}
            d.write_config()
            d.stop()
            d.start()
            self.assertEqual(sorted(d.stored()), sorted(accepted))  # stored() waits for the log to be moved
        finally:
            d.close()


if __name__ == "__main__":
    unittest.main()
