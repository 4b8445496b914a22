"""De-duplication with the real binary: redeliveries are answered 200 with the first lead's id and never published
again; leads of the same person for the same offer are linked; the state survives restarts; windows expire."""
import collections
import json
import threading
import unittest

from harness import SAMPLE_LEAD, Daemon, WithKafka, consume

def lead_body(email="jane@contoso.com", action="INS", offer="contoso.analytics-pro", indent=None, **extra):
    body = json.loads(json.dumps(SAMPLE_LEAD))
    body["UserDetails"]["Email"] = email
    body["ActionCode"] = action
    body["LeadSource"] = f"AzureMarketplace-{action}|{offer}"
    body.update(extra)
    return json.dumps(body, indent=indent).encode()


class Dedup(WithKafka):

    def test_double_post_and_reformatted_copies(self):
        status, _, data = self.d.post(lead_body())
        self.assertEqual(status, 202)
        first = json.loads(data)["lead_id"]
        status, _, data = self.d.post(lead_body())
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(data), {"lead_id": first, "status": "duplicate", "duplicate": True})
        # Reordered keys, other indentation, other key case, extra spaces inside values: the same delivery.
        original = json.loads(lead_body())
        reordered = {k: original[k] for k in reversed(list(original))}
        reordered["userDetails"] = reordered.pop("UserDetails")
        reordered["Description"] = "  Interested   in a trial "
        status, _, data = self.d.post(json.dumps(reordered, indent=4).encode())
        self.assertEqual((status, json.loads(data)["lead_id"]), (200, first))
        # Another value: another delivery.
        self.assertEqual(self.d.post(lead_body(Description="Interested in a demo"))[0], 202)
        self.assertEqual(len(self.d.stored()), 2)

    def test_50_identical_posts_at_once_make_one_lead(self):
        barrier = threading.Barrier(50)
        answers = []
        lock = threading.Lock()

        def client():
            conn = self.d.connection()
            conn.connect()
            barrier.wait()
            status, _, data = self.d.post(lead_body(email="rush@contoso.com"), conn=conn)
            conn.close()
            with lock:
                answers.append((status, json.loads(data)["lead_id"]))

        threads = [threading.Thread(target=client) for _ in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(len(answers), 50)
        self.assertEqual(len({lead_id for _, lead_id in answers}), 1, "every answer names the one lead")
        self.assertEqual(collections.Counter(s for s, _ in answers), {202: 1, 200: 49})
        self.assertEqual(len(self.d.stored()), 1)
        messages = consume(self.broker.bootstrap, "leads.all", count=1)
        self.assertEqual(len(consume(self.broker.bootstrap, "leads.all")), 1)
        self.assertEqual(messages[0][2]["lead_id"], answers[0][1])

    def test_redelivery_after_a_restart(self):
        first = json.loads(self.d.post(lead_body())[2])["lead_id"]
        self.assertEqual(self.d.stop(), 0)
        self.d.start()
        status, _, data = self.d.post(lead_body())
        self.assertEqual((status, json.loads(data)["lead_id"]), (200, first))

    def test_replay_window_expires(self):
        first = json.loads(self.d.post(lead_body())[2])["lead_id"]
        self.assertEqual(self.d.stop(), 0)
        self.d.start(clock_offset="25h")  # the 24 h replay window has passed
        status, _, data = self.d.post(lead_body())
        self.assertEqual(status, 202)
        second = json.loads(data)["lead_id"]
        self.assertNotEqual(second, first)
        # Still within the 14-day person window: linked to the first.
        messages = consume(self.broker.bootstrap, "leads.all", count=2)
        linked = next(m[2] for m in messages if m[2]["lead_id"] == second)
        self.assertEqual((linked["duplicate_of"], linked["occurrence"]), (first, 2))

    def test_person_window_expires(self):
        self.d.post(lead_body())
        self.assertEqual(self.d.stop(), 0)
        self.d.start(clock_offset="15d")
        second = json.loads(self.d.post(lead_body(action="PLT"))[2])["lead_id"]
        messages = consume(self.broker.bootstrap, "leads.all", count=2)
        fresh = next(m[2] for m in messages if m[2]["lead_id"] == second)
        self.assertEqual((fresh["duplicate_of"], fresh["occurrence"]), (None, 1))

    def test_same_person_and_offer_are_linked_and_contact_me_upgrades(self):
        ids = []
        for action in ("INS", "PLT", "StartTestDrive"):
            status, _, data = self.d.post(lead_body(email="Ann@Contoso.com", action=action))
            self.assertEqual(status, 202)
            ids.append(json.loads(data)["lead_id"])
        # Same person, another offer: not linked.
        other = json.loads(self.d.post(lead_body(email="ann@contoso.com", offer="contoso.other"))[2])["lead_id"]
        messages = {m[2]["lead_id"]: m[2] for m in consume(self.broker.bootstrap, "leads.all", count=4)}
        first, second, third = (messages[i] for i in ids)
        self.assertEqual((first["duplicate_of"], first["occurrence"], first["action_history"]), (None, 1, ["INS"]))
        self.assertEqual((second["duplicate_of"], second["occurrence"]), (ids[0], 2))
        self.assertEqual(second["action_history"], ["INS", "PLT"])
        self.assertTrue(second["action"]["partner_action_required"])
        self.assertEqual((third["duplicate_of"], third["occurrence"]), (ids[0], 3))
        self.assertEqual(third["action"]["call_to_action"], "ContactMe", "a Contact me earlier keeps the partner acting")
        self.assertEqual(messages[other]["duplicate_of"], None)

    def test_topic_holds_one_message_per_unique_lead(self):
        unique = set()
        for n in range(30):
            for _ in range(3):  # every delivery sent three times
                status, _, data = self.d.post(lead_body(email=f"p{n}@contoso.com"))
                self.assertIn(status, (200, 202))
                unique.add(json.loads(data)["lead_id"])
        self.assertEqual(len(unique), 30)
        consume(self.broker.bootstrap, "leads.all", count=30)
        self.assertEqual(sorted(m[2]["lead_id"] for m in consume(self.broker.bootstrap, "leads.all")), sorted(unique))


class IdempotencyHeader(unittest.TestCase):
    def test_a_sender_key_decides_sameness(self):
        d = Daemon(source_extra="    idempotency_header: Idempotency-Key\n").start()
        try:
            status, _, data = d.post(lead_body(), headers={"Idempotency-Key": "delivery-1"})
            self.assertEqual(status, 202)
            first = json.loads(data)["lead_id"]
            # Same key, changed body (a sender re-sending with a new timestamp, say): the same delivery.
            status, _, data = d.post(lead_body(Description="resent"), headers={"Idempotency-Key": "delivery-1"})
            self.assertEqual((status, json.loads(data)["lead_id"]), (200, first))
            # Same body, another key: another delivery.
            self.assertEqual(d.post(lead_body(), headers={"Idempotency-Key": "delivery-2"})[0], 202)
            self.assertEqual(len(d.stored()), 2)
        finally:
            d.close()


if __name__ == "__main__":
    unittest.main()
