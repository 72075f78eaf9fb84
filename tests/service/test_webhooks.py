"""Webhook configuration: validation, secrets shown once, tenant scoping, redelivery requests."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest

from scimgate.errors import InvalidValue, NotFound
from scimgate.model.entities import Tenant
from scimgate.service import webhooks as webhook_service
from scimgate.service.clock import utcnow
from scimgate.storage.database import Database
from scimgate.storage.events import NewEvent
from tests.egress import public_dns
from tests.keyring import WEBHOOK_KEYRING

URL = "https://app.example.com/scim-events"
EGRESS = public_dns("app.example.com")


def _event(db: Database, tenant: Tenant) -> str:
    with db.tenant(tenant.id, write=True) as repo:
        repo.events.add([NewEvent("user.created", "User", "u1", {"user": {"id": "u1"}})], utcnow())
        return repo.events.after(0, 1000)[-1].id


def test_a_new_webhook_gets_a_standard_webhooks_secret(
    db: Database, make_tenant: Callable[..., Tenant]
) -> None:
    acme = make_tenant("acme")
    created = webhook_service.create_webhook(
        db,
        acme,
        URL,
        "user.deactivated, user.roles_changed",
        keyring=WEBHOOK_KEYRING,
        egress=EGRESS,
    )
    assert created.secret.startswith("whsec_")
    assert len(base64.b64decode(created.secret.removeprefix("whsec_"))) == 32
    assert created.webhook.event_types == ("user.deactivated", "user.roles_changed")
    assert created.webhook.url == URL
    assert created.webhook.enabled
    listed = webhook_service.list_webhooks(db, acme)
    assert [w.id for w in listed] == [created.webhook.id]
    assert not hasattr(listed[0], "secret")


def test_two_webhooks_get_different_secrets(
    db: Database, make_tenant: Callable[..., Tenant]
) -> None:
    acme = make_tenant("acme")
    first = webhook_service.create_webhook(db, acme, URL, keyring=WEBHOOK_KEYRING, egress=EGRESS)
    second = webhook_service.create_webhook(db, acme, URL, keyring=WEBHOOK_KEYRING, egress=EGRESS)
    assert first.secret != second.secret


@pytest.mark.parametrize(
    ("url", "events", "message"),
    [
        ("ftp://example.com/x", None, "http"),
        ("/relative/path", None, "http"),
        ("https://", None, "http"),
        ("https://user:pw@example.com/", None, "credentials"),
        ("https://example.com:99999/", None, "invalid webhook url"),
        ("https://example.com/" + "x" * 2100, None, "longer"),
        (URL, "user.created,user.exploded", "unknown event type"),
        (URL, ["user.created", 7], "strings"),
    ],
)
def test_bad_webhook_settings_are_refused(
    db: Database, make_tenant: Callable[..., Tenant], url: str, events: object, message: str
) -> None:
    acme = make_tenant("acme")
    with pytest.raises(InvalidValue, match=message):
        webhook_service.create_webhook(
            db, acme, url, events, keyring=WEBHOOK_KEYRING, egress=EGRESS
        )  # type: ignore[arg-type]
    assert webhook_service.list_webhooks(db, acme) == []


def test_a_webhook_is_invisible_to_other_tenants_and_to_the_global_scope(
    db: Database, make_tenant: Callable[..., Tenant]
) -> None:
    acme = make_tenant("acme")
    globex = make_tenant("globex")
    hook = webhook_service.create_webhook(
        db, acme, URL, keyring=WEBHOOK_KEYRING, egress=EGRESS
    ).webhook.id
    assert webhook_service.list_webhooks(db, globex) == []
    assert webhook_service.list_webhooks(db, None) == []
    for scope in (globex, None):
        with pytest.raises(NotFound):
            webhook_service.get_webhook(db, scope, hook)
        with pytest.raises(NotFound):
            webhook_service.list_deliveries(db, scope, hook)
        with pytest.raises(NotFound):
            webhook_service.remove_webhook(db, scope, hook)
    assert webhook_service.get_webhook(db, acme, hook).id == hook


def test_a_global_webhook_is_listed_in_the_global_scope_only(
    db: Database, make_tenant: Callable[..., Tenant]
) -> None:
    acme = make_tenant("acme")
    created = webhook_service.create_webhook(db, None, URL, keyring=WEBHOOK_KEYRING, egress=EGRESS)
    assert created.webhook.tenant_id is None
    assert [w.id for w in webhook_service.list_webhooks(db, None)] == [created.webhook.id]
    assert webhook_service.list_webhooks(db, acme) == []


def test_removing_a_webhook_removes_it(db: Database, make_tenant: Callable[..., Tenant]) -> None:
    acme = make_tenant("acme")
    hook = webhook_service.create_webhook(
        db, acme, URL, keyring=WEBHOOK_KEYRING, egress=EGRESS
    ).webhook.id
    webhook_service.remove_webhook(db, acme, hook)
    assert webhook_service.list_webhooks(db, acme) == []
    with pytest.raises(NotFound):
        webhook_service.remove_webhook(db, acme, hook)


def test_a_redelivery_is_queued_as_pending(
    db: Database, make_tenant: Callable[..., Tenant]
) -> None:
    acme = make_tenant("acme")
    event_id = _event(db, acme)
    hook = webhook_service.create_webhook(
        db, acme, URL, keyring=WEBHOOK_KEYRING, egress=EGRESS
    ).webhook.id
    queued = webhook_service.redeliver(db, acme, hook, event_id)
    assert (queued.status, queued.event_id, queued.event_type) == (
        "pending",
        event_id,
        "user.created",
    )
    assert webhook_service.list_deliveries(db, acme, hook, status="pending") == [queued]


def test_a_tenant_webhook_cannot_redeliver_another_tenants_event(
    db: Database, make_tenant: Callable[..., Tenant]
) -> None:
    acme = make_tenant("acme")
    globex = make_tenant("globex")
    foreign = _event(db, globex)
    hook = webhook_service.create_webhook(
        db, acme, URL, keyring=WEBHOOK_KEYRING, egress=EGRESS
    ).webhook.id
    with pytest.raises(NotFound, match="no event"):
        webhook_service.redeliver(db, acme, hook, foreign)
    with pytest.raises(NotFound, match="no event"):
        webhook_service.redeliver(db, acme, hook, "not-an-event-id")
    # A global webhook receives every tenant's events, so it may ask for this one.
    global_hook = webhook_service.create_webhook(
        db, None, URL, keyring=WEBHOOK_KEYRING, egress=EGRESS
    ).webhook.id
    assert webhook_service.redeliver(db, None, global_hook, foreign).status == "pending"


@pytest.mark.parametrize(("status", "limit"), [("lost", 10), (None, 0), (None, 5000)])
def test_listing_deliveries_checks_its_arguments(
    db: Database, make_tenant: Callable[..., Tenant], status: str | None, limit: int
) -> None:
    acme = make_tenant("acme")
    hook = webhook_service.create_webhook(
        db, acme, URL, keyring=WEBHOOK_KEYRING, egress=EGRESS
    ).webhook.id
    with pytest.raises(InvalidValue):
        webhook_service.list_deliveries(db, acme, hook, status=status, limit=limit)
