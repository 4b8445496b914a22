"""CRM sinks against emulators of Dynamics 365 (Dataverse), Salesforce and HubSpot over HTTPS with a test CA:
field mapping, token issue and expiry (401 → one refresh), upsert so that a retry after a lost answer updates
instead of duplicating, throttling (429 Retry-After, Salesforce 403 REQUEST_LIMIT_EXCEEDED), 500/503, a hung
server, malformed answers, permanent refusals (Salesforce 300 multiple matches) as dead letters, and 500 leads
to all three at once under faults, replayed until every emulator holds exactly the unique leads; lifecycle changes
as status updates of the records the sinks made (never new ones)."""
import json
import os
import subprocess
import tempfile
import time
import unittest
import urllib.request

from emulators import CrmEmulator, TestCA
from harness import BIN, Daemon, lead

KINDS = ("dynamics", "salesforce", "hubspot")


def crm_sink(kind, emulator, ca, batch_size=None):
    text = f"  - name: {kind}\n    type: {kind}\n    url: \"{emulator.url}\"\n    ca_file: \"{ca.ca_cert}\"\n"
    if batch_size:
        text += f"    batch_size: {batch_size}\n"
    if kind == "dynamics":
        text += f"    token_url: \"{emulator.url}/token\"\n"
    if kind == "hubspot":
        text += "    token_file: hub.token\n"
    else:
        text += f"    client_id: {CrmEmulator.CLIENT_ID}\n    client_secret_file: crm.secret\n"
    return text + ("    initial_backoff: 20ms\n    max_backoff: 200ms\n    breaker_failures: 5\n"
                   "    breaker_cooldown: 200ms\n    request_timeout: 500ms\n")


def email(n):
    return f"person{n}@contoso.com"


def key_of(kind, emulator, n):
    """The record the emulator holds for person n."""
    if kind == "hubspot":
        return emulator.records.get(email(n))
    field = "emailaddress1" if kind == "dynamics" else "Email"
    for fields in emulator.records.values():
        if fields.get(field) == email(n):
            return fields
    return None


class CrmCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.ca = TestCA(self.tmp.name)
        self.emulators = {}
        self.d = None

    def tearDown(self):
        if self.d:
            self.d.close()
        for e in self.emulators.values():
            e.close()
        self.tmp.cleanup()

    def start(self, kinds, faults=None, batch_size=None):
        for kind in kinds:
            self.emulators[kind] = CrmEmulator(kind, self.ca, (faults or {}).get(kind))
        self.d = Daemon()
        with open(os.path.join(self.d.dir, "crm.secret"), "w") as f:
            f.write(CrmEmulator.CLIENT_SECRET + "\n")
        with open(os.path.join(self.d.dir, "hub.token"), "w") as f:
            f.write(CrmEmulator.HUB_TOKEN + "\n")
        sinks = "".join(crm_sink(k, self.emulators[k], self.ca, batch_size if k == "salesforce" else None)
                        for k in kinds)
        targets = ", ".join(f"{{sink: {k}}}" for k in kinds)
        self.d.extra = f"sinks:\n{sinks}routes:\n  - name: crm\n    to: [{targets}]\n"
        self.d.write_config()
        self.d.start()

    def post(self, n):
        status, _, _ = self.d.post(lead(n))
        self.assertEqual(status, 202)

    def dead_letters(self, sink=None):
        q = f"?sink={sink}" if sink else ""
        req = urllib.request.Request(f"http://127.0.0.1:{self.d.admin_port}/dlq{q}",
                                     headers={"Authorization": f"Bearer {self.d.tokens['operator']}"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())["dead_letters"]

    def dlq(self, *args):
        r = subprocess.run([BIN, "dlq", *args, "--admin", f"127.0.0.1:{self.d.admin_port}",
                            "--token-file", self.d.token_file()], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return json.loads(r.stdout)


class EachCrm(CrmCase):
    def check_one(self, kind, faults):
        self.start([kind], {kind: faults}, batch_size=1)  # Salesforce: one record per request (the 300 answer)
        e = self.emulators[kind]
        # 1. Faults first, then the answer: delivered once. A lost answer after the write made an update.
        self.post(1)
        e.wait_for(lambda x: key_of(kind, x, 1) is not None and not x.faults and x.answers[-1] in (200, 201, 204))
        self.assertEqual(e.creates, 1)
        self.assertEqual(e.updates, 1, "the retry after the lost answer updated the record it had created")
        self.assertEqual(len(e.records), 1)
        # 2. Tokens expire: one 401, one new token, then delivered.
        tokens_before = e.token_requests
        e.revoke_tokens()
        self.post(2)
        e.wait_for(lambda x: key_of(kind, x, 2) is not None)
        if kind != "hubspot":
            self.assertEqual(e.token_requests, tokens_before + 1)
            self.assertIn(401, e.answers)
        # 3. A permanent refusal is a dead letter with the CRM's words; others carry on.
        e.refuse[email(3)] = "multiple" if kind == "salesforce" else "invalid"
        self.post(3)
        self.post(4)
        e.wait_for(lambda x: key_of(kind, x, 4) is not None)
        dead = self.dead_letters(kind)
        self.assertEqual(len(dead), 1)
        return e, dead[0]

    def test_dynamics(self):
        e, dead = self.check_one("dynamics", ["hang_after_store", 429, 503, 500, "malformed"])
        self.assertIn("HTTP 400", dead["error"])
        self.assertIn("Invalid value for emailaddress1", dead["error"])
        r = key_of("dynamics", e, 1)
        self.assertEqual(r["lastname"], "Doe")
        self.assertEqual(r["emailaddress1"], "person1@contoso.com")
        self.assertEqual(r["telephone1"], "+16175555555")  # the E.164 form from validation
        self.assertEqual(r["address1_country"], "US")
        self.assertEqual(r["leadsourcecode"], "8")
        self.assertEqual(r["subject"], "Contoso Analytics Pro")

    def test_salesforce(self):
        e, dead = self.check_one("salesforce", ["hang_after_store", "limit", 429, 503, "malformed"])
        self.assertIn("HTTP 300: several Lead records", dead["error"])
        r = key_of("salesforce", e, 1)
        self.assertEqual((r["LastName"], r["Company"], r["LeadSource"]), ("Doe", "Contoso", "Microsoft Marketplace"))
        self.assertEqual(r["Phone"], "+16175555555")
        self.assertIn(403, e.answers)  # REQUEST_LIMIT_EXCEEDED was retried, not taken for an auth failure

    def test_hubspot(self):
        e, dead = self.check_one("hubspot", ["hang_after_store", 429, 500, 503, "malformed"])
        self.assertIn("VALIDATION_ERROR", dead["error"])
        r = key_of("hubspot", e, 1)
        self.assertEqual((r["email"], r["firstname"], r["company"], r["hs_lead_status"]),
                         ("person1@contoso.com", "Person1", "Contoso", "NEW"))


class StatusUpdates(CrmCase):
    """A lifecycle change reaches each CRM as an update of the record it made, with the default status mapping."""

    def test_changes_update_the_records_each_crm_made(self):
        self.start(KINDS, {"dynamics": [429], "salesforce": [503], "hubspot": [500]})
        ids = []
        for n in range(3):
            body = json.loads(lead(n))
            body["ActionCode"] = "PLT"  # Contact me: needs an answer
            status, _, data = self.d.post(json.dumps(body).encode())
            self.assertEqual(status, 202)
            ids.append(json.loads(data)["lead_id"])
        for e in self.emulators.values():
            e.wait_for(lambda em: len(em.records) == 3)
        accept = {"deal_name": "Rollout", "deal_value": 1000, "currency": "USD", "close_date": "2027-01-31",
                  "notes": "Booked"}
        for path, body in [(f"{ids[0]}/accept", accept), (f"{ids[0]}/win", {}), (f"{ids[1]}/decline", {"reason": 1}),
                           (f"{ids[2]}/accept", accept)]:
            self.assertEqual(self.d.admin("POST", f"/api/v1/leads/{path}", body, "referrals_admin")[0], 200, path)
        # Deal edits and favorites move no status: they send nothing to the CRMs.
        self.assertEqual(self.d.admin("PATCH", f"/api/v1/leads/{ids[2]}", {"notes": "later"}, "referrals_admin")[0], 200)
        self.assertEqual(self.d.admin("PUT", f"/api/v1/leads/{ids[1]}/favorite", None, "referrals_admin")[0], 200)
        want = {
            "dynamics": ("statecode", "statuscode", {0: (1, 3), 1: (2, 6), 2: (0, 2)}),
            "salesforce": ("Status", None, {0: "Closed - Converted", 1: "Closed - Not Converted", 2: "Working - Contacted"}),
            "hubspot": ("hs_lead_status", None, {0: "OPEN_DEAL", 1: "UNQUALIFIED", 2: "IN_PROGRESS"}),
        }

        def settled(kind):
            field, second, expect = want[kind]
            e = self.emulators[kind]
            for n, value in expect.items():
                r = key_of(kind, e, n)
                got = (r.get(field), r.get(second)) if second else r.get(field)
                if got != value:
                    return False
            return True
        for kind, e in self.emulators.items():
            e.wait_for(lambda em, k=kind: settled(k))
            self.assertEqual(len(e.records), 3, kind)  # updates, never new records
        self.assertEqual(key_of("hubspot", self.emulators["hubspot"], 0)["lifecyclestage"],
                         "customer")
        self.assertEqual(key_of("dynamics", self.emulators["dynamics"], 0)["lastname"], "Doe")  # the rest kept
        self.assertEqual(json.loads(self.d.admin("GET", "/dlq")[2])["dead_letters"], [])
        for kind, e in self.emulators.items():
            self.assertTrue(any(a in (429, 500, 503) for a in e.answers), kind)  # the fault was met and retried

    def test_a_record_the_crm_never_had_is_a_dead_letter(self):
        self.start(["hubspot", "dynamics"])
        body = json.loads(lead(7))
        body["ActionCode"] = "PLT"
        status, _, data = self.d.post(json.dumps(body).encode())
        lead_id = json.loads(data)["lead_id"]
        for e in self.emulators.values():
            e.wait_for(lambda em: len(em.records) == 1)
            e.records.clear()  # deleted in the CRM meanwhile
        self.assertEqual(self.d.admin("POST", f"/api/v1/leads/{lead_id}/decline", {"reason": 5}, "referrals_admin")[0],
                         200)
        end = time.monotonic() + 30
        while len(json.loads(self.d.admin("GET", "/dlq")[2])["dead_letters"]) < 2:
            self.assertLess(time.monotonic(), end, "no dead letters")
            time.sleep(0.05)  # dead letters are in the store; no log event per one to wait on
        dead = {x["destination"]: x["error"] for x in json.loads(self.d.admin("GET", "/dlq")[2])["dead_letters"]}
        self.assertIn("OBJECT_NOT_FOUND", dead["sink:hubspot"])
        self.assertIn("HTTP 404", dead["sink:dynamics"])
        for e in self.emulators.values():
            self.assertEqual(e.records, {})  # no record was made by a status update


class AllThreeUnderFaults(CrmCase):
    def test_500_leads_to_three_crms(self):
        faults = {
            "dynamics": [429, "hang_after_store", 503, 500, "malformed"] + [None] * 100 + [429, 429, 503],
            "salesforce": ["limit", 503, "hang_after_store", "malformed", 429] + [None] * 150 + ["limit", 500],
            "hubspot": [503, 429, "malformed", "hang_after_store", 500] + [None] * 200 + [429, 503],
        }
        self.start(KINDS, faults)  # Salesforce in batches of up to 200 (sObject collections)
        refused = {"dynamics": 31, "salesforce": 23, "hubspot": 17}
        for kind, n in refused.items():
            self.emulators[kind].refuse[email(n)] = "invalid"
        for n in range(500):
            self.post(n)
            if n == 250:
                for e in self.emulators.values():
                    e.revoke_tokens()
        for kind, e in self.emulators.items():
            e.wait_for(lambda x: len(x.records) == 499, timeout=120)
        # Only the permanent refusals are dead letters: one per CRM.
        dead = self.dlq("list")["dead_letters"]
        self.assertEqual(sorted(d["destination"] for d in dead), ["sink:dynamics", "sink:hubspot", "sink:salesforce"])
        # Fixed in the CRMs; replayed; now every emulator holds exactly the 500 unique leads.
        for e in self.emulators.values():
            e.refuse.clear()
        self.assertEqual(self.dlq("replay"), {"replayed": 3})
        for kind, e in self.emulators.items():
            e.wait_for(lambda x: len(x.records) == 500, timeout=60)
            self.assertEqual(e.creates, 500, kind)
            emails = {(v.get("emailaddress1") or v.get("Email") or v.get("email")) for v in e.records.values()}
            self.assertEqual(emails, {email(n) for n in range(500)}, kind)
        self.assertEqual(self.dlq("list")["dead_letters"], [])
        # Salesforce took them in batches: far fewer requests than leads.
        batches = sum(1 for a in self.emulators["salesforce"].answers if a == 200)
        self.assertLess(batches, 250)


if __name__ == "__main__":
    unittest.main()


class PiiNeverLogged(CrmCase):
    """Known email addresses and phone numbers go through every path that logs (accepted, refused input, a CRM
    refusal quoting the address back, retries, shutdown): no log line carries them."""

    def test_logs_hold_no_contact_data(self):
        self.start(["dynamics"], {"dynamics": [503, 429]})
        e = self.emulators["dynamics"]
        e.refuse[email(2)] = "invalid"  # the CRM's error message repeats the address
        for n in range(3):
            self.post(n)
        # Input that is refused and quotes contact data in what the parser saw.
        self.d.post(b'{"UserDetails": {"Email": "person9@contoso.com", "Phone": "+1 617 555 0199"', )
        self.d.post(b'[{"Email": "person8@contoso.com"}]')
        e.wait_for(lambda x: key_of("dynamics", x, 1) is not None and key_of("dynamics", x, 0) is not None)
        self.d.wait_event("sink_dead_letter")
        self.d.stop()
        log = "\n".join(self.d.lines)
        self.assertIn("sink_dead_letter", log)
        self.assertIn("[email]", log)  # the CRM's message was logged, masked
        for n in (0, 1, 2, 8, 9):
            self.assertNotIn(email(n), log)
            self.assertNotIn(f"person{n}@", log)
        for digits in ("6175555555", "617 555 0199", "6175550199"):
            self.assertNotIn(digits, log)
