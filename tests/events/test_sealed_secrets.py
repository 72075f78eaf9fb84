"""The worker opens a webhook's sealed secret to sign, and fails a delivery it cannot sign."""

from __future__ import annotations

import sqlalchemy as sa

from scimgate.config import DEV_SECRET_KEY
from scimgate.service import webhooks as webhook_service
from scimgate.service.sealing import WEBHOOK_SECRET, Keyring, is_sealed
from scimgate.service.tenants import get_tenant
from scimgate.storage.database import Database
from scimgate.storage.tables import webhooks
from tests.events.conftest import MakeWorker, drive, new_user, subscribe
from tests.events.receiver import Receiver
from tests.scim.contract import ScimClient

NEW_KEY = "a-new-secret-key-0123456789abcdefghij"


def _stored(engine: sa.Engine, webhook_id: str) -> str:
    with engine.connect() as conn:
        value = conn.execute(
            sa.select(webhooks.c.secret).where(webhooks.c.id == webhook_id)
        ).scalar_one()
    assert isinstance(value, str)
    return value


def _set_stored(engine: sa.Engine, webhook_id: str, value: str) -> None:
    with engine.begin() as conn:
        conn.execute(webhooks.update().where(webhooks.c.id == webhook_id).values(secret=value))


def test_a_sealed_secret_signs_what_the_receiver_verifies(
    db: Database,
    engine: sa.Engine,
    scim: ScimClient,
    receiver: Receiver,
    make_worker: MakeWorker,
) -> None:
    hook = subscribe(db, receiver, "acme")
    assert is_sealed(_stored(engine, hook.webhook.id))
    new_user(scim, "alice@example.com")

    drive(make_worker(), lambda: len(receiver.accepted) >= 1)

    assert receiver.rejected == []


def test_after_a_key_rotation_the_worker_signs_with_the_previous_keys_values(
    db: Database, scim: ScimClient, receiver: Receiver, make_worker: MakeWorker
) -> None:
    """SECRET_KEY changed, the old one listed as previous, reseal not run yet."""
    subscribe(db, receiver, "acme")
    new_user(scim, "alice@example.com")
    rotated = Keyring(NEW_KEY, [DEV_SECRET_KEY], purpose=WEBHOOK_SECRET)

    drive(make_worker(keyring=rotated), lambda: len(receiver.accepted) >= 1)

    assert receiver.rejected == []


def test_a_tampered_secret_fails_the_delivery_with_its_cause(
    db: Database,
    engine: sa.Engine,
    scim: ScimClient,
    receiver: Receiver,
    make_worker: MakeWorker,
) -> None:
    hook = subscribe(db, receiver, "acme")
    prefix, body = _stored(engine, hook.webhook.id).rsplit(":", 1)
    _set_stored(engine, hook.webhook.id, f"{prefix}:{body[:-4]}AAAA")
    new_user(scim, "alice@example.com")
    acme = get_tenant(db, "acme")

    drive(
        make_worker(max_attempts=1),
        lambda: bool(webhook_service.list_deliveries(db, acme, hook.webhook.id, status="failed")),
    )

    for failed in webhook_service.list_deliveries(db, acme, hook.webhook.id, status="failed"):
        assert failed.last_error is not None
        assert "cannot open the webhook secret" in failed.last_error
        assert "integrity check" in failed.last_error
    assert receiver.requests == 0


def test_a_secret_sealed_with_an_unknown_key_fails_the_delivery_with_its_cause(
    db: Database, scim: ScimClient, receiver: Receiver, make_worker: MakeWorker
) -> None:
    hook = subscribe(db, receiver, "acme")
    new_user(scim, "alice@example.com")
    acme = get_tenant(db, "acme")
    lost_key = Keyring(NEW_KEY, purpose=WEBHOOK_SECRET)

    drive(
        make_worker(max_attempts=1, keyring=lost_key),
        lambda: bool(webhook_service.list_deliveries(db, acme, hook.webhook.id, status="failed")),
    )

    for failed in webhook_service.list_deliveries(db, acme, hook.webhook.id, status="failed"):
        assert failed.last_error is not None
        assert "SCIMGATE_SECRET_KEY_PREVIOUS" in failed.last_error
    assert receiver.requests == 0


def test_a_legacy_plaintext_secret_still_delivers(
    db: Database,
    engine: sa.Engine,
    scim: ScimClient,
    receiver: Receiver,
    make_worker: MakeWorker,
) -> None:
    hook = subscribe(db, receiver, "acme")
    _set_stored(engine, hook.webhook.id, hook.secret)
    new_user(scim, "alice@example.com")

    drive(make_worker(), lambda: len(receiver.accepted) >= 1)

    assert receiver.rejected == []
