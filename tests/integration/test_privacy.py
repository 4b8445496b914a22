"""Personal data (issue: retention, erasure, subject access, backups, an audit trail) with the real binary: one
person's leads through every path (a marketplace lead, its redelivery, a later lead of the same person, a CRM dead
letter, a notification mail), then an erasure, then a byte-by-byte search of every file under state_dir; the
lead-erased event on Kafka (kcat); the CRM emulators' deletes; a backup under load restored; the audit trail."""
import json
import os
import subprocess
import tempfile
import threading
import time
import unittest

from emulators import CrmEmulator, Receiver, TestCA
from harness import BIN, Daemon, DevBroker, SAMPLE_LEAD, consume, kafka_config, query
from test_crm import crm_sink
import mail

EMAIL = "erin.erasable@fabrikam.example"
PHONE_DIGITS = "14255550199"


def person_lead(n, email=EMAIL, phone="+1 (425) 555-0199", action="PLT", offer="contoso.analytics-pro",
                name=("Erin", "Erasable")):
    body = json.loads(json.dumps(SAMPLE_LEAD))
    body["UserDetails"].update({"Email": email, "Phone": phone, "FirstName": name[0], "LastName": f"{name[1]}{n}",
                                "Company": "Fabrikam"})
    body["LeadSource"] = f"AzureMarketplace-{action}|{offer}"
    body["ActionCode"] = action
    body["Description"] = f"Please call {name[0]} {name[1]}{n}"
    return json.dumps(body).encode()


def hits(folder, needles):
    """{file: count} of the needles' occurrences in every file under folder, byte by byte."""
    found = {}
    for root, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                data = f.read()
            n = sum(data.count(needle) for needle in needles)
            if n:
                found[os.path.relpath(path, folder)] = n
    return found


def wait_until(predicate, what, timeout=30):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.05)


class Erasure(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="leadrelay-privacy-")
        self.ca = TestCA(self.tmp.name)
        self.broker = DevBroker()
        self.dynamics = CrmEmulator("dynamics", self.ca)
        self.salesforce = CrmEmulator("salesforce", self.ca)
        self.hubspot = CrmEmulator("hubspot", self.ca)
        self.smtp = mail.MailServer(self.ca).start()
        self.d = Daemon()
        for name, text in (("crm.secret", CrmEmulator.CLIENT_SECRET), ("hub.token", CrmEmulator.HUB_TOKEN),
                           ("smtp.password", mail.PASSWORD)):
            with open(os.path.join(self.d.dir, name), "w") as f:
                f.write(text + "\n")
        self.d.extra = ("sinks:\n" + crm_sink("dynamics", self.dynamics, self.ca) +
                        crm_sink("salesforce", self.salesforce, self.ca) +
                        crm_sink("hubspot", self.hubspot, self.ca) +
                        "notifications:\n"
                        "  email:\n"
                        f"    url: {self.smtp.url()}\n"
                        "    from: leads@partner.example\n"
                        "    username: leadrelay\n"
                        "    password_file: smtp.password\n"
                        f"    ca_file: {self.ca.ca_cert}\n"
                        "  rules:\n"
                        "    - {name: admins, to: [admins@partner.example]}\n" +
                        kafka_config(self.broker.bootstrap,
                                     "  - name: all\n    to: [{kafka: leads.all}, {sink: dynamics}, {sink: salesforce}, "
                                     "{sink: hubspot}]\n"))
        self.d.write_config()
        self.d.start()

    def tearDown(self):
        self.d.close()
        self.smtp.stop()
        for e in (self.dynamics, self.salesforce, self.hubspot):
            e.close()
        self.broker.close()
        self.tmp.cleanup()

    def test_every_copy_leaves_the_store_and_everyone_hears_of_it(self):
        d = self.d
        # Dynamics refuses the second lead for good: a dead letter with the person's address in its answer.
        self.dynamics.refuse[EMAIL.replace("erin", "erin2")] = True
        first = person_lead(1)
        status, _, body = d.post(first)
        self.assertEqual(status, 202, body)
        first_id = json.loads(body)["lead_id"]
        status, _, body = d.post(first)  # the marketplace's redelivery: the same lead
        self.assertEqual(status, 200, body)
        status, _, body = d.post(person_lead(2, offer="contoso.other-offer"))
        second_id = json.loads(body)["lead_id"]
        status, _, body = d.post(person_lead(3, email=EMAIL.replace("erin", "erin2"), phone="+1 425 555 0199"))
        third_id = json.loads(body)["lead_id"]
        other = person_lead(9, email="someone.else@fabrikam.example", phone="+1 425 555 0777", name=("Sam", "Other"))
        status, _, body = d.post(other)
        other_id = json.loads(body)["lead_id"]
        d.wait_event("sink_dead_letter")
        self.smtp.wait_for(lambda s: len(s.messages) == 4)
        self.dynamics.wait_for(lambda e: len(e.records) == 3)
        self.salesforce.wait_for(lambda e: len(e.records) == 4)
        self.hubspot.wait_for(lambda e: len(e.records) == 3)  # HubSpot keys contacts by email: leads 1 and 2 are one

        # The phone finds all three of Erin's leads (two addresses, one number).
        answer = d.admin_json("POST", "/api/v1/privacy/erase", {"phone": "+1 425-555-0199"}, role="referrals_admin")
        self.assertEqual(answer["erased"], 3)
        self.assertEqual(sorted(answer["lead_ids"]), sorted([first_id, second_id, third_id]))
        self.assertTrue(answer["wal_truncated"])

        # Kafka consumers hear of it: one lead-erased event per lead, without contact data.
        events = [p for _, _, p in consume(self.broker.bootstrap, "leads.events", count=3)]
        self.assertEqual(sorted(e["lead_id"] for e in events), sorted(answer["lead_ids"]))
        self.assertTrue(all(e["action"] == "erase" for e in events))
        self.assertNotIn("erasable", json.dumps(events).lower())
        # Each CRM deletes the record it made (Dynamics by alternate key, Salesforce by external ID, HubSpot by its
        # GDPR delete); Dynamics never had the third lead (it refused it: a dead letter).
        self.dynamics.wait_for(lambda e: sorted(e.deleted) == sorted([first_id, second_id]))
        self.salesforce.wait_for(lambda e: sorted(e.deleted) == sorted([first_id, second_id, third_id]))
        self.hubspot.wait_for(lambda e: sorted(e.deleted) == sorted([EMAIL, EMAIL.replace("erin", "erin2")]))

        # No byte of the person's address or number is left in any file of the store (database, WAL, audit).
        needles = [EMAIL.encode(), EMAIL.replace("erin", "erin2").encode(), PHONE_DIGITS.encode(),
                   b"555-0199", b"555 0199", b"Erasable"]
        state = os.path.join(d.dir, "state")
        wait_until(lambda: hits(state, needles) == {}, f"contact data still in {hits(state, needles)}")
        # The other person's data is untouched, and Erin's leads stay for the figures, anonymous.
        self.assertTrue(hits(state, [b"someone.else@fabrikam.example"]))
        lead = d.admin_json("GET", f"/api/v1/leads/{first_id}", role="referrals_admin")
        self.assertIsNone(lead["contact"]["email"])
        self.assertEqual(lead["offer"]["id"], "contoso.analytics-pro")
        self.assertEqual(lead["lifecycle"]["status"], "Received")
        self.assertEqual(lead["history"][-1]["action"], "erase")
        self.assertEqual(d.admin_json("GET", f"/api/v1/leads/{other_id}", role="viewer")["contact"]["email"],
                         "someone.else@fabrikam.example")

        # The sender's redelivery of an erased lead is stored again, as a new lead.
        status, _, body = d.post(first)
        self.assertEqual(status, 202, body)
        self.assertNotEqual(json.loads(body)["lead_id"], first_id)

        # The audit trail names the erasure by token and lead ids, never the person.
        out = subprocess.run([BIN, "audit", "--action", "erase", "--state-dir", state], capture_output=True,
                             text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        entry = json.loads(out.stdout.splitlines()[-1])
        self.assertEqual(entry["actor"], "referrals_admin-token")
        self.assertEqual(sorted(entry["lead_ids"]), sorted(answer["lead_ids"]))

    def test_subject_access_export_and_the_audit_of_reads(self):
        d = self.d
        status, _, body = d.post(person_lead(1))
        lead_id = json.loads(body)["lead_id"]
        self.hubspot.wait_for(lambda e: len(e.records) == 1)
        out = subprocess.run([BIN, "export-person", "--email", EMAIL.upper(), "--admin", f"127.0.0.1:{d.admin_port}"],
                             capture_output=True, text=True, timeout=30,
                             env=dict(os.environ, LEADRELAY_TOKEN=d.tokens["referrals_admin"]))
        self.assertEqual(out.returncode, 0, out.stderr)
        export = json.loads(out.stdout)
        self.assertEqual(len(export["leads"]), 1)
        self.assertEqual(export["leads"][0]["contact"]["email"], EMAIL)
        self.assertTrue(any(x["destination"] == "sink:hubspot" for x in export["leads"][0]["deliveries"]))
        # A viewer may read leads, but a person's export is for referral admins.
        status, _, _ = d.admin("GET", f"/api/v1/privacy/person?email={EMAIL}", role="viewer")
        self.assertEqual(status, 403)
        status, _, _ = d.admin("POST", "/api/v1/privacy/erase", {"email": EMAIL}, role="viewer")
        self.assertEqual(status, 403)
        status, _, body = d.admin("POST", "/api/v1/privacy/erase", {"email": EMAIL, "phone": "1"},
                                  role="referrals_admin")
        self.assertEqual(status, 400, body)
        d.admin_json("GET", f"/api/v1/leads/{lead_id}", role="viewer")
        d.admin_json("GET", "/api/v1/leads?limit=5", role="viewer")
        with open(os.path.join(d.dir, "state", "audit.log")) as f:
            trail = [json.loads(line) for line in f]
        actions = [(e["actor"], e["action"], e["lead_ids"]) for e in trail]
        self.assertIn(("referrals_admin-token", "export-person", [lead_id]), actions)
        self.assertIn(("viewer-token", "read", [lead_id]), actions)
        self.assertIn(("viewer-token", "list", [lead_id]), actions)
        with open(os.path.join(d.dir, "state", "audit.log"), "rb") as f:
            self.assertNotIn(EMAIL.encode(), f.read())

        # leadrelay forget: the same erasure from the host's shell, by lead id; a person named twice is a usage error.
        forget = [BIN, "forget", "--admin", f"127.0.0.1:{d.admin_port}"]
        env = dict(os.environ, LEADRELAY_TOKEN=d.tokens["referrals_admin"])
        out = subprocess.run(forget + ["--email", EMAIL, "--lead-id", lead_id], capture_output=True, text=True,
                             timeout=30, env=env)
        self.assertEqual(out.returncode, 64, out.stdout + out.stderr)
        self.assertIn("exactly one of --email, --phone or --lead-id", out.stderr)
        out = subprocess.run(forget + ["--lead-id", lead_id], capture_output=True, text=True, timeout=30,
                             env=dict(os.environ, LEADRELAY_TOKEN=d.tokens["viewer"]))
        self.assertNotEqual(out.returncode, 0, out.stdout)
        self.assertEqual(d.admin_json("GET", f"/api/v1/leads/{lead_id}", role="viewer")["contact"]["email"], EMAIL)
        out = subprocess.run(forget + ["--lead-id", lead_id], capture_output=True, text=True, timeout=30, env=env)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(json.loads(out.stdout)["lead_ids"], [lead_id])
        self.assertIsNone(d.admin_json("GET", f"/api/v1/leads/{lead_id}", role="viewer")["contact"]["email"])
        self.hubspot.wait_for(lambda e: e.deleted == [EMAIL])


class Retention(unittest.TestCase):
    def test_contact_data_goes_after_its_time_waiting_leads_stay_and_the_figures_do_not_change(self):
        hook = Receiver(default=503)  # a destination that is down: its lead waits
        d = Daemon()
        try:
            d.extra = ("retention:\n  contact_data: 30d\n  informational_leads: 10d\n  check_every: 1s\n"
                       f"sinks:\n  - {{name: hook, type: webhook, url: \"{hook.url}\", secret_file: hook.secret, "
                       "initial_backoff: 1s, max_backoff: 2s}\n"
                       "routes:\n  - name: deferred\n    when: {offer: contoso.deferred}\n    to: [{sink: hook}]\n")
            with open(os.path.join(d.dir, "hook.secret"), "w") as f:
                f.write("whsec_" + "a" * 32 + "\n")
            d.write_config()
            d.start()
            ids = {}
            for name, action, offer in (("answered", "PLT", "contoso.analytics-pro"), ("info", "INS", "contoso.trial"),
                                        ("unanswered", "PLT", "contoso.analytics-pro"),
                                        ("waiting", "PLT", "contoso.deferred")):
                status, _, body = d.post(person_lead(1, email=f"{name}@fabrikam.example", action=action, offer=offer,
                                                     name=(name.capitalize(), "Keepsake")))
                self.assertEqual(status, 202, body)
                ids[name] = json.loads(body)["lead_id"]
            d.stored(routed=True)
            d.admin_json("POST", f"/api/v1/leads/{ids['answered']}/decline", {"reason": 2, "notes": "no answer"},
                         role="referrals_admin")

            def figures():
                out = {}
                for name, lead_id in ids.items():
                    lead = d.admin_json("GET", f"/api/v1/leads/{lead_id}", role="viewer")
                    out[name] = (lead["offer"]["id"], lead["contact"]["country"], lead["action"]["call_to_action"],
                                 lead["lead_type"], lead["received_at"])
                return out

            def email_of(name):
                return d.admin_json("GET", f"/api/v1/leads/{ids[name]}", role="viewer")["contact"]["email"]

            month = d.admin_json("GET", f"/api/v1/leads/{ids['info']}", role="viewer")["received_at"][:7]

            def insights():
                """The dashboard's figures for the leads' month, every widget, both tabs (without the range, which
                says how much of the month has passed)."""
                out = {}
                for tab in ("marketplace", "qualified"):
                    for widget in ("summary", "funnel", "offers", "geo", "programs", "reasons"):
                        answer = d.admin_json("GET", f"/api/v1/insights/{widget}?range=custom&from={month}&to={month}"
                                                     f"&tab={tab}", role="viewer")
                        answer.pop("range")
                        out[(tab, widget)] = answer
                return out

            def status_of(name):
                return d.admin_json("GET", f"/api/v1/leads/{ids[name]}", role="viewer")["lifecycle"]["status"]

            before = figures()
            dashboard = insights()
            self.assertEqual(dashboard[("marketplace", "summary")]["tiles"][0]["value"], 4, dashboard)
            d.stop()
            d.start(clock_offset="11d")  # informational leads' 10 days are over
            d.wait_event("retention_pruned")
            self.assertIsNone(email_of("info"))
            self.assertEqual(email_of("answered"), "answered@fabrikam.example")
            self.assertEqual(insights(), dashboard)
            d.stop()
            d.start(clock_offset="15d")  # the unanswered leads expired (14 days); nobody's 30 days are over yet
            wait_until(lambda: status_of("unanswered") == "Expired", "the unanswered lead did not expire")
            dashboard = insights()
            self.assertEqual(email_of("answered"), "answered@fabrikam.example")
            d.stop()
            d.start(clock_offset="31d")  # everyone's 30 days
            pruned = d.wait_event("retention_pruned")
            self.assertEqual(pruned["contact_data_removed"], 2)
            deferred = d.wait_event("retention_deferred")
            self.assertEqual(deferred["leads"], 1)
            self.assertIsNone(email_of("answered"))
            self.assertIsNone(email_of("unanswered"))
            # Its destination still waits: kept in the store (the API hides an expired lead's contact data anyway).
            self.assertEqual(query(d.db_path, "SELECT json_extract(r.lead, '$.contact.email') FROM routed r JOIN "
                                              "lifecycle lc ON lc.seq = r.seq WHERE lc.lead_id = ?",
                                   (ids["waiting"],)), [("waiting@fabrikam.example",)])
            self.assertEqual(figures(), before)
            self.assertEqual(insights(), dashboard)  # the dashboard's history survives the contact data
            statuses = {n: d.admin_json("GET", f"/api/v1/leads/{i}", role="viewer")["lifecycle"]["status"]
                        for n, i in ids.items()}
            self.assertEqual(statuses, {"answered": "Declined", "info": "Informational", "unanswered": "Expired",
                                        "waiting": "Expired"})
            state = os.path.join(d.dir, "state")
            gone = [f"{n}@fabrikam.example".encode() for n in ("answered", "info", "unanswered")]
            wait_until(lambda: hits(state, gone) == {}, f"contact data still in {hits(state, gone)}")
            self.assertTrue(hits(state, [b"waiting@fabrikam.example"]))
        finally:
            d.close()
            hook.close()


class Backup(unittest.TestCase):
    def test_backup_under_load_restores_every_lead_acknowledged_before_it(self):
        d = Daemon()
        try:
            d.start()
            acked = []  # (monotonic time of the 202, lead id)
            stop = threading.Event()

            def load():
                conn = d.connection()
                n = 0
                while not stop.is_set():
                    status, _, body = d.post(person_lead(n, email=f"load{n}@fabrikam.example"), conn=conn)
                    if status == 202:
                        acked.append((time.monotonic(), json.loads(body)["lead_id"]))
                    n += 1
                conn.close()

            threads = [threading.Thread(target=load) for _ in range(4)]
            for t in threads:
                t.start()
            wait_until(lambda: len(acked) > 200, "load is running")
            began = time.monotonic()
            backup = os.path.join(d.dir, "store.backup")
            out = subprocess.run([BIN, "backup", backup, "--state-dir", os.path.join(d.dir, "state")],
                                 capture_output=True, text=True, timeout=120)
            wait_until(lambda: acked[-1][0] > time.monotonic() - 0.5 and len(acked) > 0, "load goes on")
            after = len(acked)
            time.sleep(0.2)  # the load keeps running after the backup: intake was never stopped
            stop.set()
            for t in threads:
                t.join()
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertIn("backup:", out.stdout)
            self.assertGreater(len(acked), after - 1)
            before = {lead_id for at, lead_id in acked if at < began}
            restored = os.path.join(d.dir, "restored")
            out = subprocess.run([BIN, "restore", backup, "--state-dir", restored], capture_output=True, text=True,
                                 timeout=120)
            self.assertEqual(out.returncode, 0, out.stderr)
            ids = {row[0] for row in query(os.path.join(restored, "leadrelay.db"), "SELECT lead_id FROM leads")}
            self.assertEqual(before - ids, set())
            self.assertGreater(len(before), 200)
            # A restore never overwrites a store.
            out = subprocess.run([BIN, "restore", backup, "--state-dir", restored], capture_output=True, text=True,
                                 timeout=60)
            self.assertEqual(out.returncode, 73)
            self.assertIn("already holds a store", out.stderr)
            # The daemon starts on the restored store.
            r = Daemon()
            try:
                r.write_config()
                os.rename(restored, os.path.join(r.dir, "state"))
                r.start()
                # Leads the backup took from the intake log are routed once the restored daemon runs.
                r.stored(routed=True)
                some = next(iter(before))
                self.assertEqual(r.admin_json("GET", f"/api/v1/leads/{some}", role="viewer")["lead_id"], some)
            finally:
                r.close()
            out = subprocess.run([BIN, "audit", "--state-dir", os.path.join(d.dir, "state")], capture_output=True,
                                 text=True, timeout=30)
            self.assertIn('"action":"backup"', out.stdout)
        finally:
            d.close()


if __name__ == "__main__":
    unittest.main()
