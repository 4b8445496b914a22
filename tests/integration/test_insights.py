"""Lead insights (/api/v1/insights/*) of the real binary over a known population of seven months (a fixed clock):
every figure of every widget is computed again here, in Python, from the population itself, including the
month-over-month edge cases (fewer than two full months, 0 to more, 0 to 0), currency conversion with the configured
rates (a currency without one is shown apart), the filters, past leads, the time buckets, empty answers, bad
queries, roles, and that a change through the leads API moves the figures at once."""
import decimal
import json
import os
import unittest
import urllib.parse

from harness import Daemon
import insights_population as pop
from test_lifecycle import conforms, lead_body

RATES = {"EUR": 1.1}  # JPY has no rate: shown apart
EXTRA = "insights:\n  usd_rates:\n    EUR: 1.1\nretention:\n  informational_leads: 400d\n"


def accepted(x):
    return x["status"] in ("Accepted", "Won", "Lost")


def usd(x):
    if x["value"] is None:
        return 0.0
    if x["currency"] == "USD":
        return x["value"]
    return x["value"] * RATES[x["currency"]] if x["currency"] in RATES else 0.0


def unconverted(rows):
    out = {}
    for x in rows:
        if x["value"] is not None and x["currency"] != "USD" and x["currency"] not in RATES:
            out[x["currency"]] = out.get(x["currency"], 0) + x["value"]
    return [{"currency": c, "value": round(v, 2)} for c, v in sorted(out.items())]


def r1(x):
    """Rounded to 0.1, half away from zero (as the daemon rounds; Python's round() rounds half to even)."""
    return float(decimal.Decimal(repr(x)).quantize(decimal.Decimal("0.1"), decimal.ROUND_HALF_UP))


def change(first, last):
    if first == 0:
        return "new" if last > 0 else 0
    return r1(100.0 * (last - first) / first)


class Filled(unittest.TestCase):
    """A daemon whose store holds the population, its clock at pop.NOW_MS."""

    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(extra=EXTRA)
        cls.d.start()
        cls.d.stop()
        cls.leads = pop.population()
        pop.fill(cls.d.db_path, cls.leads)
        cls.d.start(clock_offset=pop.clock_offset())

    @classmethod
    def tearDownClass(cls):
        cls.d.close()

    def get(self, widget, expect=200, role="viewer", **params):
        path = f"/api/v1/insights/{widget}"
        if params:
            path += "?" + urllib.parse.urlencode(params)
        status, _, data = self.d.admin("GET", path, role=role)
        self.assertEqual(status, expect, data)
        body = json.loads(data)
        conforms("/api/v1/insights/{widget}", "GET", status, body)  # schemas/admin-api.openapi.yaml
        return body


class Insights(Filled):
    # The population a query selects, as the definitions say.
    def select(self, months, tab="marketplace", country=None, lead_type=None, offer=None, program=None,
               customer=None):
        out = []
        for x in self.leads:
            if x["month"] not in months:
                continue
            if (tab == "qualified") != (x["classification"] != "customer_inquiry"):
                continue
            if country and x["country"] not in country:
                continue
            if lead_type and x["lead_type"] not in lead_type:
                continue
            if offer and x["offer"] not in offer:
                continue
            if program and x["program"] not in program:
                continue
            if customer and not any(c.lower() in x["company"].lower() for c in customer):
                continue
            out.append(x)
        return out

    def test_range_months_and_partial(self):
        r = self.get("summary")["range"]
        self.assertEqual(r["months"], ["2026-12", "2027-01", "2027-02", "2027-03"])
        self.assertEqual(r["partial"], "2027-03")
        self.assertEqual(self.get("summary", range="1M")["range"]["months"], ["2027-02", "2027-03"])
        self.assertEqual(len(self.get("summary", range="6M")["range"]["months"]), 7)
        custom = self.get("summary", range="custom", **{"from": "2026-09", "to": "2026-11"})["range"]
        self.assertEqual((custom["months"], custom["partial"]), (["2026-09", "2026-10", "2026-11"], None))

    def check_summary(self, answer, months, tab, **filters):
        rows = self.select(months, tab, **filters)
        partial = "2027-03" if "2027-03" in months else None
        full = [m for m in months if m != partial]
        if tab == "marketplace":
            picks = {"leads": lambda x: 1, "offer_leads": lambda x: x["lead_type"] == "offer",
                     "profile_leads": lambda x: x["lead_type"] == "profile",
                     "won_value": lambda x: usd(x) if x["status"] == "Won" else 0}
        else:
            picks = {"received": lambda x: 1, "accepted": lambda x: accepted(x),
                     "won": lambda x: x["status"] == "Won",
                     "won_value": lambda x: usd(x) if x["status"] == "Won" else 0}
        tiles = {t["name"]: t for t in answer["tiles"]}
        self.assertEqual(list(tiles), list(picks))
        for name, pick in picks.items():
            per_month = [sum(float(pick(x)) for x in rows if x["month"] == m) for m in months]
            tile = tiles[name]
            self.assertAlmostEqual(tile["value"], round(sum(per_month), 2), places=2, msg=name)
            for got, want in zip(tile["months"], per_month):
                self.assertAlmostEqual(got, round(want, 2), places=2, msg=name)
            want_change = None if len(full) < 2 else change(per_month[months.index(full[0])],
                                                            per_month[months.index(full[-1])])
            if isinstance(want_change, float):
                self.assertAlmostEqual(tile["change"], want_change, places=1, msg=name)
            else:
                self.assertEqual(tile["change"], want_change, name)
        self.assertEqual(answer["unconverted"], unconverted([x for x in rows if x["status"] == "Won"]))
        return tiles

    def test_summary_marketplace_default_range(self):
        months = ["2026-12", "2027-01", "2027-02", "2027-03"]
        tiles = self.check_summary(self.get("summary"), months, "marketplace")
        self.assertGreater(tiles["leads"]["value"], 100)

    def test_summary_qualified_six_months(self):
        months = pop.MONTHS
        self.check_summary(self.get("summary", tab="qualified", range="6M"), months, "qualified")

    def test_summary_edge_cases(self):
        # One full month only: no change.
        tiles = self.check_summary(self.get("summary", range="1M"), ["2027-02", "2027-03"], "marketplace")
        self.assertIsNone(tiles["leads"]["change"])
        # No profile lead in September: 0 to more is "new".
        tiles = self.check_summary(self.get("summary", range="custom", **{"from": "2026-09", "to": "2026-11"}),
                                   ["2026-09", "2026-10", "2026-11"], "marketplace")
        self.assertEqual(tiles["profile_leads"]["change"], "new")
        # Profile leads of one offer do not exist: 0 to 0 is 0.
        tiles = self.check_summary(self.get("summary", range="6M", lead_type="profile"), pop.MONTHS, "marketplace",
                                   lead_type=["profile"])
        self.assertEqual(tiles["offer_leads"]["change"], 0)

    def test_summary_filters(self):
        months = ["2026-12", "2027-01", "2027-02", "2027-03"]
        self.check_summary(self.get("summary", country="us,DE"), months, "marketplace", country=["US", "DE"])
        self.check_summary(self.get("summary", offer="contoso.backup", range="6M"), pop.MONTHS, "marketplace",
                           offer=["contoso.backup"])
        self.check_summary(self.get("summary", customer="fabrikam", range="6M"), pop.MONTHS, "marketplace",
                           customer=["fabrikam"])
        self.check_summary(self.get("summary", tab="qualified", program="Contact request,Co-sell deployment services"),
                           months, "qualified", program=["Contact request", "Co-sell deployment services"])

    def test_currency_conversion(self):
        answer = self.get("summary", range="6M")
        won = [x for x in self.select(pop.MONTHS) if x["status"] == "Won"]
        self.assertTrue(any(x["currency"] == "EUR" for x in won) and any(x["currency"] == "JPY" for x in won))
        value = {t["name"]: t for t in answer["tiles"]}["won_value"]["value"]
        self.assertAlmostEqual(value, round(sum(usd(x) for x in won), 2), places=2)
        self.assertNotAlmostEqual(value, round(sum(x["value"] for x in won), 2), places=0)  # JPY is not added
        self.assertEqual([u["currency"] for u in answer["unconverted"]], ["JPY"])

    def check_funnel(self, answer, months, tab, **filters):
        rows = [x for x in self.select(months, tab, **filters) if x["status"] != "Informational"]
        if tab == "marketplace":
            groups = {"contact_me": lambda x: x["lead_type"] == "offer" and x["call_to_action"] == "ContactMe",
                      "profile": lambda x: x["lead_type"] == "profile"}
        else:
            groups = {"qualified": lambda x: True}
        got = {g["name"]: g for g in answer["groups"]}
        self.assertEqual(list(got), list(groups))
        for name, member in groups.items():
            g = [x for x in rows if member(x)]
            acc = [x for x in g if accepted(x)]
            won = [x for x in g if x["status"] == "Won"]
            self.assertEqual(got[name]["received"]["count"], len(g), name)
            self.assertEqual(got[name]["accepted"]["count"], len(acc), name)
            self.assertAlmostEqual(got[name]["accepted"]["value"], round(sum(usd(x) for x in acc), 2), places=2)
            self.assertEqual(got[name]["won"]["count"], len(won), name)
            self.assertAlmostEqual(got[name]["won"]["value"], round(sum(usd(x) for x in won), 2), places=2)
            self.assertEqual(got[name]["win_rate"], r1(100.0 * len(won) / len(acc)) if acc else None)
        # Past leads: received before the range, answered in it.
        start = pop.month_start(months[0])  # the range ends now: its last month is the current one
        before = [x for x in self.select(pop.MONTHS, tab, **filters) if x["received"] < start]
        in_range = lambda t: start <= t < pop.NOW_MS
        want_past = {"accepted": sum(1 for x in before if x["accepted"] and in_range(x["accepted"])),
                     "declined": sum(1 for x in before if x["status"] == "Declined" and in_range(x["closed"])),
                     "won": sum(1 for x in before if x["status"] == "Won" and in_range(x["closed"])),
                     "lost": sum(1 for x in before if x["status"] == "Lost" and in_range(x["closed"]))}
        self.assertEqual(answer["past_leads"], want_past)
        self.assertGreater(want_past["won"], 0)
        accept_days = [(x["accepted"] - x["received"]) // pop.DAY for x in rows if x["accepted"]]
        win_days = [(x["closed"] - x["received"]) // pop.DAY for x in rows if x["status"] == "Won"]
        accepted_ms = [x["accepted"] - x["received"] for x in rows if x["accepted"]]
        won_ms = [x["closed"] - x["received"] for x in rows if x["status"] == "Won"]
        self.assertAlmostEqual(answer["average_acceptance_days"], r1(sum(accepted_ms) / len(accepted_ms) / pop.DAY))
        self.assertAlmostEqual(answer["average_days_to_win"], r1(sum(won_ms) / len(won_ms) / pop.DAY))
        edges = [(0, 1), (2, 3), (4, 5), (6, 7), (8, 9), (10, 11), (12, 14), (15, 10 ** 9)]
        self.assertEqual([b["count"] for b in answer["acceptance_time"]],
                         [sum(1 for d in accept_days if lo <= d <= hi) for lo, hi in edges])
        self.assertEqual([b["days"] for b in answer["acceptance_time"]][-1], "14+")
        edges = [(0, 30), (31, 60), (61, 90), (91, 120), (121, 150), (151, 180), (181, 10 ** 9)]
        self.assertEqual([b["count"] for b in answer["time_to_win"]],
                         [sum(1 for d in win_days if lo <= d <= hi) for lo, hi in edges])
        self.assertGreater(answer["time_to_win"][-1]["count"] + answer["acceptance_time"][-1]["count"], 0)

    def test_funnel(self):
        self.check_funnel(self.get("funnel", range="3M"), ["2026-12", "2027-01", "2027-02", "2027-03"],
                          "marketplace")
        self.check_funnel(self.get("funnel", range="3M", tab="qualified"),
                          ["2026-12", "2027-01", "2027-02", "2027-03"], "qualified")
        # Filters: the roll-up's (country) and the lifecycle rows' (customer) answer alike.
        self.check_funnel(self.get("funnel", country="US,GB"), ["2026-12", "2027-01", "2027-02", "2027-03"],
                          "marketplace", country=["US", "GB"])
        self.check_funnel(self.get("funnel", customer="fabrikam,Contoso 1"),
                          ["2026-12", "2027-01", "2027-02", "2027-03"], "marketplace", customer=["fabrikam", "Contoso 1"])

    def check_table(self, answer, key, field, rows, with_cta=False, with_expired=False):
        values = sorted({x[field] for x in rows if x[field]})
        got = {r[key]: r for r in answer}
        self.assertEqual(set(got), set(values))
        counts = [r["leads"] for r in answer]
        self.assertEqual(counts, sorted(counts, reverse=True))
        for v in values:
            g = [x for x in rows if x[field] == v]
            r = got[v]
            self.assertEqual(r["leads"], len(g), v)
            self.assertEqual(r["accepted"], sum(1 for x in g if accepted(x)), v)
            self.assertEqual(r["won"], sum(1 for x in g if x["status"] == "Won"), v)
            self.assertAlmostEqual(r["won_value"], round(sum(usd(x) for x in g if x["status"] == "Won"), 2), places=2)
            if with_cta:
                want = {}
                for x in g:
                    want[x["call_to_action"]] = want.get(x["call_to_action"], 0) + 1
                self.assertEqual(r["by_call_to_action"], want)
            if with_expired:
                expired = sum(1 for x in g if x["status"] == "Expired")
                self.assertEqual(r["expired"], {"count": expired, "share": r1(100.0 * expired / len(g))})

    def test_offers_geo_programs(self):
        rows = self.select(pop.MONTHS)
        self.check_table(self.get("offers", range="6M")["offers"], "offer", "offer", rows, with_cta=True)
        self.check_table(self.get("geo", range="6M")["countries"], "country", "country", rows)
        q = self.select(pop.MONTHS, "qualified")
        self.check_table(self.get("programs", range="6M", tab="qualified")["programs"], "program", "program", q,
                         with_expired=True)
        # Marketplace leads have no program.
        self.assertEqual(self.get("programs", range="6M")["no_data"]["reason"], "no_match")

    def test_tables_across_filters(self):
        # Each combination reads another store: a country with offers needs the full roll-up, offers alone or a
        # country alone a narrow one, a customer the lead rows; every one must give the definitions' figures.
        us_de = self.select(pop.MONTHS, country=["US", "DE"])
        self.check_table(self.get("offers", range="6M", country="US,DE")["offers"], "offer", "offer", us_de,
                         with_cta=True)
        backup = self.select(pop.MONTHS, offer=["contoso.backup"])
        self.check_table(self.get("geo", range="6M", offer="contoso.backup")["countries"], "country", "country",
                         backup)
        q = self.select(pop.MONTHS, "qualified", country=["US"])
        self.check_table(self.get("programs", range="6M", tab="qualified", country="US")["programs"], "program",
                         "program", q, with_expired=True)
        fabrikam = self.select(pop.MONTHS, customer=["fabrikam"])
        self.check_table(self.get("offers", range="6M", customer="fabrikam")["offers"], "offer", "offer", fabrikam,
                         with_cta=True)
        self.check_table(self.get("geo", range="6M", customer="fabrikam", lead_type="offer")["countries"], "country",
                         "country", [x for x in fabrikam if x["lead_type"] == "offer"])

    def test_reasons(self):
        answer = self.get("reasons", range="6M")
        rows = self.select(pop.MONTHS)
        for status, key in (("Declined", "declined"), ("Lost", "lost")):
            want = {}
            for x in rows:
                if x["status"] == status:
                    want[x["reason"]] = want.get(x["reason"], 0) + 1
            self.assertEqual({r["reason"]: r["count"] for r in answer[key]}, want)
            self.assertTrue(want)

    def test_compare(self):
        months = ["2026-12", "2027-01", "2027-02", "2027-03"]
        rows = self.select(months)
        answer = self.get("compare", by="country")
        totals = {}
        for x in rows:
            if x["country"]:
                totals[x["country"]] = totals.get(x["country"], 0) + 1
        top = sorted(totals, key=lambda c: -totals[c])[:3]
        self.assertEqual([s["value"] for s in answer["series"]], top)
        month_totals = [sum(1 for x in rows if x["month"] == m and x["country"]) for m in months]
        self.assertEqual(answer["totals"], month_totals)
        for s in answer["series"]:
            per = [sum(1 for x in rows if x["month"] == m and x["country"] == s["value"]) for m in months]
            self.assertEqual(s["months"], per)
            self.assertEqual(s["shares"], [r1(100.0 * p / t) if t else None for p, t in zip(per, month_totals)])
        picked = self.get("compare", by="country", values="jp,sg")
        self.assertEqual([s["value"] for s in picked["series"]], ["JP", "SG"])
        by_value = self.get("compare", by="lead_source", measure="value", range="6M")
        rows = self.select(pop.MONTHS)
        for s in by_value["series"]:
            want = sum(usd(x) for x in rows if x["lead_source"] == s["value"] and x["status"] == "Won")
            self.assertAlmostEqual(s["total"], round(want, 2), places=2)
        self.assertEqual(len(by_value["series"]), 3)
        self.assertEqual(self.get("compare", expect=400, by="country", values="US,DE,GB,FR")["field"], "values")

    def test_empty_and_bad_queries(self):
        empty = self.get("geo", country="ZZ")
        self.assertEqual(empty["no_data"]["reason"], "no_match")
        self.assertEqual(empty["range"]["months"][-1], "2027-03")
        self.assertEqual(self.get("summary", expect=400, range="2M")["field"], "range")
        bad = self.get("summary", expect=400, contry="US")
        self.assertEqual(bad["field"], "contry")
        self.assertIn("country", bad["message"])
        self.assertEqual(self.get("summary", expect=400, range="custom", **{"from": "2026-13"})["field"], "from")
        self.assertEqual(self.get("summary", expect=400, range="custom", **{"from": "2027-01"})["field"], "to")
        self.assertEqual(self.get("nothing", expect=404)["error"], "not_found")
        self.assertEqual(self.get("summary", expect=401, role=None)["error"], "unauthorized")


class Changes(Filled):
    def test_a_change_moves_the_figures(self):
        # A lead received now, then accepted through the leads API: the figures have it at once.
        def accepted_now():
            groups = self.get("funnel", range="1M")["groups"]
            return sum(g["accepted"]["count"] for g in groups), sum(g["accepted"]["value"] for g in groups)
        leads_before = {t["name"]: t for t in self.get("summary", range="1M")["tiles"]}["leads"]["value"]
        count_before, value_before = accepted_now()
        status, _, data = self.d.post(lead_body(1))
        self.assertEqual(status, 202, data)
        lead_id = json.loads(data)["lead_id"]
        self.d.stored(routed=True)
        leads_after = {t["name"]: t for t in self.get("summary", range="1M")["tiles"]}["leads"]["value"]
        self.assertEqual(leads_after, leads_before + 1)
        self.d.admin_json("POST", f"/api/v1/leads/{lead_id}/accept",
                          {"deal_name": "Moved", "deal_value": 1000, "currency": "EUR", "close_date": "2027-06-30",
                           "notes": "from the test"}, role="referrals_admin")
        count_after, value_after = accepted_now()
        self.assertEqual(count_after, count_before + 1)
        self.assertAlmostEqual(value_after, value_before + 1100, places=2)


class EmptyStore(unittest.TestCase):
    def test_no_leads(self):
        d = Daemon()
        d.start()
        try:
            status, _, data = d.admin("GET", "/api/v1/insights/summary", role="viewer")
            self.assertEqual(status, 200, data)
            self.assertEqual(json.loads(data)["no_data"]["reason"], "no_leads")
        finally:
            d.close()


if __name__ == "__main__":
    unittest.main()
