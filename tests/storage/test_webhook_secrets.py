"""Webhook secrets at rest: the row holds a sealed value, never the secret itself."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from scimgate.model.entities import Tenant
from scimgate.service import webhooks as webhook_service
from scimgate.service.sealing import is_sealed
from scimgate.storage.database import Database
from scimgate.storage.tables import webhooks
from tests.egress import public_dns
from tests.keyring import WEBHOOK_KEYRING

URL = "https://app.example.com/scim-events"
# The webhook host resolves to a public address without asking real DNS.
APP_DNS = public_dns("app.example.com")


def _stored(engine: sa.Engine, webhook_id: str) -> str:
    with engine.connect() as conn:
        value = conn.execute(
            sa.select(webhooks.c.secret).where(webhooks.c.id == webhook_id)
        ).scalar_one()
    assert isinstance(value, str)
    return value


def test_a_new_webhooks_row_holds_its_secret_sealed(
    db: Database, engine: sa.Engine, make_tenant: Callable[..., Tenant]
) -> None:
    for tenant in (make_tenant("acme"), None):
        created = webhook_service.create_webhook(
            db, tenant, URL, keyring=WEBHOOK_KEYRING, egress=APP_DNS
        )
        stored = _stored(engine, created.webhook.id)
        assert is_sealed(stored)
        assert created.secret not in stored
        assert created.secret.removeprefix("whsec_") not in stored
        assert WEBHOOK_KEYRING.open(stored) == created.secret


def test_every_webhooks_secret_is_paged_and_replaced_across_tenants(
    db: Database, engine: sa.Engine, make_tenant: Callable[..., Tenant]
) -> None:
    made = [
        webhook_service.create_webhook(
            db, tenant, URL, keyring=WEBHOOK_KEYRING, egress=APP_DNS
        ).webhook.id
        for tenant in (make_tenant("acme"), make_tenant("globex"), None)
    ]
    with db.directory() as directory:
        first = directory.webhook_secrets.page("", 2)
        rest = directory.webhook_secrets.page(first[-1][0], 2)
    assert [webhook_id for webhook_id, _ in first + rest] == sorted(made)
    webhook_id, stored = first[0]
    with db.directory(write=True) as directory:
        assert not directory.webhook_secrets.replace(webhook_id, "not what is stored", "x")
        assert directory.webhook_secrets.replace(webhook_id, stored, "whsec_new")
    assert _stored(engine, webhook_id) == "whsec_new"
