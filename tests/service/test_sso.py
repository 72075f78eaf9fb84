"""Single sign-on: matching, JIT, refusals, group → role mapping, codes, on both databases."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from scimgate.config import Settings
from scimgate.errors import InvalidGrant, SsoRejected
from scimgate.model.entities import Tenant
from scimgate.model.sso import ExternalIdentity
from scimgate.service import roles as role_service
from scimgate.service import settings as settings_service
from scimgate.service import sso, users
from scimgate.service.clock import utcnow
from scimgate.service.scope import Limits, TenantScope
from scimgate.service.status import provisioning_status
from scimgate.service.tenants import get_tenant
from scimgate.storage.audit import AuditEntry, AuditFilter
from scimgate.storage.database import Database
from scimgate.storage.events import StoredEvent
from scimgate.storage.tables import sso_codes

HOST = "https://app.example.test/callback"
CLIENT = sso.ClientInfo(ip="127.0.0.1", user_agent="pytest")


@pytest.fixture
def sso_settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        public_url="https://scim.example.test",
        dev_mode=True,
        sso_redirect_uris=f"{HOST}, https://other.example.test/cb",
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
def acme(make_tenant: Callable[..., Tenant]) -> Tenant:
    return make_tenant("acme")


def connect(db: Database, tenant: Tenant, **fields: Any) -> sso.Connection:
    base: dict[str, Any] = {"name": "Okta", "protocol": "saml", "jit": True}
    return sso.create_connection(db, tenant, {**base, **fields})


def scim_user(db: Database, tenant: Tenant, user_name: str, **extra: Any) -> str:
    scope = TenantScope.of(db, tenant, "https://scim.example.test/scim/v2/x", Limits())
    return users.create_user(scope, {"userName": user_name, **extra}).id


def identity(subject: str = "ada@example.test", **fields: Any) -> ExternalIdentity:
    base: dict[str, Any] = {"email": subject if "@" in subject else None}
    return ExternalIdentity(subject=subject, **{**base, **fields})


def sign_in(
    db: Database,
    tenant: Tenant,
    connection: sso.Connection,
    who: ExternalIdentity,
    settings: Settings,
) -> str:
    """A whole SP-initiated sign-in; returns the code the host app receives."""
    ref = sso.new_protocol_ref()
    sso.begin(
        db,
        tenant,
        connection,
        redirect_uri=HOST,
        host_state="xyz",
        protocol_ref=ref,
        data={},
        settings=settings,
    )
    pending = sso.take_pending(db, tenant, connection, ref)
    url = sso.complete_sign_in(
        db, tenant, connection, who, pending=pending, client=CLIENT, settings=settings
    )
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == HOST
    query = parse_qs(parts.query)
    assert query["state"] == ["xyz"]
    return query["code"][0]


def events_of(db: Database, tenant: Tenant) -> list[StoredEvent]:
    with db.tenant(tenant.id) as repo:
        return repo.events.after(0, 10_000)


def audit_of(db: Database, tenant: Tenant) -> list[AuditEntry]:
    with db.tenant(tenant.id) as repo:
        return repo.audit.page(AuditFilter(resource_type="SignIn"), 100)


def test_jit_creates_the_user_and_the_code_gives_its_profile(
    db: Database, acme: Tenant, sso_settings: Settings
) -> None:
    okta = connect(db, acme)
    claims = {"groups": ["Engineering"], "auth_time": datetime(2026, 1, 2, tzinfo=UTC)}
    who = identity(given_name="Ada", family_name="Lovelace", groups=("Engineering",), claims=claims)
    code = sign_in(db, acme, okta, who, sso_settings)
    profile = sso.exchange_code(db, code, caller_tenant_id=acme.id)
    assert profile["userName"] == "ada@example.test"
    assert profile["email"] == "ada@example.test"
    assert profile["name"] == {
        "givenName": "Ada",
        "familyName": "Lovelace",
        "formatted": "Ada Lovelace",
    }
    assert profile["enabled"] is True
    assert profile["roles"] == ["member"]  # the default role: no rule matches
    assert profile["groups"] == ["Engineering"]
    assert profile["connection"] == {"id": okta.id, "name": "Okta", "protocol": "saml"}
    assert profile["tenant"] == "acme"
    assert profile["claims"] == {
        "groups": ["Engineering"],
        "auth_time": "2026-01-02T00:00:00+00:00",
    }
    types = [e.type for e in events_of(db, acme)]
    assert types == ["user.created", "user.roles_changed", "user.signed_in"]
    created = events_of(db, acme)[0]
    assert created.data["source"] == "sso"
    # Shaped like the SCIM-made user.created: the full User, enabled, the reason.
    assert created.data["user"]["name"]["givenName"] == "Ada"
    assert created.data["user"]["meta"]["resourceType"] == "User"
    assert (created.data["enabled"], created.data["deactivationReason"]) == (True, None)
    signed_in = events_of(db, acme)[-1]
    assert signed_in.data["connection"] == {"id": okta.id, "name": "Okta", "protocol": "saml"}
    assert signed_in.data["jit"] is True
    assert signed_in.data["user"]["enabled"] is True
    rows = audit_of(db, acme)
    assert [(r.status, r.resource_id, r.token_name, r.idp) for r in rows] == [
        (200, profile["userId"], "Okta", "saml")
    ]


def test_a_code_is_single_use(db: Database, acme: Tenant, sso_settings: Settings) -> None:
    code = sign_in(db, acme, connect(db, acme), identity(), sso_settings)
    sso.exchange_code(db, code, caller_tenant_id=None)
    with pytest.raises(InvalidGrant):
        sso.exchange_code(db, code, caller_tenant_id=None)


def test_an_expired_code_is_refused(db: Database, acme: Tenant, database_url: str) -> None:
    short = Settings(
        database_url=database_url,
        dev_mode=True,
        sso_redirect_uris=HOST,
        sso_code_ttl_seconds=5,
        _env_file=None,  # type: ignore[call-arg]
    )
    code = sign_in(db, acme, connect(db, acme), identity(), short)
    # Age the code past its lifetime rather than sleep.
    with db.engine.begin() as conn:
        conn.execute(sso_codes.update().values(expires_at=utcnow() - timedelta(seconds=1)))
    with pytest.raises(InvalidGrant):
        sso.exchange_code(db, code, caller_tenant_id=acme.id)


def test_another_tenants_key_cannot_exchange_the_code(
    db: Database, acme: Tenant, make_tenant: Callable[..., Tenant], sso_settings: Settings
) -> None:
    other = make_tenant("other")
    code = sign_in(db, acme, connect(db, acme), identity(), sso_settings)
    with pytest.raises(InvalidGrant):
        sso.exchange_code(db, code, caller_tenant_id=other.id)
    # The failed attempt did not use it up for its own tenant.
    assert sso.exchange_code(db, code, caller_tenant_id=acme.id)["tenant"] == "acme"


def test_an_existing_user_is_matched_by_email_and_updated(
    db: Database, acme: Tenant, sso_settings: Settings
) -> None:
    user_id = scim_user(db, acme, "ada", emails=[{"value": "Ada@Example.test", "primary": True}])
    okta = connect(db, acme, match_by="email", jit=False)
    code = sign_in(db, acme, okta, identity(given_name="Ada"), sso_settings)
    profile = sso.exchange_code(db, code, caller_tenant_id=acme.id)
    assert profile["userId"] == user_id
    assert profile["name"]["givenName"] == "Ada"
    assert "user.updated" in [e.type for e in events_of(db, acme)]


def test_an_existing_user_is_matched_by_subject_then_by_the_link(
    db: Database, acme: Tenant, sso_settings: Settings
) -> None:
    user_id = scim_user(db, acme, "ada@example.test")
    okta = connect(db, acme, jit=False)
    first = sign_in(db, acme, okta, identity(), sso_settings)
    assert sso.exchange_code(db, first, caller_tenant_id=acme.id)["userId"] == user_id
    # The IdP changes the email; the subject still names the same user.
    moved = identity("ada@example.test", email="ada.l@example.test")
    second = sign_in(db, acme, okta, moved, sso_settings)
    profile = sso.exchange_code(db, second, caller_tenant_id=acme.id)
    assert profile["userId"] == user_id
    assert profile["email"] == "ada.l@example.test"


def test_two_candidates_are_refused_never_merged(
    db: Database, acme: Tenant, sso_settings: Settings
) -> None:
    scim_user(db, acme, "ada@example.test")
    scim_user(db, acme, "ada", emails=[{"value": "ada@example.test"}])
    okta = connect(db, acme, match_by="email")
    with pytest.raises(SsoRejected) as refused:
        sign_in(db, acme, okta, identity(), sso_settings)
    assert refused.value.check == "ambiguous_user"
    # Recorded once, however many layers pass the refusal on.
    assert refused.value.recorded
    sso.record_refusal(db, acme, okta, refused.value, client=CLIENT)
    rows = audit_of(db, acme)
    assert [(r.status, r.scim_type) for r in rows] == [(403, "ambiguous_user")]
    assert "user.signed_in" not in [e.type for e in events_of(db, acme)]
    # A person's refused sign-in is not a provisioning error of the tenant's IdP.
    status = provisioning_status(db, acme)
    assert status.last_error is None
    assert status.last_idp is None


def test_a_deactivated_user_is_refused(db: Database, acme: Tenant, sso_settings: Settings) -> None:
    scim_user(db, acme, "ada@example.test", active=False)
    with pytest.raises(SsoRejected) as refused:
        sign_in(db, acme, connect(db, acme), identity(), sso_settings)
    assert refused.value.check == "disabled_user"
    assert "idp_deactivated" in refused.value.detail


def test_a_code_of_a_user_deactivated_before_the_exchange_gives_no_profile(
    db: Database, acme: Tenant, sso_settings: Settings
) -> None:
    """The IdP deactivated the person after the sign-in, before the host app's exchange."""
    user_id = scim_user(db, acme, "ada@example.test")
    code = sign_in(db, acme, connect(db, acme), identity(), sso_settings)
    scope = TenantScope.of(db, acme, "https://scim.example.test/scim/v2/x", Limits())
    users.replace_user(scope, user_id, {"userName": "ada@example.test", "active": False})
    with pytest.raises(InvalidGrant) as refused:
        sso.exchange_code(db, code, caller_tenant_id=acme.id)
    assert "disabled" in refused.value.detail


def test_jit_off_refuses_an_unknown_person(
    db: Database, acme: Tenant, sso_settings: Settings
) -> None:
    with pytest.raises(SsoRejected) as refused:
        sign_in(db, acme, connect(db, acme, jit=False), identity(), sso_settings)
    assert refused.value.check == "jit_off"
    with db.tenant(acme.id) as repo:
        assert repo.users.page(None, None, False, 0, 10).total == 0


def test_jit_requires_scim_refuses_an_unprovisioned_person(
    db: Database, acme: Tenant, sso_settings: Settings
) -> None:
    okta = connect(db, acme, jit_requires_scim=True)
    with pytest.raises(SsoRejected) as refused:
        sign_in(db, acme, okta, identity(), sso_settings)
    assert refused.value.check == "not_provisioned"


def test_group_values_map_to_roles_like_scim_groups(
    db: Database, acme: Tenant, sso_settings: Settings
) -> None:
    role_service.add_role(db, acme, "engineer", "Engineer")
    role_service.add_rule(db, acme, "engineering", "engineer", priority=5)
    role_service.add_rule(db, acme, "00g-admins", "tenant_admin", priority=1, match_type="id")
    okta = connect(db, acme)
    code = sign_in(db, acme, okta, identity(groups=("Engineering",)), sso_settings)
    assert sso.exchange_code(db, code, caller_tenant_id=acme.id)["roles"] == ["engineer"]
    # single mode: the strongest rule wins
    code = sign_in(db, acme, okta, identity(groups=("Engineering", "00g-admins")), sso_settings)
    assert sso.exchange_code(db, code, caller_tenant_id=acme.id)["roles"] == ["tenant_admin"]
    settings_service.update_settings(db, acme, {"role_mode": "multiple"})
    code = sign_in(db, acme, okta, identity(groups=("Engineering", "00g-admins")), sso_settings)
    profile = sso.exchange_code(db, code, caller_tenant_id=acme.id)
    assert profile["roles"] == ["engineer", "tenant_admin"]
    # no group any more: the default role
    code = sign_in(db, acme, okta, identity(groups=()), sso_settings)
    assert sso.exchange_code(db, code, caller_tenant_id=acme.id)["roles"] == ["member"]
    changes = [e.data["after"] for e in events_of(db, acme) if e.type == "user.roles_changed"]
    assert changes[-1] == ["member"]


def test_a_redirect_uri_not_registered_is_refused(
    db: Database, acme: Tenant, sso_settings: Settings
) -> None:
    okta = connect(db, acme)
    with pytest.raises(SsoRejected) as refused:
        sso.begin(
            db,
            acme,
            okta,
            redirect_uri="https://evil.example.test/callback",
            host_state=None,
            protocol_ref="_abc",
            data={},
            settings=sso_settings,
        )
    assert refused.value.check == "redirect_uri"


def test_a_pending_sign_in_is_taken_once_and_only_by_its_tenant(
    db: Database, acme: Tenant, make_tenant: Callable[..., Tenant], sso_settings: Settings
) -> None:
    other = make_tenant("other")
    okta = connect(db, acme)
    theirs = connect(db, other)
    sso.begin(
        db,
        acme,
        okta,
        redirect_uri=HOST,
        host_state="s",
        protocol_ref="_ref1",
        data={"nonce": "n"},
        settings=sso_settings,
    )
    assert sso.take_pending(db, other, theirs, "_ref1") is None
    assert sso.take_pending(db, other, okta, "_ref1") is None
    assert sso.peek_pending(db, other, "_ref1") is None
    # A peek names the connection and leaves the sign-in in place.
    peeked = sso.peek_pending(db, acme, "_ref1")
    assert peeked is not None
    assert peeked.connection_id == okta.id
    taken = sso.take_pending(db, acme, okta, "_ref1")
    assert taken is not None
    assert (taken.redirect_uri, taken.host_state, dict(taken.data)) == (HOST, "s", {"nonce": "n"})
    assert sso.take_pending(db, acme, okta, "_ref1") is None


def test_an_assertion_id_is_accepted_once_per_tenant(
    db: Database, acme: Tenant, make_tenant: Callable[..., Tenant]
) -> None:
    later = utcnow() + timedelta(minutes=5)
    assert sso.remember_assertion(db, acme, "_a1", later) is True
    assert sso.remember_assertion(db, acme, "_a1", later) is False
    assert sso.remember_assertion(db, make_tenant("other"), "_a1", later) is True


def test_another_tenant_cannot_see_the_connection(
    db: Database, acme: Tenant, make_tenant: Callable[..., Tenant]
) -> None:
    okta = connect(db, acme)
    other = make_tenant("other")
    with pytest.raises(sso.ConnectionNotFound):
        sso.get_connection(db, other, okta.id)
    with pytest.raises(sso.ConnectionNotFound):
        sso.delete_connection(db, other, okta.id)
    assert sso.list_connections(db, other) == []
    assert sso.get_connection(db, acme, okta.id) == okta


def test_idp_initiated_is_refused_unless_allowed(
    db: Database, acme: Tenant, sso_settings: Settings
) -> None:
    okta = connect(db, acme)
    with pytest.raises(SsoRejected) as refused:
        sso.complete_sign_in(
            db, acme, okta, identity(), pending=None, client=CLIENT, settings=sso_settings
        )
    assert refused.value.check == "idp_initiated"
    allowed = sso.update_connection(db, acme, okta.id, {"allow_idp_initiated": True})
    url = sso.complete_sign_in(
        db, acme, allowed, identity(), pending=None, client=CLIENT, settings=sso_settings
    )
    assert url.startswith(HOST + "?code=")
    other = "https://other.example.test/cb"
    url = sso.complete_sign_in(
        db,
        acme,
        allowed,
        identity(),
        pending=None,
        client=CLIENT,
        settings=sso_settings,
        relay_state=other,
    )
    assert url.startswith(other + "?code=")
    with pytest.raises(SsoRejected) as refused:
        sso.complete_sign_in(
            db,
            acme,
            allowed,
            identity(),
            pending=None,
            client=CLIENT,
            settings=sso_settings,
            relay_state="https://evil.example.test/",
        )
    assert refused.value.check == "redirect_uri"


def test_asserted_groups_bring_back_a_user_left_out_for_no_mapped_group(
    db: Database, acme: Tenant, sso_settings: Settings
) -> None:
    role_service.add_rule(db, acme, "Engineering", "tenant_admin")
    settings_service.update_settings(db, acme, {"deactivate_unmapped": True})
    # Created by SCIM under the new setting: in no mapped group, so left out at once.
    user_id = scim_user(db, get_tenant(db, "acme"), "ada@example.test")
    okta = connect(db, acme, jit=False)
    with pytest.raises(SsoRejected) as refused:
        sign_in(db, acme, okta, identity(groups=("Sales",)), sso_settings)
    assert refused.value.check == "disabled_user"
    code = sign_in(db, acme, okta, identity(groups=("engineering",)), sso_settings)
    profile = sso.exchange_code(db, code, caller_tenant_id=acme.id)
    assert (profile["userId"], profile["enabled"], profile["roles"]) == (
        user_id,
        True,
        ["tenant_admin"],
    )
    assert "user.reactivated" in [e.type for e in events_of(db, acme)]


def _waiting_on_a_lock(engine: Any) -> bool:
    import sqlalchemy as sa

    with engine.connect() as conn:
        waiting = conn.execute(sa.text("SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar()
    return bool(waiting)


def test_a_first_sign_in_racing_another_of_the_same_person_signs_in_as_that_user(
    db: Database, acme: Tenant, sso_settings: Settings
) -> None:
    """Two first sign-ins of one person at once: the second to insert finds the user the
    first made (and the subject link it wrote) instead of refusing or failing."""
    import threading
    import time

    okta = connect(db, acme)
    who = identity()
    outcome: dict[str, Any] = {}

    def second() -> None:
        try:
            outcome["code"] = sign_in(db, acme, okta, who, sso_settings)
        except Exception as exc:  # reported below, with its type
            outcome["error"] = exc

    now = utcnow()
    with db.tenant(acme.id, write=True) as repo:
        # The first sign-in, caught between its insert and its commit.
        assert repo.users.insert(
            user_id="first-user",
            user_name="ada@example.test",
            external_id=None,
            display_name=None,
            active=True,
            now=now,
            doc={"userName": "ada@example.test", "active": True},
            enabled=True,
            deactivation_reason=None,
        )
        repo.sso.link(okta.id, who.subject, "first-user", now)
        thread = threading.Thread(target=second)
        thread.start()
        if db.engine.dialect.name == "postgresql":
            # Hold the commit until the second sign-in waits on this one's rows.
            deadline = time.monotonic() + 20
            while not _waiting_on_a_lock(db.engine) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert _waiting_on_a_lock(db.engine)
        else:
            time.sleep(0.2)  # SQLite: the second waits for the write lock
    thread.join(timeout=30)
    assert "error" not in outcome, repr(outcome.get("error"))
    profile = sso.exchange_code(db, outcome["code"], caller_tenant_id=acme.id)
    assert profile["userId"] == "first-user"
    assert [r.status for r in audit_of(db, acme)] == [200]
