"""HTTP(S) peers for the sink tests, standard library only: a test CA made with the openssl CLI, and a webhook
receiver whose answers are scripted (status, Retry-After, a hang) so faults can be injected per request."""
import http.server
import json
import os
import re
import socket
import ssl
import subprocess
import threading


class TestCA:
    """A CA and a server certificate for 127.0.0.1 / localhost, in `folder`; `issue` signs more (client, signing)."""

    def __init__(self, folder, name="leadrelay test CA"):
        self.folder = folder
        self.ca_cert = os.path.join(folder, "ca.pem")
        self.ca_key = os.path.join(folder, "ca.key")
        self.serial = 0
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", self.ca_key, "-out", self.ca_cert,
                 "-days", "2", "-subj", f"/CN={name}/O={name}")
        self.cert, self.key = self.issue("server", "/CN=localhost",
                                         "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n")

    def issue(self, name, subject, ext="basicConstraints=CA:FALSE\n"):
        """Signs a new RSA key for `subject` ("/CN=x/O=y"); returns (certificate path, key path)."""
        self.serial += 1
        cert = os.path.join(self.folder, f"{name}.pem")
        key = os.path.join(self.folder, f"{name}.key")
        csr = os.path.join(self.folder, f"{name}.csr")
        ext_file = os.path.join(self.folder, f"{name}.cnf")
        with open(ext_file, "w") as f:
            f.write(ext)
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", subject)
        _openssl("x509", "-req", "-in", csr, "-CA", self.ca_cert, "-CAkey", self.ca_key, "-set_serial",
                 str(1000 + self.serial), "-out", cert, "-days", "2", "-extfile", ext_file)
        return cert, key


def _openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


class Served:
    """A threading HTTP(S) server on a free loopback port (TLS with the test CA's server certificate when `ca` is
    given), serving `handler` in the background; close() also cuts the connections kept hanging in `hung`."""

    def __init__(self, handler, ca=None):
        self.hung = []
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        if ca is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(ca.cert, ca.key)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.base_url = f"{'https' if ca is not None else 'http'}://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def transport_fault(self, h, fault):
        """The faults every emulator can play on a request it read: "hang" (never answers; close() cuts it) and
        "malformed" (an answer that is not HTTP). True when it played one (nothing more to send)."""
        if fault == "hang":
            self.hung.append(h.connection)
            threading.Event().wait(30)
            return True
        if fault == "malformed":
            h.wfile.write(b"HTTP/1.1 2OO NOT A STATUS\r\n\r\n{")
            h.close_connection = True
            return True
        return False

    def close(self):
        for c in self.hung:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.server.shutdown()
        self.server.server_close()


class Receiver(Served):
    """A webhook receiver. `script` is a list of answers used in turn, then `default`: each an int status, a
    (status, headers) pair, "hang" (read the request, never answer) or ("raw", bytes): those bytes as the answer,
    then the connection closes (malformed answers). Every request is recorded."""

    def __init__(self, ca=None, script=None, default=200):
        self.script = list(script or [])
        self.default = default
        self.requests = []  # (headers dict, body bytes, answered status or None)
        self.cond = threading.Condition()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with outer.cond:
                    answer = outer.script.pop(0) if outer.script else outer.default
                    status = (None if answer == "hang" or (isinstance(answer, tuple) and answer[0] == "raw")
                              else (answer if isinstance(answer, int) else answer[0]))
                    outer.requests.append(({k.lower(): v for k, v in self.headers.items()}, body, status))
                    outer.cond.notify_all()
                if answer == "hang":
                    outer.hung.append(self.connection)
                    threading.Event().wait(30)
                    return
                if isinstance(answer, tuple) and answer[0] == "raw":
                    self.wfile.write(answer[1])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                headers = {} if isinstance(answer, int) else answer[1]
                text = json.dumps({"ok": status < 400} if status < 400 else {"error": f"refused with {status}"})
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text.encode())

        Served.__init__(self, Handler, ca)
        self.url = self.base_url + "/hooks/leads"

    def delivered(self):
        """Bodies answered 2xx, by webhook-id (a repeat of an id would be a duplicate)."""
        with self.cond:
            return [(h.get("webhook-id"), b) for h, b, s in self.requests if s is not None and 200 <= s < 300]

    def wait_for(self, predicate, timeout=30):
        with self.cond:
            if not self.cond.wait_for(lambda: predicate(self), timeout):
                raise TimeoutError(f"receiver: condition not met; {len(self.requests)} requests so far: "
                                   + ", ".join(str(s) for _, _, s in self.requests))

    def set_default(self, answer):
        with self.cond:
            self.default = answer


class JsonHandler(http.server.BaseHTTPRequestHandler):
    """A quiet HTTP/1.1 handler that answers JSON (or no body)."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=None, headers=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class CrmEmulator(Served):
    """Dynamics 365 (Dataverse Web API), Salesforce (REST) or HubSpot (CRM v3) as far as leadrelay uses them,
    written from their public API contracts: an OAuth2 client-credentials token endpoint (not HubSpot), upsert by
    key, and their error answers. `faults` is a list of answers for the next data requests, in turn:
    429 (Retry-After: 1), 500, 503, "hang" (never answers), "malformed" (not HTTP), "limit" (Salesforce 403
    REQUEST_LIMIT_EXCEEDED). `refuse` maps an email to a permanent refusal ("multiple" = Salesforce 300)."""

    CLIENT_ID, CLIENT_SECRET, HUB_TOKEN = "leadrelay-app", "app-secret-123", "pat-na1-hubspot-token"

    def __init__(self, kind, ca, faults=None, token_ttl=3600):
        self.kind = kind
        self.faults = list(faults or [])
        self.refuse = {}
        self.token_ttl = token_ttl
        self.records = {}      # upsert key -> fields
        self.deleted = []      # keys of records deleted (an erasure), in order
        self.creates = 0
        self.updates = 0
        self.token_requests = 0
        self.tokens = set()
        self.answers = []      # status of every data request (None: no answer)
        self.outage = False    # while True, data requests get 429 (Retry-After: 1) and 503 in turn
        self.outage_answers = 0
        self.cond = threading.Condition()
        outer = self

        class Handler(JsonHandler):
            def do_POST(self):
                self.handle_request("POST")

            def do_PATCH(self):
                self.handle_request("PATCH")

            def do_DELETE(self):
                self.handle_request("DELETE")

            def handle_request(self, method):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.path.endswith("/token"):
                    return outer.token(self, body)
                with outer.cond:
                    fault = outer.faults.pop(0) if outer.faults else None
                    if fault is None and outer.outage:
                        # An outage: throttled and failing in turn, as a CRM under maintenance answers.
                        outer.outage_answers += 1
                        fault = 429 if outer.outage_answers % 2 else 503
                status = outer.data(self, method, body, fault)
                with outer.cond:
                    outer.answers.append(status)
                    outer.cond.notify_all()

        Served.__init__(self, Handler, ca)
        self.url = self.base_url

    def delete(self, h, method, body):
        """Dataverse DELETE by alternate key, Salesforce DELETE by external ID, HubSpot's GDPR delete by email:
        204, or 404 when there is no such record."""
        key = None
        if self.kind == "dynamics":
            m = re.fullmatch(r"/api/data/v9\.2/leads\(leadrelay_leadid='([0-9a-f-]+)'\)", h.path)
            key = m.group(1) if m and method == "DELETE" else None
        elif self.kind == "salesforce":
            m = re.fullmatch(r"/services/data/v59\.0/sobjects/Lead/LeadRelay_Id__c/([0-9a-f-]+)", h.path)
            key = m.group(1) if m and method == "DELETE" else None
        elif method == "POST":
            try:
                request = json.loads(body)
            except ValueError:
                h.reply(400, {"status": "error", "category": "VALIDATION_ERROR", "message": "malformed JSON"})
                return 400
            if request.get("idProperty") != "email" or not request.get("objectId"):
                h.reply(400, {"status": "error", "category": "VALIDATION_ERROR", "message": "objectId and idProperty"})
                return 400
            key = request["objectId"]
        with self.cond:
            found = key is not None and self.records.pop(key, None) is not None
            if found:
                self.deleted.append(key)
            self.cond.notify_all()
        if not found:
            h.reply(404, {"message": "no such record"})
            return 404
        h.reply(204, None)
        return 204

    # --- token endpoint (Entra ID v2.0 / Salesforce client credentials) ---
    def token(self, h, body):
        form = dict(p.split("=", 1) for p in body.decode().split("&") if "=" in p)
        with self.cond:
            self.token_requests += 1
            if form.get("grant_type") != "client_credentials" or form.get("client_id") != self.CLIENT_ID or \
                    form.get("client_secret") != self.CLIENT_SECRET:
                return h.reply(401, {"error": "invalid_client", "error_description": "bad client credentials"})
            token = f"token-{self.token_requests}"
            self.tokens.add(token)
        answer = {"access_token": token, "token_type": "Bearer"}
        if self.kind == "dynamics":
            answer["expires_in"] = self.token_ttl
        else:
            answer["instance_url"] = self.url
        h.reply(200, answer)

    def revoke_tokens(self):
        """Every token issued so far is expired: the next data request gets 401."""
        with self.cond:
            self.tokens.clear()

    # --- data requests ---
    def data(self, h, method, body, fault):
        if fault == "store_only":
            class Mute:  # runs the normal path but sends nothing
                headers, path, connection = h.headers, h.path, h.connection

                def reply(self, *args, **kwargs):
                    pass
            h = Mute()
            fault = None
        auth = h.headers.get("Authorization", "")
        if self.kind == "hubspot":
            authorized = auth == "Bearer " + self.HUB_TOKEN
        else:
            with self.cond:
                authorized = auth.startswith("Bearer ") and auth[7:] in self.tokens
        if not authorized:
            if self.kind == "salesforce":
                h.reply(401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])
            else:
                h.reply(401, {"error": {"code": "0x80072560", "message": "The user is not authenticated"}}
                        if self.kind == "dynamics" else {"status": "error", "category": "INVALID_AUTHENTICATION",
                                                          "message": "Authentication credentials not found"})
            return 401
        if fault == "hang_after_store":
            # The CRM wrote the record but the answer never comes: the retry must update it, not add another.
            self.data(h, method, body, "store_only")
            fault = "hang"
        if self.transport_fault(h, fault):
            return None
        if fault == "limit":
            h.reply(403, [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}])
            return 403
        if fault in (429, 500, 503):
            h.reply(fault, {"error": {"code": "0x80072322", "message": "throttled or failing"}},
                    {"Retry-After": "1"} if fault == 429 else None)
            return fault
        if method == "DELETE" or h.path == "/crm/v3/objects/contacts/gdpr-delete":
            return self.delete(h, method, body)
        try:
            record = json.loads(body)
        except ValueError:
            h.reply(400, {"message": "malformed JSON"})
            return 400
        if self.kind == "dynamics":
            m = re.fullmatch(r"/api/data/v9\.2/leads\(leadrelay_leadid='([0-9a-f-]+)'\)", h.path)
            if method != "PATCH" or not m:
                h.reply(404, {"error": {"code": "0x80060888", "message": "Resource not found"}})
                return 404
            if h.headers.get("If-Match") == "*" and m.group(1) not in self.records:
                # If-Match: * makes the PATCH an update only: no such record, no new one.
                h.reply(404, {"error": {"code": "0x80040217", "message": "lead With Id = ... Does Not Exist"}})
                return 404
            email = record.get("emailaddress1")
            if email in self.refuse:
                h.reply(400, {"error": {"code": "0x80040203", "message": f"Invalid value for emailaddress1: {email}"}})
                return 400
            self.store(m.group(1), record)
            h.reply(204, None, {"OData-EntityId": f"{self.url}/api/data/v9.2/leads({m.group(1)})"})
            return 204
        if self.kind == "salesforce" and h.path == "/services/data/v59.0/composite/sobjects/Lead/LeadRelay_Id__c":
            # sObject collections upsert: up to 200 records, one result per record, in order.
            limit = {"Sforce-Limit-Info": f"api-usage={len(self.answers) + 1}/15000"}
            records = record.get("records", [])
            if method != "PATCH" or not 0 < len(records) <= 200:
                h.reply(400, [{"message": "between 1 and 200 records", "errorCode": "INVALID_FIELD"}], limit)
                return 400
            results = []
            for rec in records:
                if rec.get("attributes", {}).get("type") != "Lead" or not rec.get("LeadRelay_Id__c"):
                    results.append({"success": False, "errors": [{"statusCode": "INVALID_FIELD", "message": "bad"}]})
                    continue
                if rec.get("Email") in self.refuse:
                    results.append({"success": False, "errors": [{"statusCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
                                                                  "message": "Email is on the block list",
                                                                  "fields": ["Email"]}]})
                    continue
                fields = {k: v for k, v in rec.items() if k not in ("attributes", "LeadRelay_Id__c")}
                created = self.store(rec["LeadRelay_Id__c"], fields)
                results.append({"id": "00Q" + rec["LeadRelay_Id__c"][:12], "success": True, "errors": [],
                                "created": created})
            h.reply(200, results, limit)
            return 200
        if self.kind == "salesforce":
            m = re.fullmatch(r"/services/data/v59\.0/sobjects/Lead/LeadRelay_Id__c/([0-9a-f-]+)", h.path)
            if method != "PATCH" or not m:
                h.reply(404, [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}])
                return 404
            limit = {"Sforce-Limit-Info": f"api-usage={len(self.answers) + 1}/15000"}
            if self.refuse.get(record.get("Email")) == "multiple":
                h.reply(300, [f"/services/data/v59.0/sobjects/Lead/00Q{n}" for n in range(2)], limit)
                return 300
            missing = [f for f in ("LastName", "Company") if not record.get(f)]
            if missing and m.group(1) not in self.records:  # required when the upsert creates the record
                h.reply(400, [{"message": f"Required fields are missing: {missing}", "errorCode": "REQUIRED_FIELD_MISSING"}],
                        limit)
                return 400
            created = self.store(m.group(1), record)
            if created:
                h.reply(201, {"id": "00Q" + m.group(1)[:12], "success": True, "errors": [], "created": True}, limit)
                return 201
            h.reply(204, None, limit)
            return 204
        # hubspot
        if method == "POST" and h.path == "/crm/v3/objects/contacts/batch/update":
            # Updates existing contacts only; unknown ones come back as errors in a 207.
            results, errors = [], []
            for item in record.get("inputs", []):
                if item.get("idProperty") != "email" or item.get("id") not in self.records:
                    errors.append({"status": "error", "category": "OBJECT_NOT_FOUND",
                                   "message": f"Could not get some CONTACT objects: {item.get('id')}"})
                    continue
                self.store(item["id"], item["properties"])
                results.append({"id": item["id"], "properties": item["properties"]})
            if errors:
                h.reply(207, {"status": "COMPLETE", "results": results, "errors": errors, "numErrors": len(errors)})
                return 207
            h.reply(200, {"status": "COMPLETE", "results": results})
            return 200
        if method != "POST" or h.path != "/crm/v3/objects/contacts/batch/upsert":
            h.reply(404, {"status": "error", "message": "Not found"})
            return 404
        results = []
        for item in record.get("inputs", []):
            if item.get("idProperty") != "email" or item.get("id") in self.refuse:
                h.reply(400, {"status": "error", "category": "VALIDATION_ERROR",
                              "message": f"Property values were not valid: {item.get('id')}"})
                return 400
            created = self.store(item["id"], item["properties"])
            results.append({"id": str(len(self.records)), "new": created, "properties": item["properties"]})
        h.reply(200, {"status": "COMPLETE", "results": results})
        return 200

    def store(self, key, fields):
        with self.cond:
            created = key not in self.records
            self.records.setdefault(key, {}).update(fields)
            if created:
                self.creates += 1
            else:
                self.updates += 1
            self.cond.notify_all()
            return created

    def wait_for(self, predicate, timeout=60):
        with self.cond:
            if not self.cond.wait_for(lambda: predicate(self), timeout):
                raise TimeoutError(f"{self.kind} emulator: condition not met; {len(self.records)} records, "
                                   f"answers {self.answers[-20:]}")

