"""A real webhook receiver on 127.0.0.1 that verifies each delivery the Standard Webhooks way.

It answers from a plan (e.g. 500, 500, then 200), records what arrived and which of its
secrets verified it, and refuses (400) anything no secret verifies, like a real receiver.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    verified_by: list[str]
    errors: list[str]
    status: int

    @property
    def verified(self) -> bool:
        return bool(self.verified_by)

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Receiver:
    url: str = ""
    secrets: list[str] = field(default_factory=list)
    # Answers in order: a status, or (status, extra headers); `then` once the plan is used up.
    plan: list[Any] = field(default_factory=list)
    then: int = 200
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, *plan: Any, then: int = 200) -> None:
        self.plan = list(plan)
        self.then = then

    def _next(self) -> tuple[int, dict[str, str]]:
        step = self.plan.pop(0) if self.plan else self.then
        return step if isinstance(step, tuple) else (step, {})

    def handle(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str]]:
        verified_by, errors = [], []
        for secret in self.secrets:
            try:
                Webhook(secret).verify(body, headers)
            except WebhookVerificationError as exc:
                errors.append(str(exc))
            else:
                verified_by.append(secret)
        with self.lock:
            status, extra = self._next() if verified_by else (400, {})
            self.received.append(Received(headers, body, verified_by, errors, status))
        return status, extra


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            headers = {name.lower(): value for name, value in self.headers.items()}
            status, extra = receiver.handle(headers, body)
            reply = b'{"ok": true}' if 200 <= status < 300 else b'{"error": "try later"}'
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def receiver():
    state = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture(autouse=True)
def _loopback_allowed(settings):
    """The receiver lives on loopback, which outbound HTTP refuses unless allowed."""
    settings.LIGHTBOX_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]


@pytest.fixture
def make_endpoint(db, admin_user, receiver):
    """Register an endpoint (for every event unless told) and give its secret to the receiver."""
    from catalog.webhooks import services
    from catalog.webhooks.models import SUBSCRIBABLE_EVENTS

    def make(events=SUBSCRIBABLE_EVENTS, url=None):
        endpoint, secret = services.register_endpoint(
            url=url or receiver.url, event_types=list(events), user=admin_user
        )
        receiver.secrets.append(secret)
        return endpoint

    return make


@pytest.fixture
def owe(db):
    """An event owed to the given endpoints, written through the outbox like a domain event."""
    from catalog.webhooks.events import record_event
    from catalog.webhooks.models import Delivery, EventType

    def make(*endpoints, event_type=EventType.VERSION_PUBLISHED, data=None):
        event = record_event(
            event_type, data or {"version_id": "v-1", "status": "published"}, list(endpoints)
        )
        return Delivery.objects.get(event=event, endpoint=endpoints[0])

    return make
