"""Partner Center as leadrelay meets it, written from the public contracts (Referrals REST API, Entra ID v1 token
endpoint, signed webhook events), standard library only:

- token endpoint (POST /<tenant>/oauth2/token): refresh_token grants rotate the refresh token (the old one stops
  working), access tokens expire after `token_ttl`; client_credentials for the app-only option; invalid_grant 400;
- GET /v1.0/engagements/referrals/{id}, and the OData list with $filter=updatedDateTime gt <time>,
  $orderby=updatedDateTime, $top and @odata.nextLink paging;
- PATCH with RFC 6902 JSON Patch (replace/add only), If-Match against the eTag (412 when stale), 204;
- faults per data request in turn (429 with Retry-After, 500, 503, "hang", "malformed"), `outage`, expired tokens
  (401), `garbage` ids answered with a malformed referral, and `before_patch` hooks that change a referral just before a PATCH lands (the 412 race);
- the sender: webhook events signed RSA-SHA256 with a certificate from the test CA, served at /cert/pc.cer."""
import base64
import copy
import datetime
import json
import subprocess
import threading
import urllib.parse

from emulators import JsonHandler, Served

SIGNER_SUBJECT = "/CN=api.partnercenter.microsoft.com/O=Microsoft Corporation"


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_iso(text):
    text = text.rstrip("Z")
    if "." in text:
        head, frac = text.split(".", 1)
        text = head + "." + (frac + "000000")[:6]
        return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f")
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S")


def referral(n, status="New", substatus="Received", qualification="SalesQualified", cta="ContactMe", **extra):
    """A referral resource as the Referrals API returns it."""
    r = {
        "id": f"ref-{n:05d}",
        "engagementId": f"eng-{n:05d}",
        "name": f"Contoso deal {n}",
        "externalReferenceId": None,
        "createdDateTime": None,
        "updatedDateTime": None,
        "expirationDateTime": None,
        "status": status,
        "substatus": substatus,
        "statusReason": None,
        "type": "Independent",
        "qualification": qualification,
        "callToAction": cta,
        "program": "Digital sales opportunity" if qualification != "Direct" else None,
        "target": {"type": "Offer"},
        "customerProfile": {
            "name": f"Contoso {n} Ltd",
            "address": {"addressLine1": "1 Main St", "city": "Seattle", "state": "WA", "postalCode": "98052",
                        "country": "US", "region": "NA"},
            "size": "50to100employees",
            "team": [{"firstName": f"Ana{n}", "lastName": "Buyer", "email": f"ana{n}@contoso.com",
                      "phoneNumber": "+1 206 555 0100"}],
        },
        "consent": {"consentToContact": True, "consentToToShareInfoWithOthers": False},
        "details": {"notes": "Wants a demo in Q1", "dealValue": 5000, "currency": "USD", "closingDateTime": None,
                    "customerRequestedContact": cta == "ContactMe",
                    "requirements": {"products": [{"id": "p1", "name": "Contoso Analytics"}], "services": ["Consulting"],
                                     "industries": ["Retail"]}},
        "team": [],
        "inviteContext": {"invitedBy": {"organizationId": "msft"}},
    }
    r.update(extra)
    return r


def apply_patch(doc, ops):
    """RFC 6902 replace/add on object members; anything else raises ValueError."""
    for op in ops:
        if op.get("op") not in ("replace", "add"):
            raise ValueError(f"op {op.get('op')!r} is not supported")
        parts = [urllib.parse.unquote(p).replace("~1", "/").replace("~0", "~") for p in op["path"].split("/")[1:]]
        target = doc
        for p in parts[:-1]:
            if not isinstance(target, dict) or p not in target or not isinstance(target[p], dict):
                raise ValueError(f"path {op['path']} does not exist")
            target = target[p]
        if op["op"] == "replace" and parts[-1] not in target:
            raise ValueError(f"path {op['path']} does not exist")
        target[parts[-1]] = op["value"]


class PartnerCenter(Served):
    CLIENT_ID = "leadrelay-pc-app"
    TENANT = "contoso.onmicrosoft.com"

    def __init__(self, ca, token_ttl=3600):
        self.ca = ca
        self.signer = ca.issue("pc-signer", SIGNER_SUBJECT)
        self.token_ttl = token_ttl
        self.cond = threading.Condition()
        self.referrals = {}       # id -> resource
        self.version = 0          # eTag counter
        self.clock = datetime.datetime.utcnow() - datetime.timedelta(hours=1)
        self.refresh_token = "rt-initial"
        self.refresh_valid = True
        self.rotations = 0
        self.tokens = set()
        self.token_requests = []  # form dicts
        self.faults = []          # for the next data requests, in turn
        self.outage = False       # data requests get 429 (Retry-After: 1) and 503 in turn
        self.outage_answers = 0
        self.requests = []        # (method, path, status)
        self.patches = []         # (id, ops, status at PATCH time)
        self.before_patch = {}    # id -> function(resource), run once just before a PATCH is judged
        self.garbage = set()      # ids whose GET answers a malformed referral
        outer = self

        class Handler(JsonHandler):
            def do_GET(self):
                if self.path == "/cert/pc.cer":
                    der = subprocess.run(["openssl", "x509", "-in", outer.signer[0], "-outform", "DER"],
                                         capture_output=True, check=True).stdout
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(der)))
                    self.end_headers()
                    self.wfile.write(der)
                    return
                outer.handle(self, "GET", b"")

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.path.endswith("/oauth2/token"):
                    return outer.token(self, body)
                self.reply(405, {"error": {"code": "MethodNotAllowed", "message": "POST"}})

            def do_PATCH(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                outer.handle(self, "PATCH", body)

        Served.__init__(self, Handler, ca)
        self.url = self.base_url

    # --- the referral store, as Partner Center's side changes it ---
    def _touch(self, r):
        self.version += 1
        self.clock += datetime.timedelta(milliseconds=10)
        r["updatedDateTime"] = iso(self.clock)
        r["eTag"] = f'"{self.version}"'

    def add(self, r):
        with self.cond:
            r = copy.deepcopy(r)
            r["createdDateTime"] = iso(self.clock)
            self._touch(r)
            self.referrals[r["id"]] = r
            return copy.deepcopy(r)

    def update(self, rid, **fields):
        """Changes a referral in Partner Center (a seller closes it, ...); nested dicts are merged."""
        with self.cond:
            r = self.referrals[rid]
            for k, v in fields.items():
                if isinstance(v, dict) and isinstance(r.get(k), dict):
                    r[k].update(v)
                else:
                    r[k] = v
            self._touch(r)
            return copy.deepcopy(r)

    def get_referral(self, rid):
        with self.cond:
            return copy.deepcopy(self.referrals[rid])

    def wait(self, predicate, timeout=30):
        with self.cond:
            if not self.cond.wait_for(lambda: predicate(self), timeout):
                raise TimeoutError("Partner Center emulator: condition not reached")

    # --- the sender: signed webhook events ---
    def event(self, name, rid, uri=None):
        body = json.dumps({"EventName": name,
                           "ResourceUri": uri or f"https://api.partnercenter.microsoft.com/engagements/v1/referrals/{rid}",
                           "ResourceName": "referral", "ResourceChangeUtcDate": iso(self.clock)}).encode()
        return body, self.sign(body)

    def sign(self, body):
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", self.signer[1]], input=body,
                             capture_output=True, check=True).stdout
        return {"Authorization": "Signature " + base64.b64encode(sig).decode(),
                "X-MS-Certificate-Url": self.url + "/cert/pc.cer", "X-MS-Signature-Algorithm": "rsa-sha256"}

    # --- Entra ID v1 token endpoint ---
    def token(self, h, body):
        form = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode()).items()}
        with self.cond:
            self.token_requests.append(form)
            if form.get("client_id") != self.CLIENT_ID or form.get("resource") != "https://api.partner.microsoft.com":
                return h.reply(400, {"error": "invalid_client", "error_description": "AADSTS700016: unknown app"})
            if form.get("grant_type") == "refresh_token":
                if not self.refresh_valid or form.get("refresh_token") != self.refresh_token:
                    return h.reply(400, {"error": "invalid_grant",
                                         "error_description": "AADSTS70008: the refresh token has expired"})
                self.rotations += 1
                self.refresh_token = f"rt-rotated-{self.rotations}"
            elif form.get("grant_type") == "client_credentials":
                if form.get("client_secret") != "pc-app-secret":
                    return h.reply(401, {"error": "invalid_client", "error_description": "bad secret"})
            else:
                return h.reply(400, {"error": "unsupported_grant_type"})
            token = f"pc-token-{len(self.token_requests)}"
            self.tokens.add(token)
            answer = {"token_type": "Bearer", "access_token": token, "expires_in": str(self.token_ttl),
                      "resource": "https://api.partner.microsoft.com"}
            if form.get("grant_type") == "refresh_token":
                answer["refresh_token"] = self.refresh_token
        h.reply(200, answer)

    def expire_tokens(self):
        with self.cond:
            self.tokens.clear()

    # --- the Referrals API ---
    def handle(self, h, method, body):
        with self.cond:
            fault = self.faults.pop(0) if self.faults else None
            if fault is None and self.outage:
                self.outage_answers += 1
                fault = 429 if self.outage_answers % 2 else 503
        status = self._answer(h, method, body, fault)
        with self.cond:
            self.requests.append((method, h.path, status))
            self.cond.notify_all()

    def _answer(self, h, method, body, fault):
        auth = h.headers.get("Authorization", "")
        with self.cond:
            authorized = auth.startswith("Bearer ") and auth[7:] in self.tokens
        if not authorized:
            h.reply(401, {"code": 401, "description": "Unauthorized: the token has expired", "data": [],
                          "source": "API"})
            return 401
        if fault == "hang" or (fault == "hang_after_patch" and method != "PATCH"):
            if fault == "hang_after_patch":
                with self.cond:
                    self.faults.insert(0, fault)  # meant for the PATCH
                fault = None
        if self.transport_fault(h, fault):
            return None
        if fault == 429:
            h.reply(429, {"code": 429, "description": "Rate limit is exceeded"}, {"Retry-After": "1"})
            return 429
        if fault in (500, 503):
            h.reply(fault, {"code": fault, "description": "Service unavailable"})
            return fault
        url = urllib.parse.urlsplit(h.path)
        base = "/v1.0/engagements/referrals"
        if url.path.rstrip("/") == base and method == "GET":
            return self._list(h, url.query)
        if not url.path.startswith(base + "/"):
            h.reply(404, {"code": 404, "description": "Not found"})
            return 404
        rid = urllib.parse.unquote(url.path[len(base) + 1:])
        with self.cond:
            r = self.referrals.get(rid)
            if r is None:
                h.reply(404, {"code": 404, "description": f"Referral {rid} not found"})
                return 404
            if method == "GET":
                h.reply(200, r if rid not in self.garbage else {"id": rid, "customerProfile": "not an object"})
                return 200
            hook = self.before_patch.pop(rid, None)
            if hook:
                hook(r)
                self._touch(r)
            if h.headers.get("If-Match") != r["eTag"]:
                h.reply(412, {"code": 412, "description": "The eTag is stale: read the referral again"})
                return 412
            try:
                ops = json.loads(body)
                trial = copy.deepcopy(r)
                apply_patch(trial, ops)
            except (ValueError, KeyError, TypeError) as e:
                h.reply(400, {"code": 400, "description": f"bad patch: {e}"})
                return 400
            self.patches.append((rid, ops, f"{r['status']}/{r['substatus']}"))
            self.referrals[rid] = trial
            self._touch(trial)
        if fault == "hang_after_patch":
            # Written, but the answer never comes: leadrelay must not write it twice.
            self.hung.append(h.connection)
            threading.Event().wait(30)
            return None
        h.reply(204)
        return 204

    def _list(self, h, query):
        q = {k: v[0] for k, v in urllib.parse.parse_qs(query).items()}
        since = None
        if "$filter" in q:
            left, op, value = q["$filter"].split(" ", 2)
            if left != "updatedDateTime" or op != "gt":
                h.reply(400, {"code": 400, "description": "unsupported $filter"})
                return 400
            since = parse_iso(value)
        top = min(int(q.get("$top", "100")), 100)
        skip = int(q.get("$skiptoken", "0"))
        with self.cond:
            rows = sorted((r for r in self.referrals.values()
                           if since is None or parse_iso(r["updatedDateTime"]) > since),
                          key=lambda r: r["updatedDateTime"])
            page = copy.deepcopy(rows[skip:skip + top])
        answer = {"value": page}
        if skip + top < len(rows):
            keep = {k: v for k, v in q.items() if k != "$skiptoken"}
            keep["$skiptoken"] = str(skip + top)
            answer["@odata.nextLink"] = f"{self.url}/v1.0/engagements/referrals?" + urllib.parse.urlencode(keep)
        h.reply(200, answer)
        return 200

    def config(self, refresh_token_file, poll_interval="5m", extra=""):
        """The partner_center section that points leadrelay at this emulator."""
        return (f"partner_center:\n  api_url: {self.url}/v1.0/engagements/referrals\n"
                f"  token_url: {self.url}/{self.TENANT}/oauth2/token\n  client_id: {self.CLIENT_ID}\n"
                f"  refresh_token_file: {refresh_token_file}\n  ca_file: {self.ca.ca_cert}\n"
                f"  poll_interval: {poll_interval}\n  initial_backoff: 100ms\n  max_backoff: 2s\n{extra}")

    def source(self, name="referrals"):
        """A pc-referral source whose signatures this emulator's certificate passes."""
        return (f"  - name: {name}\n    path: /referrals/{name}\n    format: pc-referral\n    auth:\n"
                f"      type: partner_center\n      certificate_hosts: [\"127.0.0.1:{self.port}\"]\n"
                f"      ca_file: \"{self.ca.ca_cert}\"\n      certificate_issuer: leadrelay test CA\n")
