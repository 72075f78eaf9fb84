"""Resealing: every stored secret moves to the current key, and a second run changes nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa

from scimgate.config import Settings
from scimgate.model.entities import Tenant
from scimgate.service import webhooks as webhook_service
from scimgate.service.sealing import WEBHOOK_SECRET, Keyring, UnsealError, is_sealed
from scimgate.service.secrets import reseal
from scimgate.storage.database import Database
from scimgate.storage.tables import webhooks
from tests.egress import public_dns

URL = "https://app.example.com/scim-events"
# The webhook host resolves to a public address without asking real DNS.
APP_DNS = public_dns("app.example.com")
KEY_A = "first-key-0123456789abcdefghijklmnop"
KEY_B = "second-key-0123456789abcdefghijklmno"


def _settings(current: str, previous: str = "") -> Settings:
    return Settings(
        secret_key=current,
        secret_key_previous=previous,
        _env_file=None,  # type: ignore[call-arg]
    )


def _ring(settings: Settings) -> Keyring:
    return Keyring.from_settings(settings, WEBHOOK_SECRET)


def _stored(engine: sa.Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return {row.id: row.secret for row in conn.execute(sa.select(webhooks))}


def _set_stored(engine: sa.Engine, webhook_id: str, value: str) -> None:
    with engine.begin() as conn:
        conn.execute(webhooks.update().where(webhooks.c.id == webhook_id).values(secret=value))


def test_reseal_moves_secrets_from_the_previous_key_to_the_current_one(
    db: Database, engine: sa.Engine, make_tenant: Callable[..., Tenant]
) -> None:
    under_a = _ring(_settings(KEY_A))
    created = [
        webhook_service.create_webhook(db, tenant, URL, keyring=under_a, egress=APP_DNS)
        for tenant in (make_tenant("acme"), make_tenant("globex"), None)
    ]
    rotated = _settings(KEY_B, previous=KEY_A)

    report = reseal(db, rotated, batch=2)

    assert (report.resealed, report.sealed, report.current, report.unopened) == (3, 0, 0, [])
    b_alone = _ring(_settings(KEY_B))
    stored = _stored(engine)
    for hook in created:
        assert b_alone.is_current(stored[hook.webhook.id])
        assert b_alone.open(stored[hook.webhook.id]) == hook.secret
        with pytest.raises(UnsealError):
            under_a.open(stored[hook.webhook.id])


def test_reseal_is_idempotent(db: Database, engine: sa.Engine) -> None:
    settings = _settings(KEY_A)
    webhook_service.create_webhook(db, None, URL, keyring=_ring(settings), egress=APP_DNS)
    before = _stored(engine)

    report = reseal(db, settings)

    assert (report.resealed, report.sealed, report.current) == (0, 0, 1)
    assert _stored(engine) == before


def test_reseal_seals_a_legacy_plaintext_secret(db: Database, engine: sa.Engine) -> None:
    settings = _settings(KEY_A)
    hook = webhook_service.create_webhook(db, None, URL, keyring=_ring(settings), egress=APP_DNS)
    _set_stored(engine, hook.webhook.id, hook.secret)

    report = reseal(db, settings)

    assert (report.resealed, report.sealed, report.current) == (0, 1, 0)
    stored = _stored(engine)[hook.webhook.id]
    assert is_sealed(stored)
    assert _ring(settings).open(stored) == hook.secret


def test_a_value_no_key_opens_is_reported_and_left_alone(
    db: Database, engine: sa.Engine, make_tenant: Callable[..., Tenant]
) -> None:
    lost = webhook_service.create_webhook(
        db, None, URL, keyring=_ring(_settings(KEY_A)), egress=APP_DNS
    )
    kept = webhook_service.create_webhook(
        db, make_tenant("acme"), URL, keyring=_ring(_settings(KEY_B)), egress=APP_DNS
    )
    before = _stored(engine)

    report = reseal(db, _settings(KEY_B))

    assert report.current == 1
    assert [(item.kind, item.id) for item in report.unopened] == [("webhook", lost.webhook.id)]
    assert "SCIMGATE_SECRET_KEY_PREVIOUS" in report.unopened[0].reason
    assert _stored(engine) == before
    assert kept.webhook.id in before
