"""A real SMTP server on loopback for the notification tests: Debian's aiosmtpd, with STARTTLS (the test CA's
server certificate, required before AUTH) and AUTH PLAIN/LOGIN against one user. Every message it accepts is kept,
parsed with the standard library's email package; it can be stopped and started again on the same port (an
outage)."""
import email
import email.policy
import socket
import ssl
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER = "leadrelay"
PASSWORD = "s3cret-pass"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MailServer:
    def __init__(self, ca, port=None, implicit_tls=False):
        self.ca = ca
        self.implicit_tls = implicit_tls  # TLS from the first byte (smtps://) instead of STARTTLS
        self.port = port or free_port()
        self.messages = []  # email.message.EmailMessage, in arrival order
        self.raw = []  # the same, as the bytes received
        self.envelopes = []  # (mail_from, [rcpt_tos])
        self.refused_logins = 0
        self.cond = threading.Condition()
        self.controller = None

    # aiosmtpd handler hooks
    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        with self.cond:
            self.messages.append(message)
            self.raw.append(raw)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.cond.notify_all()
        return "250 2.0.0 Ok: queued as test-%d" % len(self.messages)

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode() and \
                auth_data.password == PASSWORD.encode():
            return AuthResult(success=True)
        with self.cond:
            self.refused_logins += 1
            self.cond.notify_all()
        return AuthResult(success=False, handled=False)

    def start(self):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.ca.cert, self.ca.key)
        if self.implicit_tls:
            # aiosmtpd does not count a TLS transport from the first byte as TLS for AUTH: it is, so allow AUTH.
            self.controller = Controller(self, hostname="127.0.0.1", port=self.port, ssl_context=context,
                                         authenticator=self._authenticate, auth_required=True,
                                         auth_require_tls=False)
        else:
            self.controller = Controller(self, hostname="127.0.0.1", port=self.port, tls_context=context,
                                         require_starttls=True, authenticator=self._authenticate,
                                         auth_required=True, auth_require_tls=True)
        self.controller.start()
        return self

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def url(self):
        return f"{'smtps' if self.implicit_tls else 'smtp'}://127.0.0.1:{self.port}"

    def wait_for(self, predicate, timeout=30):
        with self.cond:
            if not self.cond.wait_for(lambda: predicate(self), timeout):
                raise TimeoutError(f"mail server: condition not met; {len(self.messages)} messages so far: " +
                                   ", ".join(str(m["Subject"]) for m in self.messages))

    def of_kind(self, kind):
        with self.cond:
            return [m for m in self.messages if m["X-Leadrelay-Kind"] == kind]


def parts(message):
    """(plain text, html) of a multipart/alternative message."""
    text = html = None
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            text = part.get_content()
        elif part.get_content_type() == "text/html":
            html = part.get_content()
    return text, html


def alternative(message):
    """The multipart/alternative part of the message (itself or its first child of that type)."""
    for part in message.walk():
        if part.get_content_type() == "multipart/alternative":
            return part
    return None
