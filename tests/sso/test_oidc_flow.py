"""OIDC sign-in end to end: host app → scimgate → oidc-provider → scimgate → host app.

The browser is played with two clients: the provider's pages over real HTTP on
127.0.0.1, scimgate's routes through its ASGI test client. Both databases.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from starlette.testclient import TestClient

from scimgate.config import Settings
from scimgate.model.entities import Tenant
from scimgate.service import roles as role_service
from scimgate.service import sso, sso_trial, users
from scimgate.service.scope import Limits, TenantScope
from scimgate.service.sealing import SSO_CLIENT_SECRET, Keyring
from scimgate.storage.database import Database
from tests.idps.oidc_op import RunningOp, sign_in
from tests.sso.conftest import (
    CALLBACK,
    HOST,
    exchange,
    local,
    oidc_connection,
    oidc_settings,
    sign_ins,
    to_provider,
)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return oidc_settings(database_url)


@pytest.fixture
def acme(make_tenant: Callable[..., Tenant], db: Database, settings: Settings) -> Tenant:
    tenant = make_tenant("acme")
    role_service.add_role(db, tenant, "engineer", "Engineer")
    role_service.add_rule(db, tenant, "engineering", "engineer", priority=5)
    role_service.add_rule(db, tenant, "scim-admins", "tenant_admin", priority=1)
    return tenant


@pytest.fixture
def connection(db: Database, acme: Tenant, settings: Settings, op: RunningOp) -> sso.Connection:
    return oidc_connection(db, acme, settings, op)


@pytest.mark.usefixtures("connection")
def test_alice_signs_in_is_created_and_gets_roles_from_her_groups(
    client: TestClient, db: Database, acme: Tenant, op: RunningOp
) -> None:
    provider_url = to_provider(client)
    assert provider_url.startswith(op.issuer)
    callback = sign_in(op, provider_url, "alice", stop_at=CALLBACK)
    answer = client.get(local(callback), follow_redirects=False)
    assert answer.status_code == 303, answer.text
    back = urlsplit(answer.headers["location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == HOST
    query = parse_qs(back.query)
    assert query["state"] == ["host-state-1"]
    profile = exchange(client, db, acme, query["code"][0])
    assert profile["email"] == "alice@example.test"
    assert profile["name"]["givenName"] == "Alice"
    assert profile["groups"] == ["scim-admins", "engineering"]
    assert profile["connection"]["protocol"] == "oidc"
    assert profile["claims"]["iss"] == op.issuer
    [row] = sign_ins(db, acme)
    assert (row.status, row.method, row.path) == (200, "GET", "/sso/acme/oidc/callback")

    # the same callback again: its state was used up
    replay = client.get(local(callback), follow_redirects=False)
    assert replay.status_code == 403
    assert "state" in replay.text
    assert sign_ins(db, acme)[0].scim_type == "state"


@pytest.mark.usefixtures("connection")
def test_roles_come_from_the_groups_in_the_id_token(
    client: TestClient, db: Database, acme: Tenant, op: RunningOp
) -> None:
    callback = sign_in(op, to_provider(client), "alice", stop_at=CALLBACK)
    answer = client.get(local(callback), follow_redirects=False)
    code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    profile = exchange(client, db, acme, code)
    assert profile["roles"] == ["tenant_admin"]  # single mode: the strongest rule wins
    with db.tenant(acme.id) as repo:
        types = [event.type for event in repo.events.after(0, 1000)]
    assert {"user.created", "user.roles_changed", "user.signed_in"} <= set(types)


@pytest.mark.usefixtures("connection")
def test_a_redirect_uri_the_host_did_not_register_is_refused(
    client: TestClient, db: Database, acme: Tenant
) -> None:
    query = urlencode({"redirect_uri": "https://evil.example.test/callback", "state": "x"})
    for path in ("/sso/acme/start", "/sso/acme/oidc/start"):
        answer = client.get(f"{path}?{query}", follow_redirects=False)
        assert answer.status_code == 403
        assert "location" not in answer.headers
    assert [row.scim_type for row in sign_ins(db, acme)] == ["redirect_uri", "redirect_uri"]


@pytest.mark.usefixtures("connection")
def test_a_callback_with_a_forged_state_is_refused_and_the_real_one_still_works(
    client: TestClient, db: Database, acme: Tenant, op: RunningOp
) -> None:
    callback = sign_in(op, to_provider(client), "bob", stop_at=CALLBACK)
    query = parse_qs(urlsplit(callback).query)
    forged = urlencode({"code": query["code"][0], "state": "_forged", "iss": op.issuer})
    answer = client.get(f"/sso/acme/oidc/callback?{forged}", follow_redirects=False)
    assert answer.status_code == 403
    real = client.get(local(callback), follow_redirects=False)
    assert real.status_code == 303, real.text
    code = parse_qs(urlsplit(real.headers["location"]).query)["code"][0]
    assert exchange(client, db, acme, code)["roles"] == ["member"]


def test_a_wrong_client_secret_is_refused_with_its_reason(
    client: TestClient,
    db: Database,
    acme: Tenant,
    connection: sso.Connection,
    op: RunningOp,
    settings: Settings,
) -> None:
    keyring = Keyring.from_settings(settings, SSO_CLIENT_SECRET)
    sso.update_connection(db, acme, connection.id, {}, client_secret="wrong", keyring=keyring)
    callback = sign_in(op, to_provider(client), "alice", stop_at=CALLBACK)
    answer = client.get(local(callback), follow_redirects=False)
    assert answer.status_code == 403
    [row] = sign_ins(db, acme)
    assert row.scim_type == "code"
    assert "invalid_client" in row.detail


def test_a_person_jit_may_not_create_is_refused_once(
    client: TestClient, db: Database, acme: Tenant, connection: sso.Connection, op: RunningOp
) -> None:
    sso.update_connection(db, acme, connection.id, {"jit": False})
    callback = sign_in(op, to_provider(client), "alice", stop_at=CALLBACK)
    answer = client.get(local(callback), follow_redirects=False)
    assert answer.status_code == 403
    assert "location" not in answer.headers
    [row] = sign_ins(db, acme)  # one audit row, written by the sign-in service
    assert (row.status, row.token_name) == (403, "Test OP")


def test_an_email_the_provider_did_not_verify_never_signs_in_its_owner(
    client: TestClient, db: Database, acme: Tenant, connection: sso.Connection, op: RunningOp
) -> None:
    """Mallory put Carol's address on her account; the provider says it is unverified."""
    scope = TenantScope.of(db, acme, "https://scim.example.test/scim/v2/acme", Limits())
    carol = users.create_user(scope, {"userName": "carol@example.test"}).id
    sso.update_connection(db, acme, connection.id, {"match_by": "email"})
    callback = sign_in(op, to_provider(client), "mallory", stop_at=CALLBACK)
    answer = client.get(local(callback), follow_redirects=False)
    assert answer.status_code == 403
    assert "location" not in answer.headers
    [row] = sign_ins(db, acme)
    assert (row.scim_type, row.resource_id) == ("email", None)
    with db.tenant(acme.id) as repo:
        assert repo.sso.user_for_subject(connection.id, "mallory") is None
        assert repo.users.get(carol).doc.get("emails") is None  # type: ignore[union-attr]


def _trial_report(
    client: TestClient, db: Database, acme: Tenant, connection: sso.Connection, op: RunningOp
) -> Any:
    """The console's Test sign-in through the provider's login; the report it leaves."""
    ticket = sso_trial.issue_ticket(db, acme, connection)
    query = urlencode({"connection": connection.id, "trial": ticket})
    started = client.get(f"/sso/acme/oidc/start?{query}", follow_redirects=False)
    assert started.status_code == 303, started.text
    callback = sign_in(op, started.headers["location"], "alice", stop_at=CALLBACK)
    answer = client.get(local(callback), follow_redirects=False)
    assert answer.status_code == 303, answer.text
    prefix = f"/admin/tenants/acme/sso/{connection.id}/tests/"
    assert answer.headers["location"].startswith(prefix)
    return sso_trial.report(db, acme, connection, answer.headers["location"][len(prefix) :])


def test_a_test_sign_in_reports_each_check_and_signs_nobody_in(
    client: TestClient, db: Database, acme: Tenant, op: RunningOp, connection: sso.Connection
) -> None:
    report = _trial_report(client, db, acme, connection, op)
    assert report["ok"] is True
    words = {step["label"]: step["words"] for step in report["steps"]}
    assert list(words) == ["State", "Code exchange", "ID token", "User", "Roles"]
    assert "would create 'alice@example.test'" in words["User"]
    assert "gives tenant_admin" in words["Roles"]
    with db.tenant(acme.id) as repo:
        assert repo.users.page(None, None, False, 0, 5).total == 0
    assert [(r.status, r.scim_type) for r in sign_ins(db, acme)] == [(200, "test")]


def test_a_test_sign_in_with_the_wrong_client_secret_fails_at_the_code_exchange(
    client: TestClient,
    db: Database,
    acme: Tenant,
    op: RunningOp,
    connection: sso.Connection,
    settings: Settings,
) -> None:
    keyring = Keyring.from_settings(settings, SSO_CLIENT_SECRET)
    sso.update_connection(db, acme, connection.id, {}, client_secret="wrong", keyring=keyring)
    report = _trial_report(client, db, acme, connection, op)
    assert report["ok"] is False
    states = {step["label"]: step["state"] for step in report["steps"]}
    assert states == {
        "State": "passed",
        "Code exchange": "failed",
        "ID token": "not reached",
        "User": "not reached",
        "Roles": "not reached",
    }
