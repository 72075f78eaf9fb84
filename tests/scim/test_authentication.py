"""Every SCIM request is authenticated against the URL's tenant (RFC 6750 bearer)."""

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from starlette.testclient import TestClient

from scimgate.app import create_app
from scimgate.config import Settings
from scimgate.model.entities import Tenant
from scimgate.service import tokens as token_service
from scimgate.service.settings import update_settings
from scimgate.service.tenants import get_tenant, set_tenant_disabled
from scimgate.service.tokens import IssuedToken
from scimgate.storage.database import Database
from scimgate.storage.engine import make_engine

ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"


def assert_unauthorized(response: object) -> None:
    assert response.status_code == 401  # type: ignore[attr-defined]
    assert response.headers["content-type"].startswith("application/scim+json")  # type: ignore[attr-defined]
    assert response.headers["www-authenticate"].startswith("Bearer")  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["schemas"] == [ERROR_SCHEMA]
    assert body["status"] == "401"
    assert body["detail"]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer sgt_unknownunknownunknownunknownunknown1234567"},
    ],
)
def test_requests_without_a_valid_token_get_a_scim_401(
    client: TestClient, make_tenant: Callable[..., Tenant], headers: dict[str, str]
) -> None:
    make_tenant("acme")
    assert_unauthorized(client.get("/scim/v2/acme/Users", headers=headers))


def test_a_token_of_tenant_b_is_refused_on_tenant_a(
    client: TestClient, make_tenant: Callable[..., Tenant], make_token: Callable[..., IssuedToken]
) -> None:
    make_tenant("acme")
    make_tenant("globex")
    issued = make_token("globex")
    response = client.get(
        "/scim/v2/acme/ServiceProviderConfig", headers={"Authorization": f"Bearer {issued.secret}"}
    )
    assert_unauthorized(response)


def test_an_unknown_tenant_is_refused_like_a_bad_token(
    client: TestClient, make_tenant: Callable[..., Tenant], make_token: Callable[..., IssuedToken]
) -> None:
    make_tenant("acme")
    issued = make_token("acme")
    response = client.get(
        "/scim/v2/nobody/Users", headers={"Authorization": f"Bearer {issued.secret}"}
    )
    assert_unauthorized(response)


def test_a_revoked_token_is_refused_immediately(
    client: TestClient,
    db: Database,
    make_tenant: Callable[..., Tenant],
    make_token: Callable[..., IssuedToken],
) -> None:
    make_tenant("acme")
    issued = make_token("acme")
    auth = {"Authorization": f"Bearer {issued.secret}"}
    assert client.get("/scim/v2/acme/NoSuchEndpoint", headers=auth).status_code == 404
    token_service.revoke_token(db, get_tenant(db, "acme"), issued.token.id)
    assert_unauthorized(client.get("/scim/v2/acme/NoSuchEndpoint", headers=auth))


def test_a_valid_token_reaches_the_tenant_endpoint(
    client: TestClient, make_tenant: Callable[..., Tenant], make_token: Callable[..., IssuedToken]
) -> None:
    make_tenant("acme")
    issued = make_token("acme")
    response = client.get(
        "/scim/v2/acme/NoSuchEndpoint", headers={"Authorization": f"Bearer {issued.secret}"}
    )
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/scim+json")
    assert response.json()["status"] == "404"


# -- the verified-token cache ---------------------------------------------------------
#
# Each app below has its own engine on the same database, as two `serve --workers 2`
# processes would: what one process cached, a change made elsewhere must still overrule.


@pytest.fixture
def two_apps(settings: Settings) -> Iterator[tuple[TestClient, TestClient, list[Database]]]:
    databases = [Database(make_engine(settings.database_url)) for _ in range(2)]
    with ExitStack() as stack:
        clients = [
            stack.enter_context(TestClient(create_app(settings, database=db))) for db in databases
        ]
        yield clients[0], clients[1], databases
    for db in databases:
        db.dispose()


def _count_lookups(monkeypatch: pytest.MonkeyPatch, db: Database) -> list[str]:
    seen: list[str] = []
    real = db.find_token

    def counting(secret_hash: str) -> object:
        seen.append(secret_hash)
        return real(secret_hash)

    monkeypatch.setattr(db, "find_token", counting)
    return seen


def test_a_verified_token_is_not_looked_up_again(
    two_apps: tuple[TestClient, TestClient, list[Database]],
    make_tenant: Callable[..., Tenant],
    make_token: Callable[..., IssuedToken],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, _, databases = two_apps
    make_tenant("acme")
    headers = {"Authorization": f"Bearer {make_token('acme').secret}"}
    lookups = _count_lookups(monkeypatch, databases[0])
    assert first.get("/scim/v2/acme/Users", headers=headers).status_code == 200
    created = first.post("/scim/v2/acme/Users", headers=headers, json={"userName": "bjensen"})
    assert created.status_code == 201
    assert (
        first.get(f"/scim/v2/acme/Users/{created.json()['id']}", headers=headers).status_code == 200
    )
    assert len(lookups) == 1


def _refused_everywhere(
    clients: tuple[TestClient, ...], headers: dict[str, str], user: str
) -> None:
    for client in clients:
        assert_unauthorized(client.get(f"/scim/v2/acme/Users/{user}", headers=headers))
        assert_unauthorized(client.get("/scim/v2/acme/Users", headers=headers))
        assert_unauthorized(
            client.patch(
                f"/scim/v2/acme/Users/{user}",
                headers=headers,
                json={"Operations": [{"op": "replace", "value": {"active": False}}]},
            )
        )
        # Refused before its body is judged: no 400 for a token that no longer holds.
        assert_unauthorized(client.post("/scim/v2/acme/Users", headers=headers, json={}))
        assert_unauthorized(client.delete(f"/scim/v2/acme/Users/{user}", headers=headers))


def _warm(clients: tuple[TestClient, ...], headers: dict[str, str]) -> str:
    created = clients[0].post("/scim/v2/acme/Users", headers=headers, json={"userName": "bjensen"})
    assert created.status_code == 201
    for client in clients:
        for _ in range(2):
            response = client.get(f"/scim/v2/acme/Users/{created.json()['id']}", headers=headers)
            assert response.status_code == 200
    user_id: str = created.json()["id"]
    return user_id


def test_a_revocation_holds_on_the_next_request_in_every_process(
    two_apps: tuple[TestClient, TestClient, list[Database]],
    db: Database,
    make_tenant: Callable[..., Tenant],
    make_token: Callable[..., IssuedToken],
) -> None:
    first, second, _ = two_apps
    tenant = make_tenant("acme")
    issued, other = make_token("acme"), make_token("acme")
    headers = {"Authorization": f"Bearer {issued.secret}"}
    other_headers = {"Authorization": f"Bearer {other.secret}"}
    user = _warm((first, second), headers)
    _warm_other = [c.get("/scim/v2/acme/Users", headers=other_headers) for c in (first, second)]
    assert [r.status_code for r in _warm_other] == [200, 200]
    token_service.revoke_token(db, tenant, issued.token.id)
    _refused_everywhere((first, second), headers, user)
    # The tenant's other token was cached too; it still holds after the recheck.
    for client in (first, second):
        assert client.get(f"/scim/v2/acme/Users/{user}", headers=other_headers).status_code == 200


def test_disabling_the_tenant_holds_on_the_next_request_in_every_process(
    two_apps: tuple[TestClient, TestClient, list[Database]],
    db: Database,
    make_tenant: Callable[..., Tenant],
    make_token: Callable[..., IssuedToken],
) -> None:
    first, second, _ = two_apps
    make_tenant("acme")
    headers = {"Authorization": f"Bearer {make_token('acme').secret}"}
    user = _warm((first, second), headers)
    set_tenant_disabled(db, "acme", True)
    _refused_everywhere((first, second), headers, user)
    set_tenant_disabled(db, "acme", False)
    for client in (first, second):
        assert client.get(f"/scim/v2/acme/Users/{user}", headers=headers).status_code == 200


def test_a_cached_token_expires_on_time(
    two_apps: tuple[TestClient, TestClient, list[Database]],
    make_tenant: Callable[..., Tenant],
    make_token: Callable[..., IssuedToken],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, _, _ = two_apps
    make_tenant("acme")
    issued = make_token("acme", expires_in_days=1)
    headers = {"Authorization": f"Bearer {issued.secret}"}
    assert first.get("/scim/v2/acme/Users", headers=headers).status_code == 200
    assert issued.token.expires_at is not None
    later = issued.token.expires_at + timedelta(seconds=1)
    monkeypatch.setattr(token_service, "utcnow", lambda: later)
    assert_unauthorized(first.get("/scim/v2/acme/Users", headers=headers))


def test_new_tenant_settings_hold_on_the_next_request_in_every_process(
    two_apps: tuple[TestClient, TestClient, list[Database]],
    db: Database,
    make_tenant: Callable[..., Tenant],
    make_token: Callable[..., IssuedToken],
) -> None:
    first, second, _ = two_apps
    tenant = make_tenant("acme")
    headers = {"Authorization": f"Bearer {make_token('acme').secret}"}
    _warm((first, second), headers)
    update_settings(db, tenant, {"deactivate_unmapped": True})
    for number, client in enumerate((first, second)):
        created = client.post(
            "/scim/v2/acme/Users", headers=headers, json={"userName": f"u{number}"}
        )
        assert created.status_code == 201
        # The setting was in force: a new user in no mapped group starts deactivated.
        with db.tenant(tenant.id) as repo:
            row = repo.users.get(created.json()["id"])
        assert row is not None
        assert row.enabled is False


def test_a_cached_token_records_its_use_once_per_interval_off_the_event_loop(
    client: TestClient,
    db: Database,
    make_tenant: Callable[..., Tenant],
    make_token: Callable[..., IssuedToken],
    monkeypatch: pytest.MonkeyPatch,
    thread_hops: Callable[[], list[str]],
) -> None:
    make_tenant("acme")
    headers = {"Authorization": f"Bearer {make_token('acme').secret}"}

    def last_used() -> datetime | None:
        [token] = token_service.list_tokens(db, get_tenant(db, "acme"))
        return token.last_used_at

    assert client.get("/scim/v2/acme/Users", headers=headers).status_code == 200
    first = last_used()
    assert first is not None
    # Served from the cache within the interval: no second write.
    assert client.get("/scim/v2/acme/Users", headers=headers).status_code == 200
    assert last_used() == first

    # An interval later the cached token's use is written again, and on PostgreSQL that
    # write takes a worker thread like every other statement, never the event loop.
    base = time.monotonic()
    monkeypatch.setattr(token_service, "time", SimpleNamespace(monotonic=lambda: base + 61))
    monkeypatch.setattr(token_service, "utcnow", lambda: first + timedelta(minutes=5))
    hops = thread_hops()
    assert client.get("/scim/v2/acme/Users", headers=headers).status_code == 200
    assert last_used() == first + timedelta(minutes=5)
    assert ("touch" in hops) == (db.dialect == "postgresql")
