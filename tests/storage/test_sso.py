"""The SSO store: tenant scoping, single-use rows, sealed secrets, housekeeping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa
from cryptography import x509

from scimgate.config import Settings
from scimgate.errors import Conflict
from scimgate.events.housekeeping import purge_sso_state
from scimgate.model.entities import Tenant
from scimgate.model.sso import IssuedCode, Pending
from scimgate.service import sso
from scimgate.service.clock import utcnow
from scimgate.service.sealing import SSO_CLIENT_SECRET, SSO_SP_KEY, Keyring
from scimgate.service.secrets import reseal
from scimgate.storage.database import Database
from scimgate.storage.tables import sso_codes, sso_connections, sso_pending, sso_seen_assertions
from tests.service.test_sso import scim_user

KEYRING = Keyring("a test secret key", purpose=SSO_CLIENT_SECRET)
SP_KEYRING = Keyring("a test secret key", purpose=SSO_SP_KEY)


def _count(db: Database, table: sa.Table) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_housekeeping_drops_expired_pending_assertions_and_codes_only(
    db: Database, make_tenant: Callable[..., Tenant]
) -> None:
    acme = make_tenant("acme")
    okta = sso.create_connection(db, acme, {"name": "Okta", "protocol": "saml"})
    user_id = scim_user(db, acme, "ada@example.test")
    now = utcnow()
    past, future = now - timedelta(minutes=1), now + timedelta(minutes=5)
    with db.tenant(acme.id, write=True) as repo:
        for ref, when in (("_old", past), ("_new", future)):
            repo.sso.add_pending(Pending(okta.id, ref, "https://h/cb", None, {}, when))
            repo.sso.remember_assertion(ref, when)
            repo.sso.add_code(f"{ref:0>64}", IssuedCode(user_id, okta.id, {}, when))
    assert purge_sso_state(db, now) == 3
    for table in (sso_pending, sso_seen_assertions, sso_codes):
        assert _count(db, table) == 1
    # An expired pending row is refused even before housekeeping reaches it.
    with db.tenant(acme.id, write=True) as repo:
        repo.sso.add_pending(Pending(okta.id, "_late", "https://h/cb", None, {}, past))
        assert repo.sso.take_pending(okta.id, "_late", now) is None


def test_the_client_secret_is_sealed_at_rest(
    db: Database, make_tenant: Callable[..., Tenant]
) -> None:
    acme = make_tenant("acme")
    oidc = sso.create_connection(
        db,
        acme,
        {"name": "Entra", "protocol": "oidc", "config": {"client_id": "abc"}},
        client_secret="s3cret-value",
        keyring=KEYRING,
    )
    assert oidc.has_client_secret
    with db.engine.connect() as conn:
        stored = conn.execute(sa.select(sso_connections.c.client_secret)).scalar_one()
    assert "s3cret-value" not in stored
    assert stored.startswith("v1:")
    assert sso.client_secret(db, acme, oidc, KEYRING) == "s3cret-value"
    assert "s3cret" not in repr(oidc)


def test_the_sp_key_pair_is_made_once_and_rotates_keeping_the_old_certificate(
    db: Database, make_tenant: Callable[..., Tenant]
) -> None:
    acme = make_tenant("acme")
    first = sso.sp_keys(db, acme, SP_KEYRING)
    assert first.key_pem.startswith("-----BEGIN PRIVATE KEY-----")
    assert sso.sp_keys(db, acme, SP_KEYRING) == first
    cert = x509.load_pem_x509_certificate(first.cert_pem.encode())
    assert cert.public_key().key_size == 2048  # type: ignore[union-attr]
    with db.engine.connect() as conn:
        sealed = conn.execute(sa.text("SELECT private_key FROM sso_sp_keys")).scalar_one()
    assert "PRIVATE KEY" not in sealed
    rotated = sso.rotate_sp_keys(db, acme, SP_KEYRING)
    assert rotated.previous_cert_pem == first.cert_pem
    assert rotated.cert_pem != first.cert_pem
    assert sso.sp_keys(db, acme, SP_KEYRING) == rotated
    # Another tenant has its own pair.
    assert sso.sp_keys(db, make_tenant("other"), SP_KEYRING).cert_pem != rotated.cert_pem


def test_connection_names_are_unique_per_tenant_only(
    db: Database, make_tenant: Callable[..., Tenant]
) -> None:
    acme, other = make_tenant("acme"), make_tenant("other")
    sso.create_connection(db, acme, {"name": "Okta", "protocol": "saml"})
    with pytest.raises(Conflict):
        sso.create_connection(db, acme, {"name": "Okta", "protocol": "oidc"})
    assert sso.create_connection(db, other, {"name": "Okta", "protocol": "saml"}).name == "Okta"


def test_asserted_groups_are_replaced_and_scoped(
    db: Database, make_tenant: Callable[..., Tenant]
) -> None:
    acme, other = make_tenant("acme"), make_tenant("other")
    user_id = scim_user(db, acme, "ada@example.test")
    with db.tenant(acme.id, write=True) as repo:
        assert repo.sso.set_groups(user_id, ["Eng", "Ops"]) is True
        assert repo.sso.set_groups(user_id, ["Ops", "Eng"]) is False
        assert repo.sso.set_groups(user_id, ["Sales"]) is True
        assert repo.sso.groups_of(user_id) == ["Sales"]
    with db.tenant(other.id) as repo:
        assert repo.sso.groups_of(user_id) == []


def test_reseal_moves_sso_secrets_to_the_current_key(
    db: Database, make_tenant: Callable[..., Tenant]
) -> None:
    old = Settings(secret_key="first-key-0123456789abcdefgh", _env_file=None)  # type: ignore[call-arg]
    new = Settings(
        secret_key="second-key-0123456789abcdefg",
        secret_key_previous="first-key-0123456789abcdefgh",
        _env_file=None,  # type: ignore[call-arg]
    )
    acme = make_tenant("acme")
    oidc = sso.create_connection(
        db,
        acme,
        {"name": "Entra", "protocol": "oidc"},
        client_secret="s3cret",
        keyring=Keyring.from_settings(old, SSO_CLIENT_SECRET),
    )
    pair = sso.sp_keys(db, acme, Keyring.from_settings(old, SSO_SP_KEY))
    report = reseal(db, new, batch=1)
    assert (report.resealed, report.unopened) == (2, [])
    # Only the current key is needed now.
    current = Settings(secret_key="second-key-0123456789abcdefg", _env_file=None)  # type: ignore[call-arg]
    assert sso.client_secret(db, acme, oidc, Keyring.from_settings(current, SSO_CLIENT_SECRET)) == (
        "s3cret"
    )
    assert sso.sp_keys(db, acme, Keyring.from_settings(current, SSO_SP_KEY)).key_pem == pair.key_pem
    assert reseal(db, new).current == 2
