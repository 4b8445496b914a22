"""HTTP(S) peers for the sink tests, standard library only: a test CA made with the openssl CLI, and a webhook
receiver whose answers are scripted (status, Retry-After, a hang) so faults can be injected per request."""
import http.server
import json
import os
import socket
import ssl
import subprocess
import threading


class TestCA:
    """A CA and a server certificate for 127.0.0.1 / localhost, in `folder`."""

    def __init__(self, folder):
        self.folder = folder
        self.ca_cert = os.path.join(folder, "ca.pem")
        self.cert = os.path.join(folder, "server.pem")
        self.key = os.path.join(folder, "server.key")
        ca_key = os.path.join(folder, "ca.key")
        csr = os.path.join(folder, "server.csr")
        ext = os.path.join(folder, "ext.cnf")
        with open(ext, "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n")

        def run(*args):
            subprocess.run(["openssl", *args], check=True, capture_output=True)

        run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", self.ca_cert, "-days", "2",
            "-subj", "/CN=leadrelay test CA")
        run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", self.key, "-out", csr, "-subj", "/CN=localhost")
        run("x509", "-req", "-in", csr, "-CA", self.ca_cert, "-CAkey", ca_key, "-CAcreateserial", "-out", self.cert,
            "-days", "2", "-extfile", ext)


class Receiver:
    """A webhook receiver. `script` is a list of answers used in turn, then `default`: each an int status, a
    (status, headers) pair, or "hang" (read the request, never answer). Every request is recorded."""

    def __init__(self, ca=None, script=None, default=200):
        self.script = list(script or [])
        self.default = default
        self.requests = []  # (headers dict, body bytes, answered status or None)
        self.cond = threading.Condition()
        self.hung = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with outer.cond:
                    answer = outer.script.pop(0) if outer.script else outer.default
                    status = None if answer == "hang" else (answer if isinstance(answer, int) else answer[0])
                    outer.requests.append(({k.lower(): v for k, v in self.headers.items()}, body, status))
                    outer.cond.notify_all()
                if answer == "hang":
                    outer.hung.append(self.connection)
                    threading.Event().wait(30)
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

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if ca is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(ca.cert, ca.key)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.url = f"{'https' if ca else 'http'}://127.0.0.1:{self.port}/hooks/leads"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

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

    def close(self):
        for c in self.hung:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.server.shutdown()
        self.server.server_close()
