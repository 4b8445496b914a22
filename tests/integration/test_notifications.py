"""Notifications (issue: new-lead mails, digests, expiry warnings, Teams and Slack): the real binary against a real
SMTP server on loopback (aiosmtpd, STARTTLS with the test CA, AUTH) and webhook receivers standing in for Teams and
Slack incoming webhooks. The daemon's clock is moved with LEADRELAY_CLOCK_OFFSET to reach digest_at and expiry."""
import calendar
import datetime
import email.header
import json
import os
import subprocess
import tempfile
import time
import unittest

from emulators import Receiver, TestCA
from harness import BIN, Daemon, SAMPLE_LEAD, query
import mail

DAY_MS = 86400000


def utc_ms(year, month, day, hour, minute=0, second=0):
    return calendar.timegm((year, month, day, hour, minute, second)) * 1000


def offset_to(target_ms):
    """LEADRELAY_CLOCK_OFFSET that puts the daemon's clock at target_ms now."""
    return f"{target_ms - int(time.time() * 1000)}ms"


def contact_me(n, name=None, offer="contoso.analytics-pro", company="Contoso"):
    body = json.loads(json.dumps(SAMPLE_LEAD))
    body["UserDetails"]["Email"] = f"buyer{n}@fabrikam.example"
    body["UserDetails"]["FirstName"] = name or f"Buyer{n}"
    body["UserDetails"]["LastName"] = "Tester"
    body["UserDetails"]["Company"] = company
    body["LeadSource"] = f"AzureMarketplace-PLT|{offer}"
    body["ActionCode"] = "PLT"
    return json.dumps(body).encode()


def wait_for_rows(db_path, sql, expected, timeout=20):
    """The query's rows once they equal `expected`, or the last ones read when the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        rows = query(db_path, sql)
        if rows == expected or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)


def decoded_subject(message):
    return str(email.header.make_header(email.header.decode_header(message["Subject"])))


class Notifications(unittest.TestCase):
    # January of next year: Europe/Berlin is UTC+1 then, with no daylight saving near.
    YEAR = datetime.datetime.now(datetime.timezone.utc).year + 1

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="leadrelay-notify-")
        self.ca = TestCA(self.tmp.name)
        self.smtp = mail.MailServer(self.ca).start()
        self.daemon = None

    def tearDown(self):
        if self.daemon is not None:
            self.daemon.close()
        self.smtp.stop()
        self.tmp.cleanup()

    def make_daemon(self, password=mail.PASSWORD, rules=None, channels="", extra_email="", notify_extra=""):
        d = Daemon()
        with open(os.path.join(d.dir, "smtp.password"), "w") as f:
            f.write(password + "\n")
        rules = rules or ('    - name: referral-admins\n'
                          '      to: [admins@partner.example]\n'
                          '      hot_when: {offer: "*priority*"}\n')
        d.extra = ("console:\n  base_url: https://leads.partner.example/\n"
                   "notifications:\n"
                   "  timezone: Europe/Berlin\n"
                   "  digest_after: 10\n"
                   '  digest_at: "08:00"\n' + notify_extra +
                   "  email:\n"
                   f"    url: {self.smtp.url()}\n"
                   '    from: "Lead Relay Bot <leads@partner.example>"\n'
                   "    username: leadrelay\n"
                   "    password_file: smtp.password\n"
                   f"    ca_file: {self.ca.ca_cert}\n"
                   "    connect_timeout: 2s\n"
                   "    timeout: 10s\n"
                   "    auth_attempts: 3\n"
                   + extra_email + channels +
                   "  retry:\n"
                   "    initial_backoff: 100ms\n"
                   "    max_backoff: 1s\n"
                   "    breaker_failures: 50\n"
                   "    breaker_cooldown: 1s\n"
                   "  rules:\n" + rules)
        d.write_config()
        self.daemon = d
        return d

    def post_all(self, d, bodies):
        ids = []
        for body in bodies:
            status, _, data = d.post(body)
            self.assertEqual(status, 202, data)
            ids.append(json.loads(data)["lead_id"])
        return ids

    def test_digest_after_ten_hot_at_once_and_the_digest_at_eight_once(self):
        d = self.make_daemon()
        # 22:00 in Berlin on 15 January: 25 Contact me leads, then a hot one.
        d.start(clock_offset=offset_to(utc_ms(self.YEAR, 1, 15, 21)))
        ids = self.post_all(d, [contact_me(n) for n in range(25)])
        self.smtp.wait_for(lambda s: len(s.of_kind("new_lead")) == 10)
        d.stored(routed=True)
        held = query(d.db_path, "SELECT COUNT(*) FROM notifications WHERE kind = 'held'")[0][0]
        self.assertEqual(held, 15)
        hot_id = self.post_all(d, [contact_me(99, name="Hannah", offer="contoso.priority-support")])[0]
        self.smtp.wait_for(lambda s: len(s.of_kind("hot")) == 1)
        hot = self.smtp.of_kind("hot")[0]
        self.assertIn(hot_id, mail.parts(hot)[0])
        self.assertEqual(len(self.smtp.of_kind("new_lead")), 10)
        self.assertEqual(self.smtp.of_kind("digest"), [])
        # The single mails are the first ten leads, each once, with the lead's facts and its console link.
        singles = self.smtp.of_kind("new_lead")
        self.assertEqual(sorted(m["Message-ID"] for m in singles),
                         sorted(f"<new_lead.referral-admins.{i}@partner.example>" for i in ids[:10]))
        text, html = mail.parts(singles[0])
        self.assertIn("buyer0@fabrikam.example", text)
        self.assertIn("Contact me", text)
        self.assertIn(f"https://leads.partner.example/console/leads/{ids[0]}", text)
        self.assertIn("Expires:", text)
        self.assertIn("buyer0@fabrikam.example", html)
        self.assertEqual(self.smtp.envelopes[0][1], ["admins@partner.example"])

        # Restart at 07:59:50 the next morning: the digest is not out yet, and goes at 08:00.
        d.stop()
        d.start(clock_offset=offset_to(utc_ms(self.YEAR, 1, 16, 6, 59, 50)))
        self.assertEqual(query(d.db_path, "SELECT COUNT(*) FROM notifications WHERE kind = 'digest'")[0][0], 0)
        self.smtp.wait_for(lambda s: len(s.of_kind("digest")) == 1, timeout=40)
        digest = self.smtp.of_kind("digest")[0]
        self.assertEqual(digest["Message-ID"], f"<digest.referral-admins.{self.YEAR}-01-15@partner.example>")
        text, html = mail.parts(digest)
        for n in range(10, 25):
            self.assertIn(f"buyer{n}@fabrikam.example", text)
            self.assertIn(f"buyer{n}@fabrikam.example", html)
        for n in range(10):
            # The ten mailed one by one are not in the digest's new leads, but still wait for an answer.
            self.assertIn(f"buyer{n}@fabrikam.example", text.split("Still waiting for an answer")[1])
        self.assertTrue(decoded_subject(digest).startswith("15 new leads on"), decoded_subject(digest))

        # Once its delivery is recorded, kill -9 and start again: the digest is made once, ever. (Killed between
        # sending and recording, it would be sent once more, with the same Message-ID.)
        self.assertEqual(wait_for_rows(d.db_path, "SELECT state FROM deliveries WHERE msg_key LIKE 'digest|%'",
                                       [(1,)]), [(1,)])
        d.kill9()
        d.start(clock_offset=offset_to(utc_ms(self.YEAR, 1, 16, 9)))
        # A lead of the new day is mailed on its own, which shows the daemon is past its first passes.
        self.post_all(d, [contact_me(200)])
        self.smtp.wait_for(lambda s: len(s.of_kind("new_lead")) == 11)
        self.assertEqual(query(d.db_path, "SELECT COUNT(*) FROM notifications WHERE kind = 'digest'")[0][0], 1)
        self.assertEqual(len(self.smtp.of_kind("digest")), 1)
        self.assertEqual(len({m["Message-ID"] for m in self.smtp.messages}), len(self.smtp.messages))

    def test_expiring_lead_warned_once(self):
        d = self.make_daemon()
        d.start()
        lead_id = self.post_all(d, [contact_me(1)])[0]
        self.smtp.wait_for(lambda s: len(s.of_kind("new_lead")) == 1)
        d.stop()
        # 14 days to answer, warned 48 hours before: 12 days and an hour later it is due.
        d.start(clock_offset="289h")
        self.smtp.wait_for(lambda s: len(s.of_kind("expiring")) == 1)
        warning = self.smtp.of_kind("expiring")[0]
        self.assertIn(lead_id, mail.parts(warning)[0])
        self.assertTrue(decoded_subject(warning).startswith("Expires soon:"), decoded_subject(warning))
        d.stop()
        d.start(clock_offset="290h")
        self.post_all(d, [contact_me(2)])
        self.smtp.wait_for(lambda s: len(s.of_kind("new_lead")) == 2)
        self.assertEqual(query(d.db_path, "SELECT COUNT(*) FROM notifications WHERE kind = 'expiring'")[0][0], 1)
        self.assertEqual(len(self.smtp.of_kind("expiring")), 1)

    def test_smtp_down_for_a_minute_and_kill9_every_mail_once(self):
        d = self.make_daemon()
        self.smtp.stop()
        down_at = time.monotonic()
        d.start()
        ids = self.post_all(d, [contact_me(n) for n in range(5)])
        d.wait_event("sink_retry")
        d.kill9()
        d.start()
        ids += self.post_all(d, [contact_me(n) for n in range(5, 8)])
        d.wait_event("sink_retry")
        time.sleep(max(0.0, 60 - (time.monotonic() - down_at)))  # the outage the issue names: a minute
        self.smtp.start()
        self.smtp.wait_for(lambda s: len(s.messages) >= 8, timeout=60)
        d.stop()  # a graceful stop writes the last acknowledgements
        ids_mailed = sorted(m["Message-ID"] for m in self.smtp.messages)
        self.assertEqual(ids_mailed, sorted(f"<new_lead.referral-admins.{i}@partner.example>" for i in ids))
        self.assertEqual(query(d.db_path, "SELECT COUNT(*) FROM deliveries WHERE destination = 'notify:email' "
                                          "AND state = 1")[0][0], 8)

    def test_wrong_password_is_retried_then_a_dead_letter_with_the_servers_words(self):
        d = self.make_daemon(password="wrong")
        d.start()
        lead_id = self.post_all(d, [contact_me(1)])[0]
        retry = d.wait_event("sink_retry")
        self.assertIn("535", retry["message"])
        dead = d.wait_event("sink_dead_letter")
        self.assertEqual(dead["lead_id"], lead_id)
        self.assertIn("535", dead["message"])
        self.assertGreaterEqual(self.smtp.refused_logins, 3)
        out = subprocess.run([BIN, "dlq", "list", "--sink", "notify:email", "--admin", f"127.0.0.1:{d.admin_port}"],
                             capture_output=True, text=True, timeout=30,
                             env=dict(os.environ, LEADRELAY_TOKEN=d.tokens["operator"]))
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("notify:email", out.stdout)
        self.assertIn(lead_id, out.stdout)
        # Dead letters may quote contact data: listing them is audited, by token and lead id.
        with open(os.path.join(d.dir, "state", "audit.log")) as f:
            trail = [json.loads(line) for line in f]
        self.assertIn(("operator-token", "dlq-list", [lead_id]), [(e["actor"], e["action"], e["lead_ids"]) for e in trail])
        self.assertEqual(self.smtp.messages, [])
        # Contact data never reaches the log.
        self.assertNotIn("buyer1@fabrikam.example", "\n".join(d.lines))

    def test_html_and_non_ascii_render_safely_in_both_parts(self):
        d = self.make_daemon()
        d.start()
        name = '<script>alert("x")</script> Zoë'
        company = "Müller & Söhne <b>GmbH</b>"
        self.post_all(d, [contact_me(1, name=name, company=company)])
        self.smtp.wait_for(lambda s: len(s.messages) == 1)
        m = self.smtp.messages[0]
        self.assertIsNotNone(mail.alternative(m), m.get_content_type())
        alternative = mail.alternative(m)
        self.assertEqual([p.get_content_type() for p in alternative.iter_parts()], ["text/plain", "text/html"])
        text, html = mail.parts(m)
        self.assertIn(name, text)
        self.assertIn(company, text)
        self.assertNotIn("<script>", html)
        self.assertIn("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Zoë", html)
        self.assertIn("Müller &amp; Söhne &lt;b&gt;GmbH&lt;/b&gt;", html)
        subject = decoded_subject(m)
        self.assertIn("Zoë", subject)
        raw_subject = self.smtp.raw[0].split(b"\r\nSubject: ", 1)[1].split(b"\r\n", 1)[0]
        self.assertTrue(raw_subject.isascii())
        self.assertIn(b"=?UTF-8?B?", raw_subject)
        sender = str(email.header.make_header(email.header.decode_header(m["From"])))
        self.assertEqual(sender, "Lead Relay Bot <leads@partner.example>")

    def test_teams_and_slack_channels_with_retry_after(self):
        teams = Receiver(script=[(429, {"Retry-After": "1"})])
        slack = Receiver()
        try:
            d = Daemon()
            for name, receiver in (("teams", teams), ("slack", slack)):
                with open(os.path.join(d.dir, f"{name}.url"), "w") as f:
                    f.write(receiver.url + "\n")
            d.extra = ("notifications:\n"
                       "  channels:\n"
                       "    - {name: sales-teams, type: teams, url_file: teams.url}\n"
                       "    - {name: sales-slack, type: slack, url_file: slack.url}\n"
                       "  retry: {initial_backoff: 100ms}\n"
                       "  rules:\n"
                       "    - {name: chat, channels: [sales-teams, sales-slack]}\n")
            d.write_config()
            self.daemon = d
            d.start()
            lead_id = self.post_all(d, [contact_me(7, name="Åsa <i>")])[0]
            teams.wait_for(lambda r: len(r.delivered()) == 1)
            slack.wait_for(lambda r: len(r.delivered()) == 1)
            self.assertEqual([s for _, _, s in teams.requests], [429, 200])
            card = json.loads(teams.delivered()[0][1])
            self.assertEqual(card["type"], "message")
            attachment = card["attachments"][0]
            self.assertEqual(attachment["contentType"], "application/vnd.microsoft.card.adaptive")
            facts = {f["title"]: f["value"] for f in attachment["content"]["body"][1]["facts"]}
            self.assertEqual(facts["Name"], "Åsa <i> Tester")
            self.assertIn("buyer7@fabrikam.example", facts["Email"])
            self.assertEqual(facts["Call to action"], "Contact me")
            message = json.loads(slack.delivered()[0][1])
            self.assertEqual(message["blocks"][0]["type"], "header")
            fields = [f["text"] for f in message["blocks"][1]["fields"]]
            self.assertIn("*Name*\nÅsa &lt;i&gt; Tester", fields)
            self.assertTrue(any("buyer7@fabrikam.example" in f for f in fields))
            # Recorded as delivered (acknowledgements are written in batches, just after).
            rows = wait_for_rows(d.db_path, "SELECT destination, state FROM deliveries WHERE destination LIKE "
                                            "'notify:%' ORDER BY destination",
                                 [("notify:sales-slack", 1), ("notify:sales-teams", 1)])
            self.assertEqual(rows, [("notify:sales-slack", 1), ("notify:sales-teams", 1)])
            self.assertTrue(lead_id)
        finally:
            teams.close()
            slack.close()

    def test_notify_test_prints_the_servers_answer(self):
        d = self.make_daemon()
        out = subprocess.run([BIN, "notify", "test", "--config", d.config, "--to", "ops@partner.example"],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("sent", out.stdout)
        self.assertIn("250", out.stdout)
        self.assertEqual(self.smtp.envelopes[-1][1], ["ops@partner.example"])
        d.close()
        # Implicit TLS (smtps://), and a certificate the daemon does not trust.
        self.smtp.stop()
        self.smtp = mail.MailServer(self.ca, implicit_tls=True).start()
        tls = self.make_daemon()
        out = subprocess.run([BIN, "notify", "test", "--config", tls.config, "--to", "ops@partner.example"],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("email (smtps://", out.stdout)
        self.assertEqual(len(self.smtp.messages), 1)
        untrusted = Daemon()
        with open(tls.config) as f:
            own = f.read()
        untrusted.extra = own[own.index("console:"):].replace(f"    ca_file: {self.ca.ca_cert}\n", "")
        with open(os.path.join(untrusted.dir, "smtp.password"), "w") as f:
            f.write(mail.PASSWORD + "\n")
        untrusted.write_config()
        out = subprocess.run([BIN, "notify", "test", "--config", untrusted.config, "--to", "ops@partner.example"],
                             capture_output=True, text=True, timeout=60)
        untrusted.close()
        self.assertEqual(out.returncode, 69, out.stdout + out.stderr)
        self.assertIn("certificate", out.stdout.lower())
        self.assertEqual(len(self.smtp.messages), 1)
        tls.close()
        bad = self.make_daemon(password="wrong")
        out = subprocess.run([BIN, "notify", "test", "--config", bad.config], capture_output=True, text=True,
                             timeout=60)
        self.assertEqual(out.returncode, 69, out.stdout + out.stderr)
        self.assertIn("535", out.stdout)
        bad.close()

    def test_check_config_names_file_line_and_hint(self):
        d = Daemon()
        d.extra = ("notifications:\n"
                   "  timezone: Mars/Olympus\n"
                   '  digest_at: "8 am"\n'
                   "  digest_aftr: 5\n"
                   "  email: {url: 'smtp://127.0.0.1:25', from: 'not an address'}\n"
                   "  rules:\n"
                   "    - name: admins\n"
                   "      to: [admins-at-example]\n"
                   "      notify: [new_leads]\n"
                   "      channels: [teams]\n")
        d.write_config()
        out = subprocess.run([BIN, "check-config", d.config], capture_output=True, text=True, timeout=30)
        d.close()
        self.assertEqual(out.returncode, 78, out.stdout + out.stderr)
        err = out.stderr
        self.assertRegex(err, r"leadrelay\.yaml:\d+:\d+: notifications\.timezone: unknown time zone 'Mars/Olympus'")
        self.assertIn("notifications.digest_at: expected a time of day as HH:MM", err)
        self.assertIn("notifications.digest_aftr", err)
        self.assertIn("did you mean 'digest_after'", err)
        self.assertIn("notifications.email.from: 'not an address' is not a mail address", err)
        self.assertIn("'admins-at-example' is not a mail address", err)
        self.assertIn("did you mean 'new_lead'", err)
        self.assertIn("no channel is named 'teams'", err)


if __name__ == "__main__":
    unittest.main()
