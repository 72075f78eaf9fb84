from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa

from scimgate.errors import NotFound, Unauthorized
from scimgate.model.entities import Tenant
from scimgate.service import tenants as tenant_service
from scimgate.service import tokens as token_service
from scimgate.service.clock import utcnow
from scimgate.service.tenants import get_tenant
from scimgate.service.tokens import IssuedToken, TokenAuthenticator
from scimgate.storage.database import Database
from scimgate.storage.tables import Base, scim_tokens

MakeTenant = Callable[..., Tenant]
MakeToken = Callable[..., IssuedToken]


def test_a_token_is_high_entropy_and_shown_with_its_prefix(
    make_tenant: MakeTenant, make_token: MakeToken
) -> None:
    tenant = make_tenant("acme")
    issued = make_token(tenant.slug, "Okta SCIM")
    assert issued.secret.startswith("sgt_")
    assert len(issued.secret) >= 4 + 43  # 32 random bytes, url-safe base64
    assert issued.token.prefix == issued.secret[:12]
    assert issued.token.name == "Okta SCIM"
    assert make_token(tenant.slug).secret != issued.secret


def test_the_database_never_holds_a_token_secret(
    db: Database, make_tenant: MakeTenant, make_token: MakeToken
) -> None:
    tenant = make_tenant("acme")
    secrets = [make_token(tenant.slug, f"token {i}").secret for i in range(3)]
    with db.engine.connect() as conn:
        dump = repr([conn.execute(sa.select(table)).all() for table in Base.metadata.sorted_tables])
    for secret in secrets:
        assert secret not in dump
        assert secret[12:] not in dump  # not even the part after the shown prefix
    assert token_service.hash_secret(secrets[0]) in dump


def test_listing_tokens_shows_metadata_only(
    db: Database, make_tenant: MakeTenant, make_token: MakeToken
) -> None:
    tenant = make_tenant("acme")
    issued = make_token(tenant.slug, "Entra ID Provisioning", expires_in_days=30)
    [listed] = token_service.list_tokens(db, get_tenant(db, "acme"))
    assert listed.id == issued.token.id
    assert listed.name == "Entra ID Provisioning"
    assert listed.expires_at is not None
    assert timedelta(days=29) < listed.expires_at - listed.created_at <= timedelta(days=30)
    assert not hasattr(listed, "secret")


def test_revoking_another_tenants_token_is_not_found(
    db: Database, make_tenant: MakeTenant, make_token: MakeToken
) -> None:
    make_tenant("acme")
    make_tenant("globex")
    issued = make_token("globex")
    with pytest.raises(NotFound):
        token_service.revoke_token(db, get_tenant(db, "acme"), issued.token.id)
    [still] = token_service.list_tokens(db, get_tenant(db, "globex"))
    assert still.revoked_at is None


@pytest.fixture
def authenticator(db: Database) -> TokenAuthenticator:
    return TokenAuthenticator(db, touch_interval=3600)


def test_a_valid_token_authenticates_for_its_tenant(
    authenticator: TokenAuthenticator, make_tenant: MakeTenant, make_token: MakeToken
) -> None:
    tenant = make_tenant("acme")
    issued = make_token("acme", "Okta SCIM")
    principal = authenticator.authenticate("acme", f"Bearer {issued.secret}")
    assert principal.tenant.id == tenant.id
    assert principal.token_name == "Okta SCIM"
    # the scheme is case-insensitive (RFC 7235 §2.1)
    assert authenticator.authenticate("acme", f"bearer {issued.secret}").token_id == issued.token.id


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer    ",
        "Basic dXNlcjpwYXNz",
        "Token sgt_abc",
        "Bearer sgt_" + "x" * 300,
        "Bearer sgt_has spaces",
        "Bearer not-a-scimgate-token",
        "Bearer sgt_" + "A" * 43,  # well-formed but unknown
    ],
)
def test_missing_empty_malformed_and_unknown_tokens_are_refused(
    authenticator: TokenAuthenticator, make_tenant: MakeTenant, header: str | None
) -> None:
    make_tenant("acme")
    with pytest.raises(Unauthorized):
        authenticator.authenticate("acme", header)


def test_another_tenants_token_is_refused(
    authenticator: TokenAuthenticator, make_tenant: MakeTenant, make_token: MakeToken
) -> None:
    make_tenant("acme")
    make_tenant("globex")
    issued = make_token("globex")
    with pytest.raises(Unauthorized):
        authenticator.authenticate("acme", f"Bearer {issued.secret}")


def test_a_revoked_token_is_refused_on_the_next_request(
    db: Database,
    authenticator: TokenAuthenticator,
    make_tenant: MakeTenant,
    make_token: MakeToken,
) -> None:
    make_tenant("acme")
    issued = make_token("acme")
    authenticator.authenticate("acme", f"Bearer {issued.secret}")
    token_service.revoke_token(db, get_tenant(db, "acme"), issued.token.id)
    with pytest.raises(Unauthorized, match="revoked"):
        authenticator.authenticate("acme", f"Bearer {issued.secret}")


def test_an_expired_token_is_refused(
    db: Database,
    authenticator: TokenAuthenticator,
    make_tenant: MakeTenant,
    make_token: MakeToken,
) -> None:
    make_tenant("acme")
    issued = make_token("acme", expires_in_days=1)
    with db.engine.begin() as conn:
        conn.execute(scim_tokens.update().values(expires_at=utcnow() - timedelta(seconds=1)))
    with pytest.raises(Unauthorized, match="expired"):
        authenticator.authenticate("acme", f"Bearer {issued.secret}")


def test_a_disabled_tenants_tokens_are_refused(
    db: Database,
    authenticator: TokenAuthenticator,
    make_tenant: MakeTenant,
    make_token: MakeToken,
) -> None:
    make_tenant("acme")
    issued = make_token("acme")
    tenant_service.set_tenant_disabled(db, "acme", True)
    with pytest.raises(Unauthorized, match="disabled"):
        authenticator.authenticate("acme", f"Bearer {issued.secret}")


def test_several_tokens_work_at_once_for_rotation(
    authenticator: TokenAuthenticator, make_tenant: MakeTenant, make_token: MakeToken
) -> None:
    make_tenant("acme")
    old, new = make_token("acme", "old"), make_token("acme", "new")
    assert authenticator.authenticate("acme", f"Bearer {old.secret}").token_name == "old"
    assert authenticator.authenticate("acme", f"Bearer {new.secret}").token_name == "new"


def test_last_used_is_written_once_per_interval(
    db: Database,
    authenticator: TokenAuthenticator,
    make_tenant: MakeTenant,
    make_token: MakeToken,
) -> None:
    make_tenant("acme")
    issued = make_token("acme")
    [before] = token_service.list_tokens(db, get_tenant(db, "acme"))
    assert before.last_used_at is None
    authenticator.authenticate("acme", f"Bearer {issued.secret}")
    [first] = token_service.list_tokens(db, get_tenant(db, "acme"))
    assert first.last_used_at is not None
    authenticator.authenticate("acme", f"Bearer {issued.secret}")
    [second] = token_service.list_tokens(db, get_tenant(db, "acme"))
    assert second.last_used_at == first.last_used_at
