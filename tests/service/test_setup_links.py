"""Setup links: secret handling, scope, expiry, revocation, audit of uses, live checks."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.testclient import TestClient

from scimgate.errors import Forbidden, InvalidValue, NotFound
from scimgate.model.entities import Tenant
from scimgate.model.lifecycle import CONNECTION_ACTIVATED
from scimgate.service import setup_links
from scimgate.service.clock import utcnow
from scimgate.service.setup_links import LinkExpired, LinkRevoked, Visitor
from scimgate.service.tokens import hash_secret
from scimgate.storage.audit_writer import append_entries
from scimgate.storage.database import Database
from scimgate.storage.tables import Base, events
from scimgate.storage.tables import setup_links as setup_links_table
from tests.scim.contract import ScimClient, member, patch_body

MakeTenant = Callable[..., Tenant]
VISITOR = Visitor(client_ip="203.0.113.7", user_agent="Mozilla/5.0 (IT admin)")


def test_a_link_is_high_entropy_and_stored_only_as_a_hash(
    db: Database, make_tenant: MakeTenant
) -> None:
    tenant = make_tenant("acme")
    issued = setup_links.create_link(db, tenant)
    assert issued.secret.startswith("sgl_")
    assert len(issued.secret) >= 4 + 43  # 32 random bytes, url-safe base64
    assert issued.link.prefix == issued.secret[:12]
    with db.engine.connect() as conn:
        dump = repr([conn.execute(sa.select(table)).all() for table in Base.metadata.sorted_tables])
    assert issued.secret[12:] not in dump
    assert hash_secret(issued.secret) in dump
    assert setup_links.create_link(db, tenant).secret != issued.secret


def test_a_link_defaults_to_both_scopes_and_seven_days(
    db: Database, make_tenant: MakeTenant
) -> None:
    link = setup_links.create_link(db, make_tenant("acme")).link
    assert link.scopes == ("scim", "sso")
    assert link.expires_at - link.created_at == timedelta(days=7)


@pytest.mark.parametrize(
    ("scopes", "expected"),
    [("scim", ("scim",)), ("SSO", ("sso",)), ("sso,scim", ("scim", "sso")), (["scim"], ("scim",))],
)
def test_scopes_are_parsed_in_one_order(scopes: str | list[str], expected: tuple[str]) -> None:
    assert setup_links.parse_scopes(scopes) == expected


@pytest.mark.parametrize("scopes", ["", "users", "scim,admin"])
def test_an_unknown_scope_is_refused(scopes: str) -> None:
    with pytest.raises(InvalidValue):
        setup_links.parse_scopes(scopes)


@pytest.mark.parametrize("hours", [0, -1, setup_links.MAX_EXPIRY_HOURS + 1])
def test_an_expiry_out_of_bounds_is_refused(
    db: Database, make_tenant: MakeTenant, hours: int
) -> None:
    with pytest.raises(InvalidValue):
        setup_links.create_link(db, make_tenant("acme"), "scim", hours)


def test_opening_a_link_records_the_visitor(db: Database, make_tenant: MakeTenant) -> None:
    tenant = make_tenant("acme")
    issued = setup_links.create_link(db, tenant, "scim")
    link, opened_for = setup_links.open_link(db, issued.secret, VISITOR)
    assert (link.id, opened_for.slug) == (issued.link.id, "acme")
    [use] = setup_links.link_uses(db, tenant, link.id)
    assert (use.action, use.client_ip, use.user_agent) == (
        "opened",
        "203.0.113.7",
        "Mozilla/5.0 (IT admin)",
    )
    [listed] = setup_links.list_links(db, tenant)
    assert listed.last_used_at is not None


@pytest.mark.parametrize("secret", ["sgl_nothing", "sgt_abc", "", "sgl_" + "x" * 300, "sgl_a b"])
def test_a_secret_that_opens_nothing_is_not_found(
    db: Database, make_tenant: MakeTenant, secret: str
) -> None:
    setup_links.create_link(db, make_tenant("acme"))
    with pytest.raises(NotFound):
        setup_links.open_link(db, secret, VISITOR)


def test_a_revoked_link_is_refused_and_the_refusal_recorded(
    db: Database, make_tenant: MakeTenant
) -> None:
    tenant = make_tenant("acme")
    issued = setup_links.create_link(db, tenant)
    revoked = setup_links.revoke_link(db, tenant, issued.link.id)
    assert revoked.state(utcnow()) == "revoked"
    with pytest.raises(LinkRevoked) as refused:
        setup_links.open_link(db, issued.secret, VISITOR)
    assert refused.value.status == 403
    with pytest.raises(LinkRevoked):
        setup_links.session_link(db, tenant, issued.link.id)
    assert [u.action for u in setup_links.link_uses(db, tenant, issued.link.id)] == [
        "refused_revoked"
    ]


def test_an_expired_link_is_gone(db: Database, make_tenant: MakeTenant) -> None:
    tenant = make_tenant("acme")
    issued = setup_links.create_link(db, tenant, expires_in_hours=1)
    with db.engine.begin() as conn:
        conn.execute(setup_links_table.update().values(expires_at=utcnow() - timedelta(seconds=1)))
    with pytest.raises(LinkExpired) as refused:
        setup_links.open_link(db, issued.secret, VISITOR)
    assert refused.value.status == 410
    with pytest.raises(LinkExpired):
        setup_links.session_link(db, tenant, issued.link.id)
    assert [u.action for u in setup_links.link_uses(db, tenant, issued.link.id)] == [
        "refused_expired"
    ]


def test_another_tenant_cannot_see_or_revoke_a_link(db: Database, make_tenant: MakeTenant) -> None:
    acme, globex = make_tenant("acme"), make_tenant("globex")
    issued = setup_links.create_link(db, acme)
    assert setup_links.list_links(db, globex) == []
    with pytest.raises(NotFound):
        setup_links.revoke_link(db, globex, issued.link.id)
    with pytest.raises(NotFound):
        setup_links.session_link(db, globex, issued.link.id)
    assert setup_links.session_link(db, acme, issued.link.id).revoked_at is None


def test_a_sso_only_link_makes_no_scim_token(db: Database, make_tenant: MakeTenant) -> None:
    tenant = make_tenant("acme")
    link = setup_links.create_link(db, tenant, "sso").link
    with pytest.raises(Forbidden):
        setup_links.issue_token(db, tenant, link, VISITOR)


# -- live checks, driven by real SCIM requests ------------------------------------------


@pytest.fixture
def http(app: Starlette) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


def _keys(found: setup_links.Progress) -> dict[str, bool]:
    return {check.key: check.done for check in found.checks}


def _activations(db: Database) -> int:
    with db.engine.connect() as conn:
        query = sa.select(sa.func.count()).where(events.c.type == CONNECTION_ACTIVATED)
        return int(conn.execute(query).scalar_one())


def test_the_checks_turn_green_one_by_one_and_activate_once(
    db: Database, make_tenant: MakeTenant, app: Starlette, http: TestClient
) -> None:
    tenant = make_tenant("acme")
    link = setup_links.create_link(db, tenant, "scim").link
    assert _keys(setup_links.progress(db, tenant, link)) == {
        "token_accepted": False,
        "user_created": False,
        "group_pushed": False,
        "member_added": False,
    }
    issued = setup_links.issue_token(db, tenant, link, VISITOR)
    scim = ScimClient(http, "acme", issued.secret)
    flush = app.state.audit_recorder.flush

    assert scim.get('/Users?filter=userName eq "a@example.com"').status_code == 200
    flush()
    assert [c.key for c in setup_links.progress(db, tenant, link).checks if c.done] == [
        "token_accepted"
    ]
    user = scim.make_user(userName="a@example.com")
    group = scim.post("/Groups", {"displayName": "Engineering", "members": []}).json()
    flush()
    found = setup_links.progress(db, tenant, link)
    assert _keys(found)["group_pushed"]
    assert not _keys(found)["member_added"]
    assert not found.done
    assert _activations(db) == 0

    patch = patch_body({"op": "add", "path": "members", "value": [member(user)]})
    assert scim.patch(f"/Groups/{group['id']}", patch).status_code in (200, 204)
    flush()
    assert setup_links.progress(db, tenant, link).done
    assert setup_links.progress(db, tenant, link).done
    assert _activations(db) == 1
    [listed] = setup_links.list_links(db, tenant)
    assert listed.state(utcnow()) == "done"
    assert [u.action for u in setup_links.link_uses(db, tenant, link.id)] == ["token_generated"]


def test_requests_before_the_link_and_of_other_tenants_do_not_count(
    db: Database, make_tenant: MakeTenant
) -> None:
    acme, globex = make_tenant("acme"), make_tenant("globex")
    link = setup_links.create_link(db, acme, "scim").link
    row = {
        "token_id": "t1",
        "token_name": "Okta",
        "idp": "okta",
        "method": "POST",
        "path": "/scim/v2/acme/Users",
        "resource_type": "User",
        "resource_id": "u1",
        "status": 201,
        "scim_type": None,
        "detail": None,
        "duration_ms": 1.0,
        "change": "create: userName",
    }
    append_entries(
        db,
        [
            {**row, "tenant_id": acme.id, "occurred_at": link.created_at - timedelta(minutes=1)},
            {**row, "tenant_id": globex.id, "occurred_at": utcnow()},
        ],
    )
    assert not any(_keys(setup_links.progress(db, acme, link)).values())


def test_a_sso_link_waits_for_a_sign_in(db: Database, make_tenant: MakeTenant) -> None:
    tenant = make_tenant("acme")
    link = setup_links.create_link(db, tenant, "sso").link
    assert _keys(setup_links.progress(db, tenant, link)) == {"sso_signin": False}
    sign_in = {**_SIGN_IN, "tenant_id": tenant.id, "occurred_at": utcnow()}
    append_entries(db, [{**sign_in, "status": 403}])
    assert not setup_links.progress(db, tenant, link).done
    append_entries(db, [sign_in])
    assert setup_links.progress(db, tenant, link).done
    assert _activations(db) == 1


_SIGN_IN = {
    "token_id": None,
    "token_name": None,
    "idp": "okta",
    "method": "POST",
    "path": "/sso/acme/saml/acs",
    "resource_type": "SignIn",
    "resource_id": None,
    "status": 200,
    "scim_type": None,
    "detail": None,
    "duration_ms": 1.0,
    "change": None,
}


def test_a_done_link_stays_done_after_its_evidence_ages_out(
    db: Database, make_tenant: MakeTenant
) -> None:
    tenant = make_tenant("acme")
    link = setup_links.create_link(db, tenant, "scim").link
    with db.engine.begin() as conn:
        conn.execute(setup_links_table.update().values(completed_at=utcnow()))
    [done] = setup_links.list_links(db, tenant)
    found = setup_links.progress(db, tenant, done)
    assert found.done
    assert all(check.done for check in found.checks)
    assert not setup_links.progress(db, tenant, link).done  # as it was before it was done


def test_pollers_racing_on_the_last_check_write_one_activation(
    db: Database, make_tenant: MakeTenant
) -> None:
    tenant = make_tenant("acme")
    link = setup_links.create_link(db, tenant, "sso").link
    append_entries(db, [{**_SIGN_IN, "tenant_id": tenant.id, "occurred_at": utcnow()}])
    start = threading.Barrier(6)

    def poll() -> bool:
        start.wait()
        return setup_links.progress(db, tenant, link).done

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda _: poll(), range(6)))
    assert results == [True] * 6
    assert _activations(db) == 1
