"""Lead lifecycles through the leads API of the real binary: filters and pages, accept / decline / win / lose with
their 409s, ETag and If-Match (412), favorites, tokens and roles (401/403), the CSV/TSV export with its quoting and
formula guard, lead-event.v1 on Kafka read by kcat, expiry while running and at start, the command line, and no
change lost or applied twice under kill -9. Every JSON answer is checked against schemas/admin-api.openapi.yaml."""
import concurrent.futures
import csv
import http.client
import io
import json
import os
import re
import socket
import subprocess
import time
import unittest

import jsonschema
import yaml

from harness import BIN, SAMPLE_LEAD, SOURCE_DIR, Daemon, DevBroker, consume, kafka_config, read_until_close, schema_errors

with open(os.path.join(SOURCE_DIR, "schemas", "admin-api.openapi.yaml")) as f:
    OPENAPI = yaml.safe_load(f)
with open(os.path.join(SOURCE_DIR, "schemas", "lead-event.v1.json")) as f:
    EVENT_SCHEMA = json.load(f)

ACCEPT = {"deal_name": "Contoso rollout", "deal_value": 25000, "currency": "USD", "close_date": "2027-03-31",
          "notes": "Call booked for Monday"}


def conforms(template, method, status, body):
    """Checks a JSON answer against the OpenAPI document's schema for (path template, method, status)."""
    response = OPENAPI["paths"][template][method.lower()]["responses"][str(status)]
    while "$ref" in response:
        response = OPENAPI["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    schema = response["content"]["application/json"]["schema"]
    resolver = jsonschema.RefResolver("", OPENAPI)
    jsonschema.Draft202012Validator(schema, resolver=resolver).validate(body)


def lead_body(n, action="PLT", company=None, country="USA", email=None, first=None):
    body = json.loads(json.dumps(SAMPLE_LEAD))
    u = body["UserDetails"]
    u["Email"] = email or f"buyer{n}@contoso.com"
    u["FirstName"] = first or f"Buyer{n}"
    u["Company"] = company or f"Company {n}"
    u["Country"] = country
    body["ActionCode"] = action
    body["LeadSource"] = f"AzureMarketplace-{action}|contoso.analytics-pro"
    return json.dumps(body).encode()


class Api(unittest.TestCase):
    """One daemon; requests as each role, every JSON answer checked against the OpenAPI file."""

    extra = ""
    admin_extra = ""

    def setUp(self):
        self.d = Daemon(extra=self.extra)
        self.d.admin_extra = self.admin_extra
        self.d.write_config()
        self.d.start()

    def tearDown(self):
        self.d.close()

    def call(self, method, path, template, body=None, role="referrals_admin", headers=None, expect=200):
        status, h, data = self.d.admin(method, path, body, role, headers)
        self.assertEqual(status, expect, f"{method} {path}: {data[:400]!r}")
        parsed = json.loads(data)
        conforms(template, method, status, parsed)
        return parsed, h

    def post_leads(self, bodies):
        ids = []
        for b in bodies:
            status, _, data = self.d.post(b)
            self.assertEqual(status, 202, data)
            ids.append(json.loads(data)["lead_id"])
        self.wait_listed(len(ids))
        return ids

    def wait_listed(self, count, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            got = self.call("GET", "/api/v1/leads?limit=500", "/api/v1/leads", role="viewer")[0]["leads"]
            if len(got) >= count:
                return got
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(got)} of {count} leads listed")
            time.sleep(0.05)  # the pipeline logs no event per lead; the listing is what to watch

    def ids(self, query):
        return [x["lead_id"] for x in self.call("GET", "/api/v1/leads?" + query, "/api/v1/leads", role="viewer")[0]
                ["leads"]]


class Leads(Api):
    def test_filters_pages_and_bad_queries(self):
        ids = self.post_leads([
            lead_body(0),                                     # Contact me, US
            lead_body(1, action="INS", country="Germany", company="Fabrikam, \"Ltd\""),
            lead_body(2, action="INS", country="Germany", company="Northwind"),
            lead_body(3, email="not-an-address", company="Contoso Pharma"),
        ])
        listed = self.wait_listed(4)
        self.assertEqual([x["lead_id"] for x in listed], ids[::-1], "newest first")
        self.assertEqual(schema_errors([{k: v for k, v in x.items() if k != "lifecycle"} for x in listed]), "")
        self.assertEqual(set(self.ids("status=Received")), {ids[0], ids[3]})
        self.assertEqual(set(self.ids("status=Informational,Accepted")), {ids[1], ids[2]})
        self.assertEqual(set(self.ids("call_to_action=GetItNowOrFreeTrial")), {ids[1], ids[2]})
        self.assertEqual(set(self.ids("country=de")), {ids[1], ids[2]})
        self.assertEqual(self.ids("customer=fabrikam"), [ids[1]])
        self.assertEqual(self.ids("customer=%22LTD%22"), [ids[1]])
        self.assertEqual(set(self.ids("customer=contoso%20pharma")), {ids[3]})
        self.assertEqual(self.ids("email_validity=Invalid"), [ids[3]])
        self.assertEqual(len(self.ids("lead_source=AzureMarketplace&lead_type=offer&classification=customer_inquiry")), 4)
        self.assertEqual(self.ids("lead_source=AppSource"), [])
        self.assertEqual(set(self.ids("hot=true")), {ids[0], ids[3]})
        self.assertEqual(set(self.ids("hot=false")), {ids[1], ids[2]})
        self.assertEqual(set(self.ids("status=Received&country=US&quality=High")) - {ids[3]}, {ids[0]})
        self.assertEqual(len(self.ids("from=2000-01-01&to=2999-12-31")), 4)
        self.assertEqual(self.ids("to=2001-01-01"), [])
        # Pages: two at a time, then the rest, then nothing.
        page, _ = self.call("GET", "/api/v1/leads?limit=2", "/api/v1/leads", role="viewer")
        self.assertEqual([x["lead_id"] for x in page["leads"]], [ids[3], ids[2]])
        page, _ = self.call("GET", f"/api/v1/leads?limit=2&cursor={page['next_cursor']}", "/api/v1/leads", role="viewer")
        self.assertEqual([x["lead_id"] for x in page["leads"]], [ids[1], ids[0]])
        page, _ = self.call("GET", f"/api/v1/leads?limit=2&cursor={page['next_cursor']}", "/api/v1/leads", role="viewer")
        self.assertEqual((page["leads"], page["next_cursor"]), ([], None))
        for query, field in [("status=Pending", "status"), ("country=USA", "country"), ("limit=501", "limit"),
                             ("limit=0", "limit"), ("hot=yes", "hot"), ("from=yesterday", "from"),
                             ("cursor=abc", "cursor"), ("colour=red", "colour"), ("quality=high", "quality"),
                             ("from=2026-02-01&to=2026-01-01", "from")]:
            answer, _ = self.call("GET", "/api/v1/leads?" + query, "/api/v1/leads", role="viewer", expect=400)
            self.assertEqual(answer["field"], field, query)
        self.assertIn("did you mean 'High'", self.call("GET", "/api/v1/leads?quality=high", "/api/v1/leads",
                                                        role="viewer", expect=400)[0]["message"])
        self.call("GET", "/api/v1/leads/0190a5e0-0000-7000-8000-000000000000", "/api/v1/leads/{id}", expect=404)
        self.call("GET", "/api/v1/leads/bad%20id", "/api/v1/leads/{id}", expect=400)

    def test_answers_conflicts_etags_and_favorites(self):
        a, b, info = self.post_leads([lead_body(0), lead_body(1), lead_body(2, action="INS")])
        lead, h = self.call("GET", f"/api/v1/leads/{a}", "/api/v1/leads/{id}", role="viewer")
        self.assertEqual((lead["lifecycle"]["status"], lead["lifecycle"]["version"], h["etag"]), ("Received", 1, '"1"'))
        self.assertEqual(lead["lifecycle"]["allowed_actions"], ["accept", "decline"])
        self.assertTrue(lead["lifecycle"]["hot"])
        self.assertEqual(lead["history"], [])
        # Missing and wrong fields: 400 naming the field; nothing changed.
        for body, field in [({k: v for k, v in ACCEPT.items() if k != "currency"}, "currency"),
                            (dict(ACCEPT, currency="usd"), "currency"), (dict(ACCEPT, close_date="31/03/2027"), "close_date"),
                            (dict(ACCEPT, deal_value="lots"), "deal_value"), (dict(ACCEPT, reason=2), "reason"),
                            (dict(ACCEPT, colour="red"), "colour"), (dict(ACCEPT, team=["nobody"]), "team")]:
            answer, _ = self.call("POST", f"/api/v1/leads/{a}/accept", "/api/v1/leads/{id}/accept", body, expect=400)
            self.assertEqual(answer["field"], field)
        status, _, data = self.d.admin("POST", f"/api/v1/leads/{a}/accept", b"{not json", "referrals_admin",
                                       {"Content-Type": "application/json"})
        self.assertEqual((status, json.loads(data)["field"]), (400, "body"))
        # Accept with If-Match of the current version.
        lead, h = self.call("POST", f"/api/v1/leads/{a}/accept", "/api/v1/leads/{id}/accept",
                            dict(ACCEPT, team=["ann@partner.example"], crm_id="CRM-7"), headers={"If-Match": '"1"'})
        lc = lead["lifecycle"]
        self.assertEqual((lc["status"], lc["version"], h["etag"]), ("Accepted", 2, '"2"'))
        self.assertEqual(lc["deal"], {"name": "Contoso rollout", "value": 25000.0, "currency": "USD",
                                      "close_date": "2027-03-31", "crm_id": "CRM-7", "campaign_id": None,
                                      "team": ["ann@partner.example"]})
        self.assertIsNone(lc["expires_at"])
        self.assertIsNotNone(lc["accepted_at"])
        self.assertEqual([(e["from_status"], e["to_status"], e["actor"]) for e in lead["history"]],
                         [("Received", "Accepted", "referrals_admin-token")])
        # Accepting again, declining an accepted lead: 409 naming the status and what is allowed.
        answer, _ = self.call("POST", f"/api/v1/leads/{a}/accept", "/api/v1/leads/{id}/accept", ACCEPT, expect=409)
        self.assertEqual((answer["status"], answer["allowed_actions"]), ("Accepted", ["update", "win", "lose"]))
        self.call("POST", f"/api/v1/leads/{a}/decline", "/api/v1/leads/{id}/decline", {"reason": 1}, expect=409)
        # A stale If-Match: 412 with the current version; the current one: applied.
        answer, h = self.call("PATCH", f"/api/v1/leads/{a}", "/api/v1/leads/{id}", {"deal_value": 30000},
                              headers={"If-Match": '"1"'}, expect=412)
        self.assertEqual((answer["version"], h["etag"]), (2, '"2"'))
        lead, _ = self.call("PATCH", f"/api/v1/leads/{a}", "/api/v1/leads/{id}", {"deal_value": 30000, "notes": "Bigger"},
                            headers={"If-Match": '"2"'})
        self.assertEqual((lead["lifecycle"]["deal"]["value"], lead["lifecycle"]["notes"], lead["lifecycle"]["version"]),
                         (30000.0, "Bigger", 3))
        self.call("PATCH", f"/api/v1/leads/{a}", "/api/v1/leads/{id}", {}, expect=400)
        self.call("PATCH", f"/api/v1/leads/{a}", "/api/v1/leads/{id}", {"reason": "1"}, expect=400)
        lead, _ = self.call("POST", f"/api/v1/leads/{a}/win", "/api/v1/leads/{id}/win", {"deal_value": 31000})
        self.assertEqual((lead["lifecycle"]["status"], lead["lifecycle"]["deal"]["value"]), ("Won", 31000.0))
        self.assertIsNotNone(lead["lifecycle"]["closed_at"])
        for verb, body in [("lose", {"reason": 3}), ("win", {}), ("accept", ACCEPT)]:
            answer, _ = self.call("POST", f"/api/v1/leads/{a}/{verb}", f"/api/v1/leads/{{id}}/{verb}", body, expect=409)
            self.assertEqual((answer["status"], answer["allowed_actions"]), ("Won", []))
        self.call("PATCH", f"/api/v1/leads/{a}", "/api/v1/leads/{id}", {"notes": "x"}, expect=409)
        # Decline by label (any case), lose needs a reason; an informational lead takes no answer.
        lead, _ = self.call("POST", f"/api/v1/leads/{b}/decline", "/api/v1/leads/{id}/decline",
                            {"reason": "customer didn't respond", "notes": "Three calls"})
        self.assertEqual((lead["lifecycle"]["status"], lead["lifecycle"]["reason"]), ("Declined", "Customer didn't respond"))
        answer, _ = self.call("POST", f"/api/v1/leads/{info}/accept", "/api/v1/leads/{id}/accept", ACCEPT, expect=409)
        self.assertEqual((answer["status"], answer["allowed_actions"]), ("Informational", []))
        # Favorites on any lead; twice is once.
        lead, _ = self.call("PUT", f"/api/v1/leads/{info}/favorite", "/api/v1/leads/{id}/favorite")
        self.assertEqual((lead["lifecycle"]["favorite"], lead["lifecycle"]["version"]), (True, 2))
        lead, _ = self.call("PUT", f"/api/v1/leads/{info}/favorite", "/api/v1/leads/{id}/favorite")
        self.assertEqual(lead["lifecycle"]["version"], 2)
        self.assertEqual(self.ids("favorite=true"), [info])
        self.call("DELETE", f"/api/v1/leads/{info}/favorite", "/api/v1/leads/{id}/favorite")
        self.assertEqual(self.ids("favorite=true"), [])
        reasons, _ = self.call("GET", "/api/v1/reasons", "/api/v1/reasons", role="viewer")
        self.assertEqual(reasons["reasons"][6]["label"], "Report as abuse, spam, or phishing")
        # Every change was logged with the token's name and no contact data.
        changed = [json.loads(line) for line in self.d.lines if '"event":"lead_changed"' in line]
        self.assertEqual(len(changed), 6)  # the second PUT changed nothing
        self.assertTrue(all(c["actor"] == "referrals_admin-token" for c in changed))
        self.assertFalse(any("contoso.com" in line for line in self.d.lines if '"event":"lead_changed"' in line))

    def test_tokens_and_roles(self):
        (a,) = self.post_leads([lead_body(0)])
        reads = ["/api/v1/leads", f"/api/v1/leads/{a}", "/api/v1/actions", "/api/v1/leads/export?format=csv",
                 "/api/v1/reasons"]
        for path in reads + ["/status", "/dlq"]:
            status, h, data = self.d.admin("GET", path, role=None)
            self.assertEqual(status, 401, path)
            self.assertEqual(h["www-authenticate"], 'Bearer realm="leadrelay"')
            status, _, _ = self.d.admin("GET", path, role=None, headers={"Authorization": "Bearer " + "0" * 40})
            self.assertEqual(status, 401, path)
        for path in reads:
            self.assertEqual(self.d.admin("GET", path, role="viewer")[0], 200, path)
            self.assertEqual(self.d.admin("GET", path, role="referrals_admin")[0], 200, path)
            self.assertEqual(self.d.admin("GET", path, role="operator")[0], 403, path)
        for path in ["/status", "/dlq"]:
            self.assertEqual(self.d.admin("GET", path, role="operator")[0], 200, path)
            self.assertEqual(self.d.admin("GET", path, role="viewer")[0], 403, path)
            self.assertEqual(self.d.admin("GET", path, role="referrals_admin")[0], 403, path)
        self.assertEqual(self.d.admin("POST", "/dlq/replay", role="viewer")[0], 403)
        for role, expect in [("viewer", 403), ("operator", 403), (None, 401)]:
            status, _, data = self.d.admin("POST", f"/api/v1/leads/{a}/accept", ACCEPT, role=role)
            self.assertEqual(status, expect, role)
            conforms("/api/v1/leads/{id}/accept", "post", status, json.loads(data))
        self.assertEqual(self.d.admin("PUT", f"/api/v1/leads/{a}/favorite", role="viewer")[0], 403)
        for path in ["/healthz", "/readyz", "/metrics"]:
            self.assertEqual(self.d.admin("GET", path, role=None)[0], 200, path)
        conforms("/readyz", "get", 200, json.loads(self.d.admin("GET", "/readyz", role=None)[2]))
        # Nothing was changed by the refused requests.
        self.assertEqual(self.call("GET", f"/api/v1/leads/{a}", "/api/v1/leads/{id}")[0]["lifecycle"]["version"], 1)
        # A reload that drops the viewer's token takes effect at once.
        with open(self.d.config) as f:
            text = f.read()
        with open(self.d.config, "w") as f:
            f.write(re.sub(r"    - \{name: viewer-token.*\n", "", text))
        self.d.proc.send_signal(1)
        self.d.wait_event("reload_applied")
        self.assertEqual(self.d.admin("GET", "/api/v1/leads", role="viewer")[0], 401)
        self.assertEqual(self.d.admin("GET", "/api/v1/leads", role="referrals_admin")[0], 200)

    def test_export_quotes_and_guards_formulas(self):
        ids = self.post_leads([
            lead_body(0, company='Fabrikam, "Ltd"'),
            lead_body(1, first="=HYPERLINK(\"http://evil\")", company="@Northwind"),
            lead_body(2, action="INS", company="Plain"),
        ])
        status, h, data = self.d.admin("GET", "/api/v1/leads/export?format=csv&status=Received", role="viewer")
        self.assertEqual(status, 200, data)
        self.assertTrue(h["content-type"].startswith("text/csv"))
        self.assertEqual(h["x-total-count"], "2")
        text = data.decode()
        self.assertTrue(text.endswith("\r\n"))
        rows = list(csv.reader(io.StringIO(text)))
        header = rows[0]
        self.assertEqual(header[:3], ["LeadCreationDateTime", "FirstName", "LastName"])
        for col in ["Email", "Company", "Country", "LeadSource", "CallToAction", "Offer", "LeadType", "Status",
                    "LeadQuality", "Email validity", "Phone validity", "DealName", "DealValue", "Currency", "CloseDate"]:
            self.assertIn(col, header)
        body = [dict(zip(header, r)) for r in rows[1:]]
        self.assertEqual([r["LeadId"] for r in body], [ids[1], ids[0]], "newest first, filtered")
        self.assertEqual(body[1]["Company"], 'Fabrikam, "Ltd"')
        self.assertIn('"Fabrikam, ""Ltd"""', text)
        self.assertEqual(body[0]["FirstName"], "'=HYPERLINK(\"http://evil\")")
        self.assertEqual(body[0]["Company"], "'@Northwind")
        tsv = self.d.admin("GET", "/api/v1/leads/export?format=tsv", role="viewer")
        self.assertEqual((tsv[0], tsv[1]["x-total-count"]), (200, "3"))
        self.assertTrue(tsv[1]["content-type"].startswith("text/tab-separated-values"))
        lines = tsv[2].decode().split("\r\n")
        self.assertEqual(len(lines[0].split("\t")), len(header))
        self.assertIn("Fabrikam, \"Ltd\"", lines[-2])  # TSV needs no quoting
        for query, field in [("format=xls", "format"), ("", "format"), ("format=csv&limit=9", None),
                             ("format=csv&cursor=s5", "cursor")]:
            status, _, data = self.d.admin("GET", "/api/v1/leads/export?" + query, role="viewer")
            if field is None:
                self.assertEqual(status, 200)
            else:
                self.assertEqual((status, json.loads(data)["field"]), (400, field), query)

    def test_command_line(self):
        a, b = self.post_leads([lead_body(0), lead_body(1)])
        conn = ["--admin", f"127.0.0.1:{self.d.admin_port}", "--token-file", self.d.token_file("referrals_admin")]

        def cli(*args, ok=True):
            r = subprocess.run([BIN, *args, *conn], capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode == 0, ok, r.stdout + r.stderr)
            return r

        listed = json.loads(cli("leads", "list", "--status", "Received", "--limit", "5").stdout)
        self.assertEqual([x["lead_id"] for x in listed["leads"]], [b, a])
        accepted = json.loads(cli("leads", "accept", a, "--deal-name", "Rollout", "--deal-value", "1200.5",
                                  "--currency", "EUR", "--close-date", "2027-01-15", "--notes", "Signed soon",
                                  "--team", "ann@partner.example,bob@partner.example", "--if-match", "1").stdout)
        self.assertEqual((accepted["lifecycle"]["status"], accepted["lifecycle"]["deal"]["team"]),
                         ("Accepted", ["ann@partner.example", "bob@partner.example"]))
        refused = cli("leads", "accept", a, "--deal-name", "x", ok=False)
        self.assertEqual(json.loads(refused.stdout)["error"], "conflict")
        self.assertEqual(json.loads(cli("leads", "win", a).stdout)["lifecycle"]["status"], "Won")
        self.assertEqual(json.loads(cli("leads", "decline", b, "--reason", "5").stdout)["lifecycle"]["reason"],
                         "Not a customer")
        self.assertTrue(json.loads(cli("leads", "favorite", b).stdout)["lifecycle"]["favorite"])
        self.assertFalse(json.loads(cli("leads", "favorite", b, "--off").stdout)["lifecycle"]["favorite"])
        self.assertEqual(len(json.loads(cli("leads", "show", a).stdout)["history"]), 2)
        out = os.path.join(self.d.dir, "leads.tsv")
        r = cli("export", "--format", "tsv", "--status", "Won", "--output", out)
        self.assertIn("1 leads match", r.stderr)
        with open(out) as f:
            self.assertIn(a, f.read())
        r = subprocess.run([BIN, "leads", "list", "--admin", f"127.0.0.1:{self.d.admin_port}"], capture_output=True,
                           text=True, timeout=30, env={k: v for k, v in os.environ.items() if k != "LEADRELAY_TOKEN"})
        self.assertEqual((r.returncode, json.loads(r.stdout)["error"]), (1, "unauthorized"))
        r = subprocess.run([BIN, "leads", "list", "--admin", f"127.0.0.1:{self.d.admin_port}"], capture_output=True,
                           text=True, timeout=30, env=dict(os.environ, LEADRELAY_TOKEN=self.d.tokens["viewer"]))
        self.assertEqual(r.returncode, 0, r.stderr)


class HostileAdminRequests(Api):
    """The admin listener answers malformed and oversized requests with clear errors and keeps serving."""

    def raw(self, data):
        s = socket.create_connection(("127.0.0.1", self.d.admin_port), timeout=10)
        try:
            s.sendall(data)
            return read_until_close(s)
        finally:
            s.close()

    def test_garbage_oversize_and_header_floods(self):
        token = self.d.tokens["referrals_admin"]
        self.assertTrue(self.raw(b"NOT HTTP AT ALL\r\n\r\n").startswith(b"HTTP/1.1 400"))
        # A 2 MiB body is refused from its Content-Length, before it is read.
        answer = self.raw(b"POST /api/v1/leads/abc/accept HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                          token.encode() + b"\r\nContent-Type: application/json\r\nContent-Length: " +
                          str(2 << 20).encode() + b"\r\n\r\n" + b"x" * 1000)
        self.assertTrue(answer.startswith(b"HTTP/1.1 413"), answer[:100])
        flood = b"GET /api/v1/leads HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"y" * 20000 + b"\r\n\r\n"
        self.assertTrue(self.raw(flood).startswith(b"HTTP/1.1 431"))
        status, _, data = self.d.admin("POST", "/api/v1/leads/abc/accept", b"[1,2", "referrals_admin",
                                       {"Content-Type": "application/json"})
        self.assertEqual((status, json.loads(data)["field"]), (400, "body"))
        status, _, data = self.d.admin("POST", "/api/v1/leads/abc/accept", b"deal=1", "referrals_admin",
                                       {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 415)
        self.assertEqual(self.d.admin("DELETE", "/api/v1/leads", role="referrals_admin")[0], 405)
        self.assertEqual(self.d.admin("GET", "/nowhere", role=None)[0], 404)
        # Still serving, on a kept-alive connection too.
        conn = http.client.HTTPConnection("127.0.0.1", self.d.admin_port, timeout=10)
        for _ in range(3):
            conn.request("GET", "/api/v1/reasons", headers={"Authorization": f"Bearer {token}"})
            resp = conn.getresponse()
            self.assertEqual(resp.status, 200)
            resp.read()
        conn.close()


class Expiry(Api):
    extra = "lifecycle:\n  response_window: 2s\n  hot_window: 1s\n"

    def test_unanswered_leads_expire_and_lose_their_contact(self):
        a, b = self.post_leads([lead_body(0), lead_body(1)])
        self.call("POST", f"/api/v1/leads/{b}/accept", "/api/v1/leads/{id}/accept", ACCEPT)
        waiting, _ = self.call("GET", "/api/v1/actions", "/api/v1/actions", role="viewer")
        self.assertEqual([x["lead_id"] for x in waiting["actions"]], [a])
        while (expired := self.d.wait_event("lead_changed", timeout=20))["to"] != "Expired":
            pass
        self.assertEqual((expired["lead_id"], expired["actor"]), (a, "leadrelay"))
        lead, _ = self.call("GET", f"/api/v1/leads/{a}", "/api/v1/leads/{id}", role="viewer")
        self.assertEqual(lead["lifecycle"]["status"], "Expired")
        self.assertFalse(lead["lifecycle"]["hot"])
        c = lead["contact"]
        self.assertEqual((c["first_name"], c["last_name"], c["email"], c["phone"]), (None, None, None, None))
        self.assertEqual(c["company"], "Company 0")
        self.assertNotIn("buyer0@", json.dumps(lead))
        csv_text = self.d.admin("GET", "/api/v1/leads/export?format=csv&status=Expired", role="viewer")[2].decode()
        self.assertNotIn("buyer0@", csv_text)
        self.assertIn(a, csv_text)
        # The accepted lead never expires; nothing is waiting any more.
        self.assertEqual(self.call("GET", f"/api/v1/leads/{b}", "/api/v1/leads/{id}")[0]["lifecycle"]["status"],
                         "Accepted")
        self.assertEqual(self.call("GET", "/api/v1/actions", "/api/v1/actions", role="viewer")[0]["actions"], [])
        self.call("POST", f"/api/v1/leads/{a}/accept", "/api/v1/leads/{id}/accept", ACCEPT, expect=409)


class ExpiryAtStart(unittest.TestCase):
    def test_leads_due_while_down_expire_at_start(self):
        d = Daemon()
        try:
            d.start()
            ids = []
            for n in range(3):
                status, _, data = d.post(lead_body(n))
                ids.append(json.loads(data)["lead_id"])
            d.stored(routed=True)
            d.stop()
            # 15 days later (an injected clock): past the 14-day response window.
            d.start(clock_offset="15d")
            at_start = [json.loads(line) for line in d.lines if '"event":"leads_expired_at_start"' in line]
            self.assertEqual([e["leads"] for e in at_start], [3])
            statuses = {x["lead_id"]: x["lifecycle"]["status"]
                        for x in d.admin_json("GET", "/api/v1/leads", role="viewer")["leads"]}
            self.assertEqual(statuses, {i: "Expired" for i in ids})
        finally:
            d.close()


class Events(Api):
    def setUp(self):
        self.broker = DevBroker()
        self.extra = kafka_config(self.broker.bootstrap, "  - name: all\n    to: [{kafka: leads.all}]\n")
        super().setUp()

    def tearDown(self):
        super().tearDown()
        self.broker.close()

    def test_every_change_is_published_keyed_like_the_lead(self):
        a, b = self.post_leads([lead_body(0), lead_body(1)])
        self.call("POST", f"/api/v1/leads/{a}/accept", "/api/v1/leads/{id}/accept", ACCEPT)
        self.call("PATCH", f"/api/v1/leads/{a}", "/api/v1/leads/{id}", {"close_date": "2027-04-30"})
        self.call("POST", f"/api/v1/leads/{a}/lose", "/api/v1/leads/{id}/lose", {"reason": 3, "notes": "Went elsewhere"})
        self.call("POST", f"/api/v1/leads/{b}/decline", "/api/v1/leads/{id}/decline", {"reason": 7})
        events = consume(self.broker.bootstrap, "leads.events", count=4)
        leads = {m[2]["lead_id"]: m[0] for m in consume(self.broker.bootstrap, "leads.all", count=2)}
        for key, headers, event in events:
            jsonschema.Draft4Validator(EVENT_SCHEMA).validate(event)
            self.assertEqual(key, leads[event["lead_id"]], "keyed like the lead")
            self.assertEqual((headers["lead-schema"], headers["lead-id"]), ("lead-event.v1", event["lead_id"]))
            self.assertNotIn("contoso.com", json.dumps(event))
        mine = sorted((e for _, _, e in events if e["lead_id"] == a), key=lambda e: e["version"])
        self.assertEqual([(e["action"], e["from_status"], e["to_status"], e["version"]) for e in mine],
                         [("accept", "Received", "Accepted", 2), ("update", "Accepted", "Accepted", 3),
                          ("lose", "Accepted", "Lost", 4)])
        self.assertEqual(mine[1]["changed"], {"close_date": "2027-04-30"})
        self.assertEqual(mine[2]["changed"], {"status": "Lost", "reason": "Customer chose another vendor",
                                              "notes": "Went elsewhere"})
        declined = [e for _, _, e in events if e["lead_id"] == b][0]
        self.assertEqual(declined["changed"]["reason"], "Report as abuse, spam, or phishing")


class KillDuringChanges(unittest.TestCase):
    def test_no_answered_change_lost_or_applied_twice(self):
        d = Daemon()
        try:
            d.start()
            ids = []
            with concurrent.futures.ThreadPoolExecutor(16) as pool:
                for status, _, data in pool.map(lambda n: d.post(lead_body(n)), range(200)):
                    self.assertEqual(status, 202)
                    ids.append(json.loads(data)["lead_id"])
            d.stored(routed=True)
            answered = {}

            def accept(lead_id):
                try:
                    status, _, data = d.admin("POST", f"/api/v1/leads/{lead_id}/accept", ACCEPT, "referrals_admin",
                                              {"If-Match": '"1"'}, timeout=10)
                    return lead_id, status
                except OSError:
                    return lead_id, None

            killed = False
            with concurrent.futures.ThreadPoolExecutor(200) as pool:
                futures = [pool.submit(accept, i) for i in ids]
                for n, f in enumerate(concurrent.futures.as_completed(futures)):
                    lead_id, status = f.result()
                    answered[lead_id] = status
                    if n == 20 and not killed:
                        d.kill9()
                        killed = True
            ok = {i for i, s in answered.items() if s == 200}
            self.assertGreaterEqual(len(ok), 21)
            d.start()
            leads = {}
            cursor = ""
            while True:
                page = d.admin_json("GET", "/api/v1/leads?limit=500" + cursor, role="viewer")
                leads.update({x["lead_id"]: x["lifecycle"] for x in page["leads"]})
                if page["next_cursor"] is None:
                    break
                cursor = "&cursor=" + page["next_cursor"]
            self.assertEqual(len(leads), 200)
            for lead_id in ok:
                self.assertEqual((leads[lead_id]["status"], leads[lead_id]["version"]), ("Accepted", 2), lead_id)
            for lifecycle in leads.values():
                self.assertIn((lifecycle["status"], lifecycle["version"]), {("Accepted", 2), ("Received", 1)})
            import sqlite3
            db = sqlite3.connect(f"file:{d.db_path}?mode=ro", uri=True)
            events = db.execute("SELECT lead_seq, COUNT(*) FROM lead_events GROUP BY lead_seq").fetchall()
            db.close()
            accepted = sum(1 for x in leads.values() if x["status"] == "Accepted")
            self.assertEqual((len(events), max(c for _, c in events)), (accepted, 1))
            print(f"kill -9 during 200 concurrent accepts: {len(ok)} answered 200 before the kill, all kept; "
                  f"{accepted} stored in all, none twice", flush=True)
            # The rest can still be answered.
            rest = [i for i, x in leads.items() if x["status"] == "Received"]
            if rest:
                self.assertEqual(d.admin("POST", f"/api/v1/leads/{rest[0]}/accept", ACCEPT, "referrals_admin")[0], 200)
        finally:
            d.close()


if __name__ == "__main__":
    unittest.main()
