"""Partner Center referrals through the real binary, against the emulator in partner_center.py: signed events
answered 202 before any fetch; the referral fetched, mapped and published with its classification; Partner
Center's status changes applied as lifecycle events; accept / decline / win written back exactly once (also
across kill -9), the 412 race, nothing written to a Closed referral; missed events found by the poll; 100
referrals under 429/503 faults arriving once each; 404s and malformed referrals as dead letters; the refresh
token rotated in its file, renewed on 401, and a refused one waited out."""
import json
import os
import stat
import tempfile
import time
import unittest

import jsonschema

from emulators import TestCA
from harness import SOURCE_DIR, Daemon, DevBroker, consume, kafka_config, schema_errors
from partner_center import PartnerCenter, referral

with open(os.path.join(SOURCE_DIR, "schemas", "lead-event.v1.json")) as f:
    EVENT_SCHEMA = json.load(f)

ACCEPT = {"deal_name": "Contoso rollout", "deal_value": 25000, "currency": "EUR", "close_date": "2027-03-31",
          "notes": "Call booked for Monday"}


class Referrals(unittest.TestCase):
    poll_interval = "1h"   # the poll runs at start; tests that need more set it shorter
    pc_extra = ""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.ca = TestCA(cls.tmp.name)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def setUp(self):
        self.pc = PartnerCenter(self.ca)
        self.broker = DevBroker()
        self.d = Daemon(source_extra=self.pc.source(),
                        extra=kafka_config(self.broker.bootstrap, "  - name: all\n    to: [{kafka: leads.all}]\n"))
        self.rt_file = os.path.join(self.d.dir, "partner-center.refresh-token")
        with open(self.rt_file, "w") as f:
            f.write(self.pc.refresh_token + "\n")
        os.chmod(self.rt_file, 0o600)
        self.d.extra += self.pc.config(self.rt_file, self.poll_interval, self.pc_extra)
        self.d.write_config()
        self.d.start()

    def tearDown(self):
        self.d.close()
        self.pc.close()
        self.broker.close()

    # --- helpers ---
    def send(self, name, rid, expect=202, **kwargs):
        body, headers = self.pc.event(name, rid, **kwargs)
        status, _, data = self.d.post(body, path="/referrals/referrals", headers=headers)
        self.assertEqual(status, expect, data)
        return json.loads(data or b"{}")

    def leads(self):
        status, _, data = self.d.admin("GET", "/api/v1/leads?limit=500", role="viewer")
        self.assertEqual(status, 200, data)
        return json.loads(data)["leads"]

    def wait_leads(self, count, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            got = [x for x in self.leads() if x.get("partner_center")]
            if len(got) >= count:
                return got
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(got)} of {count} referral leads listed")
            time.sleep(0.05)  # the listing is what to watch: the pipeline logs no event per lead

    def lead_of(self, rid, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            for x in self.leads():
                if (x.get("partner_center") or {}).get("referral_id") == rid:
                    return x
            if time.monotonic() > deadline:
                raise TimeoutError(f"no lead for {rid}")
            time.sleep(0.05)

    def show(self, lead_id):
        status, headers, data = self.d.admin("GET", f"/api/v1/leads/{lead_id}", role="viewer")
        self.assertEqual(status, 200, data)
        return json.loads(data), headers

    def wait_status(self, lead_id, status, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            shown, _ = self.show(lead_id)
            if shown["lifecycle"]["status"] == status:
                return shown
            if time.monotonic() > deadline:
                raise TimeoutError(f"{lead_id} is {shown['lifecycle']['status']}, not {status}")
            time.sleep(0.05)

    def act(self, lead_id, action, body, expect=200):
        status, _, data = self.d.admin("POST", f"/api/v1/leads/{lead_id}/{action}", body, role="referrals_admin")
        self.assertEqual(status, expect, data)
        return json.loads(data)

    def patches_of(self, rid):
        with self.pc.cond:
            return [(ops, at) for r, ops, at in self.pc.patches if r == rid]


class Flow(Referrals):
    def test_created_fetched_published_with_classification(self):
        r = self.pc.add(referral(1))
        self.pc.outage = True  # Partner Center is down: the event is still stored and answered first
        answer = self.send("referral-created", r["id"])
        self.assertEqual(answer["status"], "accepted")
        with self.pc.cond:
            self.assertFalse(any(p.endswith(r["id"]) and s == 200 for _, p, s in self.pc.requests))
        self.pc.outage = False
        (key, headers, lead), = consume(self.broker.bootstrap, "leads.all", count=1)
        self.assertEqual(schema_errors([lead]), "")
        self.assertEqual(lead["source"], {"name": "referrals", "format": "pc-referral"})
        self.assertEqual(lead["classification"], "sales_qualified")
        self.assertEqual(lead["lead_type"], "offer")
        self.assertEqual(lead["program"], "Digital sales opportunity")
        self.assertEqual(lead["action"]["call_to_action"], "ContactMe")
        self.assertTrue(lead["action"]["customer_requested_contact"])
        self.assertEqual(lead["contact"]["email"], "ana1@contoso.com")
        self.assertEqual(lead["contact"]["company"], "Contoso 1 Ltd")
        self.assertEqual(lead["contact"]["country"], "US")
        self.assertEqual(lead["description"], "Wants a demo in Q1")
        pc = lead["partner_center"]
        self.assertEqual((pc["referral_id"], pc["engagement_id"], pc["etag"]), (r["id"], r["engagementId"], r["eTag"]))
        self.assertEqual((pc["deal_value"], pc["currency"]), (5000, "USD"))
        self.assertEqual(pc["requirements"], {"products": ["Contoso Analytics"], "services": ["Consulting"],
                                              "industries": ["Retail"]})
        self.assertEqual(headers["lead-source"], "referrals")
        shown, _ = self.show(lead["lead_id"])
        self.assertEqual(shown["lifecycle"]["status"], "Received")
        self.assertTrue(shown["lifecycle"]["hot"])
        # The same event again (Partner Center retries) and an update are still one lead.
        self.send("referral-created", r["id"], expect=200)
        self.send("referral-updated", r["id"])
        self.pc.wait(lambda pc: sum(1 for m, p, s in pc.requests if m == "GET" and p.endswith(r["id"])) >= 2)
        self.assertEqual(len(self.wait_leads(1)), 1)

    def test_profile_consent_and_unknown_values(self):
        r = self.pc.add(referral(2, qualification="SomethingNew", cta="Whatever", target={"type": "BusinessProfileLocation"},
                                 consent={"consentToContact": False, "consentToToShareInfoWithOthers": False},
                                 status="New", substatus="Pending"))
        self.send("referral-created", r["id"])
        lead = self.lead_of(r["id"])
        self.assertEqual(lead["lead_type"], "profile")
        self.assertEqual(lead["classification"], "customer_inquiry")
        self.assertEqual(lead["partner_center"]["qualification"], "SomethingNew")
        self.assertEqual(lead["action"]["code"], "Whatever")
        self.assertFalse(lead["contactable"])
        self.assertEqual(lead["lifecycle"]["status"], "Received")

    def test_bad_events(self):
        body, headers = self.pc.event("referral-deleted", "ref-1")
        status, _, data = self.d.post(body, path="/referrals/referrals", headers=headers)
        self.assertEqual(status, 400)
        self.assertIn("referral-deleted", json.loads(data)["message"])
        body, headers = self.pc.event("referral-updated", "x", uri="https://api.partnercenter.microsoft.com/referrals/")
        status, _, data = self.d.post(body, path="/referrals/referrals", headers=headers)
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(data)["field"], "ResourceUri")
        body, _ = self.pc.event("referral-created", "ref-1")
        status, _, _ = self.d.post(body, path="/referrals/referrals")
        self.assertEqual(status, 401)

    def test_updated_in_partner_center_is_a_lifecycle_event(self):
        r = self.pc.add(referral(3))
        self.send("referral-created", r["id"])
        lead = self.lead_of(r["id"])
        self.pc.update(r["id"], status="Closed", substatus="Lost", statusReason="Customer chose another vendor")
        self.send("referral-updated", r["id"])
        shown = self.wait_status(lead["lead_id"], "Lost")
        self.assertEqual(shown["lifecycle"]["reason"], "Customer chose another vendor")
        events = consume(self.broker.bootstrap, "leads.events", count=1)
        self.assertEqual(len(events), 1)
        event = events[0][2]
        jsonschema.Draft4Validator(EVENT_SCHEMA).validate(event)
        self.assertEqual((event["action"], event["actor"], event["from_status"], event["to_status"]),
                         ("sync", "partner-center", "Received", "Lost"))
        self.assertEqual(event["referral_id"], r["id"])
        self.assertEqual(self.patches_of(r["id"]), [], "Partner Center's own change is not written back")

    def test_answers_written_back_once(self):
        a = self.pc.add(referral(4))
        b = self.pc.add(referral(5))
        self.send("referral-created", a["id"])
        self.send("referral-created", b["id"])
        la, lb = self.lead_of(a["id"]), self.lead_of(b["id"])
        self.act(la["lead_id"], "accept", ACCEPT)
        self.act(lb["lead_id"], "decline", {"reason": 5, "notes": "a competitor"})
        self.pc.wait(lambda pc: len([1 for rid, _, _ in pc.patches if rid in (a["id"], b["id"])]) >= 2)
        ra = self.pc.get_referral(a["id"])
        self.assertEqual((ra["status"], ra["substatus"], ra["name"]), ("Active", "Accepted", "Contoso rollout"))
        self.assertEqual((ra["details"]["dealValue"], ra["details"]["currency"], ra["details"]["closingDateTime"],
                          ra["details"]["notes"]), (25000, "EUR", "2027-03-31T00:00:00Z", "Call booked for Monday"))
        rb = self.pc.get_referral(b["id"])
        self.assertEqual((rb["status"], rb["substatus"], rb["statusReason"]), ("Closed", "Declined", "Not a customer"))
        for ops, _ in self.patches_of(a["id"]) + self.patches_of(b["id"]):
            self.assertTrue(all(op["op"] in ("replace", "add") for op in ops))
        # Partner Center echoes the write with referral-updated: nothing changes, nothing is written again.
        before = self.show(la["lead_id"])[0]["lifecycle"]["version"]
        self.send("referral-updated", a["id"])
        self.pc.wait(lambda pc: sum(1 for m, p, s in pc.requests if m == "GET" and p.endswith(a["id"])) >= 2)
        self.act(la["lead_id"], "win", {"deal_value": 30000})
        self.pc.wait(lambda pc: pc.referrals[a["id"]]["substatus"] == "Won")
        self.assertEqual(self.pc.get_referral(a["id"])["details"]["dealValue"], 30000)
        self.assertEqual(len(self.patches_of(a["id"])), 2, "accept once, win once")
        self.assertEqual(len(self.patches_of(b["id"])), 1)
        self.assertEqual(self.show(la["lead_id"])[0]["lifecycle"]["version"], before + 1)

    def test_412_race(self):
        a = self.pc.add(referral(6))
        b = self.pc.add(referral(7))
        for r in (a, b):
            self.send("referral-created", r["id"])
        la, lb = self.lead_of(a["id"]), self.lead_of(b["id"])
        # a: someone edits the notes just before leadrelay's PATCH lands: 412, read again, still New, written.
        self.pc.before_patch[a["id"]] = lambda r: r["details"].update(notes="edited in Partner Center")
        # b: a seller closes it just before: 412, read again, Closed: nothing written, the conflict recorded.
        self.pc.before_patch[b["id"]] = lambda r: r.update(status="Closed", substatus="Lost")
        self.act(la["lead_id"], "accept", ACCEPT)
        self.act(lb["lead_id"], "accept", ACCEPT)
        self.pc.wait(lambda pc: pc.referrals[a["id"]]["substatus"] == "Accepted")
        self.assertEqual(len(self.patches_of(a["id"])), 1)
        self.d.wait_event("partner_center_conflict")
        deadline = time.monotonic() + 30
        while True:
            history = self.show(lb["lead_id"])[0]["history"]
            conflicts = [h for h in history if h["action"] == "conflict"]
            if conflicts or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(len(conflicts), 1, history)
        self.assertEqual(conflicts[0]["conflict"]["partner_center_status"], "Closed/Lost")
        jsonschema.Draft4Validator(EVENT_SCHEMA).validate(conflicts[0])
        self.assertEqual(self.patches_of(b["id"]), [], "nothing is written to a Closed referral")
        statuses = [p[2] for p in self.pc.patches]
        self.assertFalse(any(s.startswith("Closed") for s in statuses))

    def test_kill9_between_change_and_write_back(self):
        a = self.pc.add(referral(8))
        b = self.pc.add(referral(9))
        for r in (a, b):
            self.send("referral-created", r["id"])
        la, lb = self.lead_of(a["id"]), self.lead_of(b["id"])
        # a: Partner Center is down while the change is made; leadrelay dies before it can write it.
        self.pc.outage = True
        self.act(la["lead_id"], "accept", ACCEPT)
        self.pc.wait(lambda pc: pc.outage_answers >= 1)
        self.d.kill9()
        self.pc.outage = False
        # b: the PATCH lands but its answer never comes; leadrelay dies waiting.
        self.d.start()
        self.pc.wait(lambda pc: pc.referrals[a["id"]]["substatus"] == "Accepted")
        self.pc.faults = ["hang_after_patch"]
        self.act(lb["lead_id"], "accept", ACCEPT)
        self.pc.wait(lambda pc: len([1 for rid, _, _ in pc.patches if rid == b["id"]]) == 1)
        self.d.kill9()
        self.d.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with self.pc.cond:
                gets = sum(1 for m, p, s in self.pc.requests if m == "GET" and p.endswith(b["id"]) and s == 200)
            if gets >= 3:  # the fetch, the first write-back's read, and the read after the restart
                break
            time.sleep(0.05)
        self.assertEqual(len(self.patches_of(a["id"])), 1)
        self.assertEqual(len(self.patches_of(b["id"])), 1)
        self.assertEqual(self.pc.get_referral(b["id"])["substatus"], "Accepted")

    def test_malformed_and_missing_referrals_are_dead_letters(self):
        good = self.pc.add(referral(10))
        self.pc.garbage.add(good["id"])
        self.send("referral-created", good["id"])

        def dead_letters(count):
            deadline = time.monotonic() + 30
            while True:
                status, _, data = self.d.admin("GET", "/dlq")
                letters = json.loads(data)["dead_letters"]
                if len(letters) >= count or time.monotonic() > deadline:
                    return letters
                time.sleep(0.05)  # the dead-letter list is what to watch
        dead_letters(1)
        self.send("referral-created", "ref-missing")
        letters = dead_letters(2)
        errors = sorted(x["error"] for x in letters)
        self.assertEqual(len(errors), 2, letters)
        self.assertIn("malformed referral", errors[0])
        self.assertIn("not found at Partner Center (404)", errors[1])
        self.assertEqual(self.d.get("/healthz")[0], 200)
        # Replayed once the referral reads well, it arrives.
        self.pc.garbage.clear()
        status, _, data = self.d.admin("POST", "/dlq/replay?sink=fetch:partner-center")
        self.assertEqual(status, 200, data)
        self.lead_of(good["id"])


class Poll(Referrals):
    poll_interval = "1s"
    pc_extra = "  page_size: 10\n"

    def test_missed_events_found_by_the_poll(self):
        ids = [self.pc.add(referral(100 + i))["id"] for i in range(25)]  # no webhook for any of them
        got = self.wait_leads(25)
        self.assertEqual(sorted(x["partner_center"]["referral_id"] for x in got), sorted(ids))
        with self.pc.cond:
            self.assertTrue(any("skiptoken" in p for m, p, s in self.pc.requests), "paged by nextLink")
        # A webhook for one of them now, and a later change found by the poll: still one lead each.
        self.send("referral-created", ids[0])
        self.pc.update(ids[1], status="Active", substatus="Accepted", name="Seller accepted")
        lead = self.lead_of(ids[1])
        shown = self.wait_status(lead["lead_id"], "Accepted")
        self.assertEqual(shown["lifecycle"]["deal"]["name"], "Seller accepted")
        self.assertEqual(len(self.wait_leads(25)), 25)
        import sqlite3
        db = sqlite3.connect(f"file:{self.d.db_path}?mode=ro", uri=True)
        (watermark,), = db.execute("SELECT value FROM cursors WHERE name = 'partner_center_poll'").fetchall()
        db.close()
        self.assertGreater(watermark, 0)

    def test_100_referrals_under_faults_arrive_once(self):
        self.d.stop()
        ids = []
        self.pc.outage = True
        self.d.start()
        for i in range(100):
            r = self.pc.add(referral(300 + i))
            ids.append(r["id"])
            self.send("referral-created", r["id"])
        self.pc.wait(lambda pc: pc.outage_answers >= 20)
        self.pc.faults = ["hang", "malformed", 500]
        self.pc.outage = False
        messages = consume(self.broker.bootstrap, "leads.all", count=100, timeout=120)
        got = [m[2]["partner_center"]["referral_id"] for m in messages]
        self.assertEqual(sorted(got), sorted(ids))


class Tokens(Referrals):
    def test_rotation_renewal_and_refusal(self):
        r = self.pc.add(referral(20))
        self.send("referral-created", r["id"])
        self.lead_of(r["id"])
        with open(self.rt_file) as f:
            self.assertEqual(f.read().strip(), self.pc.refresh_token)
        self.assertNotEqual(self.pc.refresh_token, "rt-initial")
        self.assertEqual(stat.S_IMODE(os.stat(self.rt_file).st_mode), 0o600)
        # The access token expires: one 401, one renewal, the fetch goes through.
        self.pc.expire_tokens()
        s = self.pc.add(referral(21))
        self.send("referral-created", s["id"])
        self.lead_of(s["id"])
        # The refresh token is revoked: logged with what to do; the referral waits, and arrives once fixed.
        self.pc.expire_tokens()
        self.pc.refresh_valid = False
        t = self.pc.add(referral(22))
        self.send("referral-created", t["id"])
        event = self.d.wait_event("partner_center_token_refused")
        self.assertIn("refresh token", event["hint"])
        self.pc.refresh_valid = True
        self.lead_of(t["id"], timeout=60)
        self.assertEqual(len(self.wait_leads(3)), 3)


class ClientCredentials(Referrals):
    """The app-only option, where a tenant allows it: no refresh token is used or written."""
    pc_extra = "  grant: client_credentials\n  client_secret_env: LEADRELAY_TEST_PC_SECRET\n"

    def setUp(self):
        os.environ["LEADRELAY_TEST_PC_SECRET"] = "pc-app-secret"
        super().setUp()

    def test_app_only_token(self):
        r = self.pc.add(referral(30))
        self.send("referral-created", r["id"])
        self.lead_of(r["id"])
        with self.pc.cond:
            grants = {f.get("grant_type") for f in self.pc.token_requests}
        self.assertEqual(grants, {"client_credentials"})
        with open(self.rt_file) as f:
            self.assertEqual(f.read().strip(), "rt-initial")


if __name__ == "__main__":
    unittest.main()
