"""Real peers on loopback for tests of outbound channels: an SMTP server and a webhook receiver.

`SmtpPeer` is aiosmtpd's SMTP server on 127.0.0.1 and a free port; it keeps every message it accepts.
`WebhookPeer` is an http.server in a thread; it answers 500 to the first `fail_first` requests (or to all
of them with `always_fail=True`) and keeps every request it answered 200 to, and counts all of them.
"""
from __future__ import annotations

import email
import email.policy
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

from tests.support.suite import free_port


class _Mailbox:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"


class SmtpPeer:
    """A real SMTP server; `url(to)` is the Apprise address that sends to it."""

    def __init__(self):
        self.mailbox = _Mailbox()
        self.port = free_port()
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpPeer:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    @property
    def messages(self) -> list:
        with self.mailbox.lock:
            return list(self.mailbox.messages)

    def url(self, to: str, sender: str = "nuanxin@example.org") -> str:
        # Plain SMTP on loopback (mode=insecure): the peer has no TLS certificate.
        return (f"mailto://127.0.0.1:{self.port}?smtp=127.0.0.1&mode=insecure&from={sender}&to={to}"
                f"&user=&pass=")

    def received_for(self, to: str) -> list:
        return [m for m in self.messages if to in (m.get("To") or "")]

    @staticmethod
    def text(message) -> str:
        """The plain-text body of a received message."""
        part = message.get_body(preferencelist=("plain", "html"))
        return part.get_content() if part is not None else ""


class WebhookPeer:
    """A JSON webhook receiver; `url(path)` is the Apprise json:// address that posts to it."""

    def __init__(self, fail_first: int = 0, always_fail: bool = False):
        self.fail_first = fail_first
        self.always_fail = always_fail
        self.requests: list[dict] = []  # accepted (answered 200)
        self.attempts: list[tuple[float, str]] = []  # every request: (monotonic time, path)
        self.lock = threading.Lock()
        self.port = free_port()
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's hook name
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                with peer.lock:
                    peer.attempts.append((time.monotonic(), self.path))
                    failing = peer.always_fail or len(peer.attempts) <= peer.fail_first
                    if not failing:
                        try:
                            body = json.loads(raw or b"{}")
                        except ValueError:
                            body = {"raw": raw.decode(errors="replace")}
                        peer.requests.append({"path": self.path, "body": body})
                self.send_response(500 if failing else 200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": false}' if failing else b'{"ok": true}')

            def log_message(self, *args):  # keep test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> WebhookPeer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def url(self, path: str = "/hook") -> str:
        return f"json://127.0.0.1:{self.port}{path}"

    def received(self, path: str | None = None) -> list[dict]:
        with self.lock:
            return [r for r in self.requests if path is None or r["path"] == path]

    def attempts_at(self, path: str | None = None) -> list[float]:
        with self.lock:
            return [t for t, p in self.attempts if path is None or p == path]
