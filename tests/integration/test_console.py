"""The web console of the real binary: sign-in, the session cookie, CSRF, the pages' headers and assets over HTTP,
and the whole console in a real browser (tests/console/browser.mjs: Debian's headless chromium driven by
playwright-core) over a store holding the insights population and leads posted through intake, one of them named
<script>. The PDF the insights page prints is read back with pdftotext. Screenshots, downloads and the PDF are kept
in $LEADRELAY_ARTIFACTS (default build/test/artifacts/console)."""
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import unittest
import urllib.parse

from harness import SOURCE_DIR, Daemon
import insights_population as pop
from test_insights import EXTRA
from test_lifecycle import lead_body

ACCEPT = {"deal_name": "D", "deal_value": 10, "currency": "USD", "close_date": "2027-06-30", "notes": "n"}


class Console(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(extra=EXTRA)
        cls.d.start()
        cls.d.stop()
        pop.fill(cls.d.db_path, pop.population())
        cls.d.start(clock_offset=pop.clock_offset())
        cls.leads = []
        for n, first in enumerate(["<script>window.__xss=1</script>", "Ana", "Ben", "Cleo"]):
            status, _, data = cls.d.post(lead_body(100 + n, first=first, company=f"Shop {n} & <b>Co</b>"))
            assert status == 202, data
            cls.leads.append(json.loads(data)["lead_id"])
        cls.d.stored(routed=True)

    @classmethod
    def tearDownClass(cls):
        cls.d.close()

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.d.admin_port, timeout=30)
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        conn.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data

    def sign_in(self, role):
        body = urllib.parse.urlencode({"token": self.d.tokens[role], "next": "/console/leads"})
        status, h, _ = self.request("POST", "/console/login", body,
                                    {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 303)
        self.assertEqual(h["location"], "/console/leads")
        cookie = h["set-cookie"]
        for attribute in ("HttpOnly", "SameSite=Strict", "Path=/"):
            self.assertIn(attribute, cookie)
        jar = cookie.split(";")[0]
        status, _, data = self.request("GET", "/console/session", headers={"Cookie": jar})
        self.assertEqual(status, 200)
        return jar, json.loads(data)["csrf"]

    def test_without_a_session(self):
        status, h, _ = self.request("GET", "/console/insights?range=6M")
        self.assertEqual(status, 303)
        self.assertEqual(h["location"], "/console/login?next=" + urllib.parse.quote("/console/insights?range=6M", safe=""))
        self.assertEqual(self.request("GET", "/api/v1/leads")[0], 401)
        self.assertEqual(self.request("GET", "/api/v1/insights/summary", headers={"Cookie": "leadrelay_session=forged"})[0], 401)
        # A wrong token goes back to sign-in, saying so; and no cookie is set.
        status, h, _ = self.request("POST", "/console/login", "token=nope&next=/console/leads",
                                    {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 303)
        self.assertIn("failed=401", h["location"])
        self.assertNotIn("set-cookie", h)
        # Only console pages are places to go after signing in.
        body = urllib.parse.urlencode({"token": self.d.tokens["viewer"], "next": "https://evil.example/"})
        _, h, _ = self.request("POST", "/console/login", body, {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(h["location"], "/console/insights")
        # An operator token may not read leads.
        body = urllib.parse.urlencode({"token": self.d.tokens["operator"]})
        _, h, _ = self.request("POST", "/console/login", body, {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertIn("failed=403", h["location"])

    def test_pages_and_assets(self):
        jar, _ = self.sign_in("viewer")
        status, h, page = self.request("GET", "/console/insights", headers={"Cookie": jar})
        self.assertEqual(status, 200)
        self.assertIn("default-src 'self'", h["content-security-policy"])
        self.assertEqual(h["cache-control"], "no-cache")
        assets = re.findall(r'(?:src|href)="(/console/assets/[^"]+)"', page.decode())
        self.assertIn("chart.umd.min", " ".join(assets))
        self.assertIn("jsvectormap.min", " ".join(assets))
        for a in assets:
            self.assertRegex(a, r"\.[0-9a-f]{12}\.(js|css)$")
            status, h, raw = self.request("GET", a)
            self.assertEqual(status, 200, a)
            self.assertEqual(h["cache-control"], "public, max-age=31536000, immutable")
            status, h, packed = self.request("GET", a, headers={"Accept-Encoding": "gzip, br"})
            self.assertEqual(h["content-encoding"], "gzip")
            self.assertLess(len(packed), len(raw))
        self.assertEqual(self.request("GET", "/console/assets/console.js")[0], 404)  # only by content hash
        # No CDN: every script and stylesheet comes from the daemon.
        self.assertNotRegex(page.decode(), r'(src|href)="(https?:)?//')

    def test_csrf_and_roles(self):
        jar, csrf = self.sign_in("referrals_admin")
        target = self.leads[1]
        path = f"/api/v1/leads/{target}/accept"
        body = json.dumps(ACCEPT)
        for headers in ({}, {"X-CSRF-Token": "forged"}):
            status, _, data = self.request("POST", path, body, {"Cookie": jar, "Content-Type": "application/json",
                                                                **headers})
            self.assertEqual(status, 403, data)
            self.assertEqual(json.loads(data)["error"], "csrf")
        status, _, data = self.request("POST", path, body, {"Cookie": jar, "Content-Type": "application/json",
                                                            "X-CSRF-Token": csrf})
        self.assertEqual(status, 200, data)
        self.assertEqual(json.loads(data)["lifecycle"]["status"], "Accepted")
        # A viewer's session reads but may not change.
        vjar, vcsrf = self.sign_in("viewer")
        status, _, data = self.request("POST", f"/api/v1/leads/{self.leads[2]}/decline",
                                       json.dumps({"reason": 8, "notes": "x"}),
                                       {"Cookie": vjar, "Content-Type": "application/json", "X-CSRF-Token": vcsrf})
        self.assertEqual(status, 403, data)
        self.assertEqual(json.loads(data)["error"], "forbidden")
        self.assertEqual(self.request("GET", "/api/v1/leads", headers={"Cookie": vjar})[0], 200)
        self.assertEqual(self.request("GET", f"/api/v1/leads/{self.leads[2]}", headers={"Cookie": vjar})[0], 200)
        # What the pages read and change is in the audit trail under the signed-in token's name, as through the API.
        with open(os.path.join(self.d.dir, "state", "audit.log")) as f:
            trail = [json.loads(line) for line in f]
        actions = [(e["actor"], e["action"], e["lead_ids"]) for e in trail]
        self.assertIn(("referrals_admin-token", "accept", [target]), actions)
        self.assertIn(("viewer-token", "read", [self.leads[2]]), actions)
        self.assertTrue(any(actor == "viewer-token" and action == "list" and self.leads[2] in ids
                            for actor, action, ids in actions), actions)
        # Signing out needs the token too; then the session is gone.
        self.assertEqual(self.request("POST", "/console/logout", "", {"Cookie": vjar})[0], 403)
        status, h, _ = self.request("POST", "/console/logout", "csrf=" + vcsrf,
                                    {"Cookie": vjar, "Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 303)
        self.assertIn("Max-Age=0", h["set-cookie"])
        self.assertEqual(self.request("GET", "/api/v1/leads", headers={"Cookie": vjar})[0], 401)

    def test_a_token_changed_by_a_reload_ends_its_sessions(self):
        # Its own daemon: the class's one keeps its tokens.
        d = Daemon()
        d.start()
        try:
            body = urllib.parse.urlencode({"token": d.tokens["viewer"], "next": "/console/leads"})
            conn = http.client.HTTPConnection("127.0.0.1", d.admin_port, timeout=30)
            conn.request("POST", "/console/login", body, {"Content-Type": "application/x-www-form-urlencoded"})
            r = conn.getresponse()
            r.read()
            jar = r.getheader("Set-Cookie").split(";")[0]
            conn.close()
            status, _, _ = d.admin("GET", "/api/v1/leads", role=None, headers={"Cookie": jar})
            self.assertEqual(status, 200)
            with open(d.token_file("viewer"), "w") as f:
                f.write("a-new-viewer-token-0123456789\n")
            d.proc.send_signal(signal.SIGHUP)
            d.wait_event("reload_applied")
            status, _, _ = d.admin("GET", "/api/v1/leads", role=None, headers={"Cookie": jar})
            self.assertEqual(status, 401)
            status, h, _ = d.admin("GET", "/console/leads", role=None, headers={"Cookie": jar})
            self.assertEqual(status, 303)
            self.assertTrue(h["location"].startswith("/console/login"))
        finally:
            d.close()

    def test_browser(self):
        artifacts = os.environ.get("LEADRELAY_ARTIFACTS",
                                   os.path.join(SOURCE_DIR, "build", "test", "artifacts", "console"))
        shutil.rmtree(artifacts, ignore_errors=True)
        os.makedirs(artifacts)
        env = dict(os.environ, CONSOLE_URL=f"http://127.0.0.1:{self.d.admin_port}",
                   ADMIN_TOKEN=self.d.tokens["referrals_admin"], VIEWER_TOKEN=self.d.tokens["viewer"],
                   ARTIFACTS=artifacts, SCRIPT_LEAD=self.leads[0], ACCEPT_LEAD=self.leads[3])
        console_dir = os.path.join(SOURCE_DIR, "tests", "console")
        r = subprocess.run(["node", "browser.mjs"], cwd=console_dir, env=env, capture_output=True, text=True,
                           timeout=240)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("browser test passed", r.stdout)
        for shot in ("insights-3M.png", "insights-6M-US.png", "leads.png", "lead-accepted.png"):
            self.assertGreater(os.path.getsize(os.path.join(artifacts, shot)), 10000, shot)
        # The PDF: A4 landscape, the range and filters in its header, the widgets' figures in it.
        pdf = os.path.join(artifacts, "insights.pdf")
        info = subprocess.run(["pdfinfo", pdf], capture_output=True, text=True, check=True).stdout
        width, height = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups())
        self.assertGreater(width, height)
        text = subprocess.run(["pdftotext", "-layout", pdf, "-"], capture_output=True, text=True, check=True).stdout
        self.assertIn("Lead insights: range 6M", text)
        self.assertIn("country US", text)
        for label in ("Leads", "Offer leads", "Funnel", "Countries", "Compare"):
            self.assertIn(label, text)
        status, _, data = self.d.admin("GET", "/api/v1/insights/summary?range=6M&country=US", role="viewer")
        leads = {t["name"]: t for t in json.loads(data)["tiles"]}["leads"]["value"]
        self.assertIn(f"{int(leads):,}", text)
        self.assertNotIn("Download as PDF", text)  # the controls are not printed


if __name__ == "__main__":
    unittest.main()
