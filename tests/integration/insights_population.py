"""A known population of leads over seven months for the insights tests and the console's browser test: made with a
fixed seed, written straight into a stopped daemon's store (lifecycle rows, as the pipeline and the leads API leave
them; the store's own triggers keep its roll-up), and returned as plain dicts so that each figure can be computed
again in Python, independently of the daemon."""
import calendar
import json
import random
import sqlite3
import time

DAY = 86400000
# The daemon's "now" in these tests (LEADRELAY_CLOCK_OFFSET moves it there): mid-March 2027.
NOW_MS = calendar.timegm((2027, 3, 15, 12, 0, 0)) * 1000
MONTHS = ["2026-09", "2026-10", "2026-11", "2026-12", "2027-01", "2027-02", "2027-03"]
OFFERS = ["contoso.analytics-pro", "contoso.backup", "fabrikam.crm-sync", "tailspin.iot"]
PROGRAMS = ["Contact request", "Digital sales opportunity", "Customer lifecycle management",
            "Co-sell deployment services"]
COUNTRIES = ["US", "US", "US", "DE", "DE", "GB", "FR", "JP", "SG", ""]
SOURCES = ["AzureMarketplace", "AppSource", "AzurePortal"]
REASONS = ["Project budget isn't adequate", "Customer didn't respond", "Customer chose another vendor",
           "Customer requirement not met", "Not a customer", "Others"]
FIRST_SEQ = 1_000_000


def month_start(month):
    y, m = int(month[:4]), int(month[5:])
    return calendar.timegm((y, m, 1, 0, 0, 0)) * 1000


def clock_offset():
    """LEADRELAY_CLOCK_OFFSET that puts the daemon's clock at NOW_MS."""
    return f"{NOW_MS - int(time.time() * 1000)}ms"


def population(n=840, seed=7):
    rng = random.Random(seed)
    leads = []
    for i in range(n):
        month = MONTHS[i % len(MONTHS)]
        start = month_start(month)
        days = 14 if month == MONTHS[-1] else 28
        received = start + rng.randrange(days * DAY)
        classification = rng.choices(["customer_inquiry", "marketing_qualified", "sales_qualified"], [70, 15, 15])[0]
        qualified = classification != "customer_inquiry"
        # No profile lead in the first month: its change to a later month is "new".
        lead_type = "profile" if not qualified and month != MONTHS[0] and rng.random() < 0.3 else "offer"
        if lead_type == "profile":
            cta = "None"
        else:
            cta = rng.choices(["ContactMe", "GetItNow", "TestDrive", "GetItNowOrFreeTrial"], [60, 20, 10, 10])[0]
            if qualified:
                cta = "ContactMe"
        lead = {
            "seq": FIRST_SEQ + i, "lead_id": f"pop-{i:05d}", "received": received, "month": month,
            "classification": classification, "lead_type": lead_type, "call_to_action": cta,
            "country": rng.choice(COUNTRIES), "offer": rng.choice(OFFERS) if lead_type == "offer" else None,
            "program": rng.choice(PROGRAMS) if qualified else None, "lead_source": rng.choice(SOURCES),
            "company": "Fabrikam Ltd" if i % 9 == 0 else f"Contoso {i}",
            "status": "Informational", "accepted": 0, "closed": 0, "expires": 0, "value": None, "currency": None,
            "reason": None,
        }
        actionable = lead_type == "profile" or cta == "ContactMe"
        if actionable:
            answer(lead, rng)
        leads.append(lead)
    return leads


def answer(lead, rng):
    rec = lead["received"]
    if rec + 14 * DAY > NOW_MS and rng.random() < 0.5:
        lead.update(status="Received", expires=rec + 14 * DAY)
        return
    if rng.random() < 0.6:
        accepted = rec + rng.choice([0, 1, 2, 3, 5, 7, 9, 11, 13, 15]) * DAY + rng.randrange(DAY // 2)
        if accepted >= NOW_MS:
            lead.update(status="Received", expires=rec + 14 * DAY)
            return
        lead.update(status="Accepted", accepted=accepted, value=float(rng.randrange(10, 500) * 100),
                    currency=rng.choices(["USD", "EUR", "JPY"], [70, 20, 10])[0])
        roll = rng.random()
        closed = accepted + rng.choice([1, 20, 45, 80, 100, 130, 160, 190]) * DAY
        if roll < 0.45 and closed < NOW_MS:
            lead.update(status="Won", closed=closed)
        elif roll < 0.65 and closed < NOW_MS:
            lead.update(status="Lost", closed=closed, reason=rng.choice(REASONS))
    elif rec + 14 * DAY < NOW_MS:
        if rng.random() < 0.5:
            lead.update(status="Declined", closed=rec + rng.randrange(14 * DAY), reason=rng.choice(REASONS))
        else:
            lead.update(status="Expired", closed=rec + 14 * DAY)
    else:
        lead.update(status="Received", expires=rec + 14 * DAY)


def fill(db_path, leads):
    """Writes the leads into the store at db_path (the daemon stopped)."""
    db = sqlite3.connect(db_path)
    try:
        with db:
            for x in leads:
                deal = None
                if x["value"] is not None:
                    deal = json.dumps({"name": "Deal " + x["lead_id"], "value": x["value"], "currency": x["currency"],
                                       "close_date": None, "crm_id": None, "campaign_id": None, "team": []})
                db.execute(
                    "INSERT INTO lifecycle (seq, lead_id, msg_key, received_at_ms, status, expires_at_ms, "
                    "accepted_at_ms, closed_at_ms, deal, reason, call_to_action, country, company, lead_source, "
                    "lead_type, classification, offer, program) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                    "?, ?, ?)",
                    (x["seq"], x["lead_id"], x["lead_id"], x["received"], x["status"], x["expires"], x["accepted"],
                     x["closed"], deal, x["reason"], x["call_to_action"], x["country"] or None, x["company"],
                     x["lead_source"], x["lead_type"], x["classification"], x["offer"], x["program"]))
    finally:
        db.close()
