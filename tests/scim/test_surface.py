"""ScimSurface: the common SCIM requests skip the router, and answer exactly as through it.

Every request below goes to two apps on the same database: the app as built,
and one whose surface hands everything to the router. Status, body and
headers (but the request id) must match, and the audit rows both write too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from scimgate.app import create_app
from scimgate.config import Settings
from scimgate.model.entities import Tenant
from scimgate.scim import surface
from scimgate.scim.surface import ScimSurface
from scimgate.service.audit import audit_page
from scimgate.service.tokens import IssuedToken
from scimgate.storage.audit import AuditFilter
from scimgate.storage.database import Database

MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def routed(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    """The same app, with every request left to the router."""
    app = create_app(settings, database=db)
    original = ScimSurface._match
    with TestClient(app, raise_server_exceptions=False) as client:
        monkeypatch.setattr(ScimSurface, "_match", lambda self, rest, method: None)
        yield client
    monkeypatch.setattr(ScimSurface, "_match", original)


def _requests(user: str, group: str) -> list[tuple[str, str, Any]]:
    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "x"}
    return [
        ("GET", f"Users/{user}", None),
        ("HEAD", f"Users/{user}", None),
        ("GET", f"Users/{user}?attributes=userName", None),
        ("GET", f"Users/{user}?excludedAttributes=groups", None),
        ("GET", f"Groups/{group}", None),
        ("GET", f"Groups/{group}?excludedAttributes=members", None),
        ("GET", f"Users/{MISSING}", None),
        ("GET", f"Groups/{MISSING}?excludedAttributes=members", None),
        ("GET", "Users?filter=userName%20eq%20%22bjensen%22", None),
        ("GET", "Users?filter=userName%20eq%20%22nobody%22", None),
        ("GET", "Users?filter=userName%20zz%20%22x%22", None),
        ("GET", "Users?startIndex=1&count=1", None),
        ("GET", "Groups", None),
        ("GET", "Users/", None),
        ("GET", "Users/.search", None),
        ("POST", "Users", "not json"),
        ("POST", "Users", {"schemas": body["schemas"]}),
        ("POST", "Users", {**body, "userName": "bjensen"}),
        ("PUT", f"Users/{MISSING}", body),
        ("PATCH", f"Users/{MISSING}", {"Operations": []}),
        ("PATCH", f"Users/{user}", {"Operations": [{"op": "frobnicate"}]}),
        ("DELETE", f"Users/{MISSING}", None),
        ("DELETE", f"Groups/{MISSING}", None),
        ("POST", f"Users/{user}", body),
        ("PUT", "Users", body),
        ("OPTIONS", "Users", None),
        ("GET", "Users/a/b", None),
        ("GET", "ServiceProviderConfig", None),
        ("GET", "Nothing", None),
    ]


def _send(client: TestClient, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
    if isinstance(body, str):
        return client.request(method, path, content=body, headers=headers)
    return client.request(method, path, json=body, headers=headers)


def _shown(response: Any) -> tuple[int, bytes, dict[str, str]]:
    headers = {k: v for k, v in response.headers.items() if k not in ("x-request-id", "date")}
    return response.status_code, response.content, headers


def test_the_surface_answers_as_the_router_does(
    client: TestClient,
    routed: TestClient,
    db: Database,
    make_tenant: Callable[..., Tenant],
    make_token: Callable[..., IssuedToken],
) -> None:
    tenant = make_tenant("acme")
    headers = {"Authorization": f"Bearer {make_token('acme').secret}"}
    user = client.post("/scim/v2/acme/Users", headers=headers, json={"userName": "bjensen"})
    group = client.post(
        "/scim/v2/acme/Groups",
        headers=headers,
        json={"displayName": "Staff", "members": [{"value": user.json()["id"]}]},
    )
    client.app.state.audit_recorder.flush()  # type: ignore[attr-defined]
    before = max(row.id for row in audit_page(db, tenant, AuditFilter(), 1000))
    for method, path, body in _requests(user.json()["id"], group.json()["id"]):
        url = f"/scim/v2/acme/{path}"
        assert _shown(_send(client, method, url, body, headers)) == _shown(
            _send(routed, method, url, body, headers)
        ), (method, path)
    # Refused credentials too: none, and a wrong one.
    for auth in ({}, {"Authorization": "Bearer sgt_wrong"}):
        url = f"/scim/v2/acme/Users/{user.json()['id']}"
        assert _shown(client.get(url, headers=auth)) == _shown(routed.get(url, headers=auth))
    client.app.state.audit_recorder.flush()  # type: ignore[attr-defined]
    routed.app.state.audit_recorder.flush()  # type: ignore[attr-defined]
    rows = audit_page(db, tenant, AuditFilter(), 1000)
    asked = len(_requests("", "")) + 2
    by_path: dict[tuple[str, str, int], int] = {}
    for row in rows:
        if row.id <= before:
            continue
        key = (row.method, row.path, row.status)
        by_path[key] = by_path.get(key, 0) + 1
    # Each request the two apps were sent left the same row in each app's log.
    assert sum(by_path.values()) == 2 * asked
    assert all(count % 2 == 0 for count in by_path.values()), by_path


def test_the_common_shapes_do_not_reach_the_router(
    client: TestClient,
    make_tenant: Callable[..., Tenant],
    make_token: Callable[..., IssuedToken],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_tenant("acme")
    headers = {"Authorization": f"Bearer {make_token('acme').secret}"}
    served: list[str] = []
    real = surface._respond

    async def spy(scope: Any, receive: Any, send: Any) -> None:
        served.append(f"{scope['method']} {scope['path']}")
        await real(scope, receive, send)

    monkeypatch.setattr(surface, "_respond", spy)
    app: Starlette = client.app  # type: ignore[assignment]
    # The middleware stack was built at start-up with the real _respond: rebuild it.
    app.middleware_stack = app.build_middleware_stack()
    created = client.post("/scim/v2/acme/Users", headers=headers, json={"userName": "bjensen"})
    user = created.json()["id"]
    client.get(f"/scim/v2/acme/Users/{user}", headers=headers)
    client.get("/scim/v2/acme/Users?filter=userName%20eq%20%22bjensen%22", headers=headers)
    client.get("/scim/v2/acme/ServiceProviderConfig", headers=headers)  # to the router
    client.get("/scim/v2/acme/Users/", headers=headers)  # to the router
    client.delete(f"/scim/v2/acme/Users/{user}", headers=headers)
    assert served == [
        "POST /scim/v2/acme/Users",
        f"GET /scim/v2/acme/Users/{user}",
        "GET /scim/v2/acme/Users",
        f"DELETE /scim/v2/acme/Users/{user}",
    ]
