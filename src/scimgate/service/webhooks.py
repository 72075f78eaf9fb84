"""Webhooks: where the host app receives events, signed per the Standard Webhooks spec.

A webhook belongs to one tenant (``tenant``) or is global (``tenant`` None:
every tenant's events). Its secret is generated here, returned once, and
stored sealed (``service.sealing``): signing needs it back (HMAC, not a
password hash), so it is encrypted with a key derived from SECRET_KEY rather
than hashed, and the database alone does not give it away. Delivery itself is the worker's
(``scimgate.events``); this module only manages the configuration and
queues redeliveries.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

from scimgate.errors import InvalidValue, NotFound
from scimgate.model.entities import Tenant
from scimgate.model.lifecycle import EVENT_TYPES
from scimgate.service.clock import utcnow
from scimgate.service.egress import EgressPolicy
from scimgate.service.sealing import Keyring
from scimgate.storage.database import Database
from scimgate.storage.webhooks import DELIVERY_STATUSES, Delivery, Webhook, WebhookStore

__all__ = [
    "EVENT_TYPES",
    "CreatedWebhook",
    "Delivery",
    "Webhook",
    "create_webhook",
    "get_webhook",
    "list_deliveries",
    "list_webhooks",
    "new_secret",
    "parse_event_types",
    "redeliver",
    "remove_webhook",
]

_KNOWN_TYPES = frozenset(EVENT_TYPES)
SECRET_MARKER = "whsec_"  # noqa: S105 -- the Standard Webhooks secret prefix, not a secret
_MAX_URL_LENGTH = 2048
MAX_DELIVERIES_PAGE = 1000
_PUBLIC_ONLY = EgressPolicy()


class WebhookNotFound(NotFound):
    default_detail = "No such webhook"


class EventNotFound(NotFound):
    default_detail = "No such event"


@dataclass(frozen=True, slots=True)
class CreatedWebhook:
    """A new webhook and its secret: the only time the secret leaves the database."""

    webhook: Webhook
    secret: str


def new_secret() -> str:
    """``whsec_`` and 32 random bytes in base64, the form Standard Webhooks libraries accept."""
    return SECRET_MARKER + base64.b64encode(secrets.token_bytes(32)).decode()


def parse_event_types(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """Event types from a list or a comma-separated string; empty means every type."""
    raw = value.split(",") if isinstance(value, str) else list(value or ())
    found: list[str] = []
    for item in raw:
        if not isinstance(item, str):
            raise InvalidValue("event types must be strings")
        name = item.strip()
        if not name:
            continue
        if name not in _KNOWN_TYPES:
            raise InvalidValue(
                f"unknown event type {name!r}; known types: {', '.join(EVENT_TYPES)}"
            )
        if name not in found:
            found.append(name)
    return tuple(found)


def _check_url(url: str, egress: EgressPolicy) -> str:
    if not isinstance(url, str):
        raise InvalidValue("the webhook url must be a string")
    url = url.strip()
    if len(url) > _MAX_URL_LENGTH:
        raise InvalidValue(f"the webhook url is longer than {_MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port  # parsing the port raises on a malformed one
    except ValueError as exc:
        raise InvalidValue(f"invalid webhook url: {exc}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname or port == 0:
        raise InvalidValue("the webhook url must be an absolute http:// or https:// URL")
    if parts.username or parts.password:
        raise InvalidValue("the webhook url must not carry credentials; the signature is the auth")
    egress.check_host(parts.hostname, port or (443 if parts.scheme == "https" else 80))
    return url


@contextmanager
def _webhooks(
    db: Database, tenant: Tenant | None, *, write: bool = False
) -> Iterator[WebhookStore]:
    """The webhooks of ``tenant``, or the global ones."""
    if tenant is None:
        with db.directory(write=write) as directory:
            yield directory.webhooks
        return
    with db.tenant(tenant.id, write=write) as repo:
        yield repo.webhooks


def _where(tenant: Tenant | None) -> str:
    return f"tenant {tenant.slug!r}" if tenant is not None else "the global scope"


def create_webhook(
    db: Database,
    tenant: Tenant | None,
    url: str,
    event_types: str | Sequence[str] | None = None,
    *,
    keyring: Keyring,
    egress: EgressPolicy = _PUBLIC_ONLY,
) -> CreatedWebhook:
    """Add a webhook for ``tenant`` (or a global one); it receives events from now on.

    Its host must be, and resolve only to, addresses ``egress`` lets through
    (``service.egress``); delivery checks again where it connects. ``keyring``
    (purpose ``sealing.WEBHOOK_SECRET``) seals the secret before it is stored.
    """
    checked_url = _check_url(url, egress)
    types = parse_event_types(event_types)
    secret = new_secret()
    with _webhooks(db, tenant, write=True) as store:
        webhook = store.insert(
            webhook_id=uuid.uuid4().hex,
            url=checked_url,
            sealed_secret=keyring.seal(secret),
            event_types=types,
            now=utcnow(),
        )
    return CreatedWebhook(webhook=webhook, secret=secret)


def list_webhooks(db: Database, tenant: Tenant | None) -> list[Webhook]:
    with _webhooks(db, tenant) as store:
        return store.all()


def get_webhook(db: Database, tenant: Tenant | None, webhook_id: str) -> Webhook:
    with _webhooks(db, tenant) as store:
        webhook = store.get(webhook_id)
    if webhook is None:
        raise WebhookNotFound(f"{_where(tenant)} has no webhook {webhook_id!r}")
    return webhook


def remove_webhook(db: Database, tenant: Tenant | None, webhook_id: str) -> None:
    """Delete the webhook and its delivery history; events not yet sent are not sent."""
    with _webhooks(db, tenant, write=True) as store:
        removed = store.delete(webhook_id)
    if not removed:
        raise WebhookNotFound(f"{_where(tenant)} has no webhook {webhook_id!r}")


def list_deliveries(
    db: Database,
    tenant: Tenant | None,
    webhook_id: str,
    *,
    status: str | None = None,
    limit: int = 100,
) -> list[Delivery]:
    """The webhook's delivery records, newest first."""
    if status is not None and status not in DELIVERY_STATUSES:
        raise InvalidValue(f"status must be one of {', '.join(DELIVERY_STATUSES)}")
    if not 1 <= limit <= MAX_DELIVERIES_PAGE:
        raise InvalidValue(f"limit must be between 1 and {MAX_DELIVERIES_PAGE}")
    with _webhooks(db, tenant) as store:
        if store.get(webhook_id) is None:
            raise WebhookNotFound(f"{_where(tenant)} has no webhook {webhook_id!r}")
        return store.deliveries(webhook_id, status, limit)


def redeliver(db: Database, tenant: Tenant | None, webhook_id: str, event_id: str) -> Delivery:
    """Queue one event to be sent to the webhook again (a ``pending`` delivery record).

    The worker sends it outside the webhook's cursor, with the event's own id
    as ``webhook-id``, and marks the record delivered or failed.
    """
    with _webhooks(db, tenant, write=True) as store:
        if store.get(webhook_id) is None:
            raise WebhookNotFound(f"{_where(tenant)} has no webhook {webhook_id!r}")
        seq = store.event_seq(event_id) if isinstance(event_id, str) else None
        if seq is None:
            raise EventNotFound(f"{_where(tenant)} has no event {event_id!r}")
        queued = store.queue_redelivery(webhook_id, seq, utcnow())
    assert queued is not None
    return queued
