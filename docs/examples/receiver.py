"""A receiver for scimgate webhooks: a small Starlette app (tests/events import it).

Run it:

    pip install starlette uvicorn standardwebhooks
    export SCIMGATE_WEBHOOK_SECRET=whsec_...      # printed once by `scimgate webhook add`
    uvicorn --factory receiver:app_from_environment --port 9000

and point a webhook at it (a loopback address must be let through, for
``webhook add`` and for the worker alike):

    export SCIMGATE_WEBHOOK_ALLOWED_CIDRS=127.0.0.1/32
    scimgate webhook add acme --url http://127.0.0.1:9000/scimgate/events

What it shows (docs/how-to/receive-webhooks.md explains each point):

* verify the Standard Webhooks signature before trusting a byte of the body;
* answer 2xx only once the event is handled: anything else is retried;
* drop duplicates by ``webhook-id`` (delivery is at least once);
* ignore a late redelivery of an event older than what was already applied
  (``seq``);
* on ``user.deactivated`` and ``user.deleted`` destroy the user's sessions
  and revoke its API tokens; on ``user.roles_changed`` apply the new roles
  and end sessions that still carry a removed role.

``InMemoryApp`` stands in for your application; replace its methods with
calls to your session store, token store and user table, and keep the
processed ids in your database, written in the same transaction as the
effect of the event.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Protocol

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


class HostApp(Protocol):
    """What the receiver needs from your application."""

    def already_processed(self, event_id: str) -> bool: ...
    def mark_processed(self, event_id: str) -> None: ...
    def last_seq(self, user_id: str) -> int: ...
    def set_last_seq(self, user_id: str, seq: int) -> None: ...
    def save_user(self, user_id: str, user: dict[str, Any], enabled: bool) -> None: ...
    def set_enabled(self, user_id: str, enabled: bool) -> None: ...
    def set_roles(self, user_id: str, roles: list[str]) -> None: ...
    def destroy_sessions(self, user_id: str) -> None: ...
    def revoke_api_tokens(self, user_id: str) -> None: ...


def cut_off(app: HostApp, user_id: str) -> None:
    """What the product promises tenant admins: a deactivated user is out at once."""
    app.set_enabled(user_id, False)
    app.destroy_sessions(user_id)
    app.revoke_api_tokens(user_id)


def handle(app: HostApp, event: dict[str, Any]) -> None:
    """Apply one verified, not yet processed event to the application."""
    kind, data = event["type"], event["data"]
    if event["resourceType"] != "User":
        return  # group events: only useful if your app mirrors groups itself
    user_id = event["resourceId"]
    if event["seq"] < app.last_seq(user_id):
        return  # a redelivery of an old event: newer state is already applied
    app.set_last_seq(user_id, event["seq"])
    if kind in ("user.created", "user.updated"):
        app.save_user(user_id, data["user"], data["enabled"])
        if not data["enabled"]:
            cut_off(app, user_id)  # cutting off twice is harmless; missing it is not
    elif kind in ("user.deactivated", "user.deleted"):
        cut_off(app, user_id)
    elif kind == "user.reactivated":
        app.set_enabled(user_id, True)  # the user signs in again; tokens stay revoked
    elif kind == "user.roles_changed":
        app.set_roles(user_id, data["after"])
        if set(data["before"]) - set(data["after"]):
            app.destroy_sessions(user_id)  # a demotion must not wait for the session to end


def create_receiver(secret: str, app: HostApp, path: str = "/scimgate/events") -> Starlette:
    verifier = Webhook(secret)

    async def receive(request: Request) -> Response:
        body = await request.body()
        try:
            event = verifier.verify(body, dict(request.headers))
        except (WebhookVerificationError, ValueError):
            return Response(status_code=400)  # not from scimgate, or tampered with
        if not app.already_processed(event["id"]):
            handle(app, event)
            app.mark_processed(event["id"])
        # 2xx only now: a crash before this line means scimgate sends the event again.
        return Response(status_code=204)

    return Starlette(routes=[Route(path, receive, methods=["POST"])])


@dataclass
class InMemoryApp:
    """A stand-in for the host application, good for trying the receiver out."""

    processed: set[str] = field(default_factory=set)
    seqs: dict[str, int] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    enabled: dict[str, bool] = field(default_factory=dict)
    roles: dict[str, list[str]] = field(default_factory=dict)
    sessions: dict[str, set[str]] = field(default_factory=dict)
    api_tokens: dict[str, set[str]] = field(default_factory=dict)

    def already_processed(self, event_id: str) -> bool:
        return event_id in self.processed

    def mark_processed(self, event_id: str) -> None:
        self.processed.add(event_id)

    def last_seq(self, user_id: str) -> int:
        return self.seqs.get(user_id, 0)

    def set_last_seq(self, user_id: str, seq: int) -> None:
        self.seqs[user_id] = seq

    def save_user(self, user_id: str, user: dict[str, Any], enabled: bool) -> None:
        self.users[user_id] = user
        self.enabled[user_id] = enabled

    def set_enabled(self, user_id: str, enabled: bool) -> None:
        self.enabled[user_id] = enabled

    def set_roles(self, user_id: str, roles: list[str]) -> None:
        self.roles[user_id] = list(roles)

    def destroy_sessions(self, user_id: str) -> None:
        self.sessions.pop(user_id, None)

    def revoke_api_tokens(self, user_id: str) -> None:
        self.api_tokens.pop(user_id, None)


def app_from_environment() -> Starlette:
    """``uvicorn --factory receiver:app_from_environment``."""
    return create_receiver(os.environ["SCIMGATE_WEBHOOK_SECRET"], InMemoryApp())
