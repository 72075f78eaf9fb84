"""Single sign-on's acceptance, end to end through each real IdP, on both databases.

Each scenario runs once through SimpleSAMLphp (SAML) and once through
oidc-provider (OIDC), on SQLite and on PostgreSQL: a later sign-in updates the
user the IdP now describes differently and moves their roles; a user SCIM
deactivated (or deleted) is refused; a sign-in's events reach a signed webhook
and the host API's feed. ``Flow`` hides which protocol carried the person there.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import httpx2
import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from scimgate.config import Settings
from scimgate.events.worker import Worker
from scimgate.model.entities import Tenant
from scimgate.service import api_keys
from scimgate.service import roles as role_service
from scimgate.service import settings as settings_service
from scimgate.service import tenants as tenant_service
from scimgate.service import tokens as token_service
from scimgate.storage.database import Database
from scimgate.storage.events import StoredEvent
from scimgate.storage.tables import sso_codes
from tests.events.conftest import FAST, drive, outbox, subscribe
from tests.events.receiver import Receiver
from tests.idps.oidc_op import USERS as OP_USERS
from tests.idps.oidc_op import RunningOp, sign_in
from tests.idps.simplesamlphp import USERS as SAML_USERS
from tests.keyring import WEBHOOK_KEYRING
from tests.scim.contract import ScimClient
from tests.sso.conftest import (
    CALLBACK,
    World,
    code_of,
    exchange,
    local,
    oidc_connection,
    oidc_settings,
    refusal,
    sign_ins,
    to_provider,
)

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"


class Flow(Protocol):
    """One protocol's way from the host app's start link to scimgate's answer."""

    protocol: str
    http: TestClient
    db: Database

    def tenant(self) -> Tenant:
        """Tenant ``acme`` with one JIT connection to the IdP."""

    def sign_in(self, user: str) -> httpx2.Response:
        """``user`` signs in at the IdP; scimgate's last answer to the browser."""

    def change(self, user: str, *, given_name: str, email: str, groups: list[str]) -> None:
        """What the IdP asserts of ``user`` from now on."""


@dataclass
class SamlFlow:
    world: World
    protocol: str = "saml"

    @property
    def http(self) -> TestClient:
        return self.world.http

    @property
    def db(self) -> Database:
        return self.world.db

    def tenant(self) -> Tenant:
        return self.world.tenant("acme")[0]

    def sign_in(self, user: str) -> httpx2.Response:
        return self.world.post(self.world.login(self.world.to_idp("acme"), user))

    def change(self, user: str, *, given_name: str, email: str, groups: list[str]) -> None:
        attributes = {
            **SAML_USERS[user],
            "givenName": [given_name],
            "mail": [email],
            "groups": groups,
        }
        self.world.idp.set_user(user, attributes)


@dataclass
class OidcFlow:
    op: RunningOp
    http: TestClient
    db: Database
    settings: Settings
    protocol: str = "oidc"

    def tenant(self) -> Tenant:
        tenant = tenant_service.create_tenant(self.db, "acme")
        oidc_connection(self.db, tenant, self.settings, self.op)
        return tenant

    def sign_in(self, user: str) -> httpx2.Response:
        callback = sign_in(self.op, to_provider(self.http), user, stop_at=CALLBACK)
        return self.http.get(local(callback), follow_redirects=False)

    def change(self, user: str, *, given_name: str, email: str, groups: list[str]) -> None:
        claims = {**OP_USERS[user], "given_name": given_name, "email": email, "groups": groups}
        self.op.set_user(user, claims)


@pytest.fixture
def settings(database_url: str) -> Settings:
    """The OIDC flow's scimgate; the feed is not held back by the holes earlier tests left."""
    return oidc_settings(database_url, webhook_gap_seconds=1e-6)


@pytest.fixture(params=["saml", "oidc"])
def flow(request: pytest.FixtureRequest, database_url: str) -> Iterator[Flow]:
    """Each protocol's flow; ``database_url`` makes it run on each database."""
    if request.param == "saml":
        world: World = request.getfixturevalue("world")
        # The uid, which stays when the mail changes, names the person (the provider's
        # ``sub`` does the same): a new mail is then the same person's new address.
        world.idp.set_name_id("uid")
        yield SamlFlow(world)
        world.idp.reset_users()
    else:
        op: RunningOp = request.getfixturevalue("op")
        client: TestClient = request.getfixturevalue("client")
        db: Database = request.getfixturevalue("db")
        yield OidcFlow(op, client, db, request.getfixturevalue("settings"))
        for user, claims in OP_USERS.items():
            op.set_user(user, claims)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver().start()
    yield found
    found.stop()


def with_roles(flow: Flow) -> Tenant:
    """``acme``, where scim-admins make an admin and engineering an editor (both kept)."""
    acme = flow.tenant()
    role_service.add_role(flow.db, acme, "admin", "Admin")
    role_service.add_role(flow.db, acme, "editor", "Editor")
    role_service.add_rule(flow.db, acme, "scim-admins", "admin")
    role_service.add_rule(flow.db, acme, "engineering", "editor")
    settings_service.update_settings(flow.db, acme, {"role_mode": "multiple"})
    return acme


def profile_of(flow: Flow, tenant: Tenant, response: httpx2.Response) -> dict[str, Any]:
    """The host app's side: the code from the redirect, exchanged for the profile."""
    code, _ = code_of(response)
    return exchange(flow.http, flow.db, tenant, code)


def events_of(flow: Flow, tenant: Tenant, after: int = 0) -> list[StoredEvent]:
    return [e for e in outbox(flow.db, tenant.id) if e.seq > after]


def test_a_later_sign_in_updates_the_user_and_moves_the_roles(flow: Flow) -> None:
    acme = with_roles(flow)
    first = profile_of(flow, acme, flow.sign_in("alice"))
    assert first["roles"] == ["admin", "editor"]
    assert first["name"]["givenName"] == "Alice"
    seen = max(e.seq for e in events_of(flow, acme))

    new_email = "a.liddell@example.test"
    flow.change("alice", given_name="Alicia", email=new_email, groups=["engineering"])
    again = profile_of(flow, acme, flow.sign_in("alice"))

    assert again["userId"] == first["userId"]
    assert again["name"]["givenName"] == "Alicia"
    assert again["email"] == new_email
    assert again["groups"] == ["engineering"]
    assert again["roles"] == ["editor"]
    later = events_of(flow, acme, seen)
    assert [e.type for e in later] == ["user.updated", "user.roles_changed", "user.signed_in"]
    updated, moved, signed_in = (e.data for e in later)
    assert updated["source"] == "sso"
    assert updated["user"]["name"]["givenName"] == "Alicia"
    assert new_email in [e["value"] for e in updated["user"]["emails"]]
    assert (moved["before"], moved["after"]) == (["admin", "editor"], ["editor"])
    assert signed_in["jit"] is False
    with flow.db.tenant(acme.id) as repo:
        assert repo.users.page(None, None, False, 0, 5).total == 1
    api = flow.http.get(
        f"/api/v1/tenants/acme/users/{first['userId']}",
        headers={"Authorization": f"Bearer {api_keys.create_api_key(flow.db, acme, 'k').secret}"},
    )
    assert api.status_code == 200, api.text
    assert api.json()["roles"] == ["editor"]


def _provision_and_deactivate(flow: Flow, tenant: Tenant, how: str = "patch") -> str:
    """Alice, as the IdP's SCIM client creates her, then turns her off (``patch``:
    active false; ``delete``: DELETE /Users/{id})."""
    scim = ScimClient(flow.http, "acme", token_service.create_token(flow.db, tenant, "IdP").secret)
    made = scim.post(
        "/Users",
        {
            "schemas": [USER_SCHEMA],
            "userName": "alice@example.test",
            "externalId": "alice",  # the subject both IdPs assert
            "emails": [{"value": "alice@example.test", "primary": True}],
        },
    )
    assert made.status_code == 201, made.text
    user_id: str = made.json()["id"]
    if how == "delete":
        gone = scim.request("DELETE", f"/Users/{user_id}")
        assert gone.status_code == 204, gone.text
        return user_id
    off = scim.patch(
        f"/Users/{user_id}",
        {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "replace", "path": "active", "value": False}],
        },
    )
    assert off.status_code == 200, off.text
    assert off.json()["active"] is False
    return user_id


@pytest.mark.parametrize("how", ["patch", "delete"])
def test_a_user_scim_deactivated_is_refused_at_sign_in(flow: Flow, how: str) -> None:
    acme = flow.tenant()
    user_id = _provision_and_deactivate(flow, acme, how)
    before = [e.type for e in events_of(flow, acme)]

    answer = flow.sign_in("alice")

    refusal(answer, "disabled_user")
    assert "location" not in answer.headers
    assert "alice@example.test" in answer.text
    [row] = sign_ins(flow.db, acme)
    assert (row.status, row.scim_type, row.resource_type) == (403, "disabled_user", "SignIn")
    assert "disabled" in row.detail
    with flow.db.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(sso_codes)).scalar() == 0
    assert [e.type for e in events_of(flow, acme)] == before  # no sign-in, no update
    with flow.db.tenant(acme.id) as repo:  # JIT made nobody new
        users = repo.users.page(None, None, False, 0, 5)
        if how == "delete":
            assert users.total == 0
        else:
            assert [(u.id, u.enabled) for u in users.rows] == [(user_id, False)]


def test_the_sign_in_events_reach_the_webhook_and_the_feed(flow: Flow, receiver: Receiver) -> None:
    acme = with_roles(flow)
    subscribe(flow.db, receiver, "acme")
    profile = profile_of(flow, acme, flow.sign_in("alice"))
    expected = ["user.created", "user.roles_changed", "user.signed_in"]
    committed = events_of(flow, acme)
    assert [e.type for e in committed] == expected

    worker = Worker(flow.db, FAST, keyring=WEBHOOK_KEYRING)
    try:
        drive(worker, lambda: len(receiver.accepted) >= len(expected))
    finally:
        worker.stop()
        worker.close()

    assert receiver.rejected == []  # each one verified against the webhook's secret
    assert receiver.ids == [e.id for e in committed]
    created, moved, signed_in = receiver.accepted
    assert [p["type"] for p in receiver.accepted] == expected
    assert {p["resourceId"] for p in receiver.accepted} == {profile["userId"]}
    assert created["data"]["source"] == "sso"
    assert created["data"]["user"]["userName"] == "alice@example.test"
    assert moved["data"]["after"] == ["admin", "editor"]
    assert signed_in["data"]["jit"] is True
    assert signed_in["data"]["connection"]["protocol"] == flow.protocol

    key = api_keys.create_api_key(flow.db, acme, "host app").secret
    feed = flow.http.get("/api/v1/tenants/acme/events", headers={"Authorization": f"Bearer {key}"})
    assert feed.status_code == 200, feed.text
    items = feed.json()["items"]
    assert [i["type"] for i in items] == expected
    assert [i["id"] for i in items] == receiver.ids
    assert items[0]["data"]["source"] == "sso"
    assert feed.json()["next"] == committed[-1].seq
