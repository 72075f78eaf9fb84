"""A webhook receiver on 127.0.0.1 that tests start, stop, slow down and make fail.

It verifies every request with the Standard Webhooks reference code
(``standardwebhooks.Webhook(secret).verify``), so a test that sees an event
in ``accepted`` knows it arrived signed with the webhook's secret.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


class Receiver:
    def __init__(self) -> None:
        self.secret: str | None = None
        # Payloads answered with 2xx, in arrival order.
        self.accepted: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.rejected: list[str] = []  # why a request failed verification
        self.requests = 0
        self.fail_with: int | None = None  # answer this status instead of 204
        self.delay = 0.0  # seconds to sleep before answering
        # While ``hold`` is clear, requests wait (at most 30 s) before answering.
        self.hold = threading.Event()
        self.hold.set()
        self.arrived = threading.Event()  # set by every request as it comes in
        self.in_flight = 0
        self.max_in_flight = 0
        self.port = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    @property
    def ids(self) -> list[str]:
        with self._lock:
            return [payload["id"] for payload in self.accepted]

    def start(self) -> Receiver:
        """Listen (again, on the same port after ``stop``)."""
        server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler_for(self))
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening: connections are refused until ``start``."""
        self.hold.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def _handle(self, body: bytes, headers: dict[str, str]) -> int:
        with self._lock:
            self.requests += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        self.arrived.set()
        try:
            self.hold.wait(30)
            if self.delay:
                time.sleep(self.delay)
            try:
                assert self.secret is not None, "the test did not tell the receiver its secret"
                payload = Webhook(self.secret).verify(body, headers)
            except (WebhookVerificationError, ValueError, AssertionError) as exc:
                with self._lock:
                    self.rejected.append(str(exc))
                return 400
            if self.fail_with is not None:
                return self.fail_with
            with self._lock:
                self.accepted.append(payload)
                self.headers.append(headers)
            return 204
        finally:
            with self._lock:
                self.in_flight -= 1


def _handler_for(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            status = receiver._handle(body, {k.lower(): v for k, v in self.headers.items()})
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output quiet

    return Handler
