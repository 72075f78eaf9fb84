"""On PostgreSQL, the one-statement SCIM reads are awaited on the event loop
(``Database.awaited_reads``) instead of taking a worker thread; everything else still does."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from starlette.testclient import TestClient

from scimgate.model.entities import Tenant
from scimgate.service.tokens import IssuedToken
from scimgate.storage.database import Database


def test_lookups_with_a_cached_token_take_no_worker_thread(
    client: TestClient,
    db: Database,
    make_tenant: Callable[..., Tenant],
    make_token: Callable[..., IssuedToken],
    thread_hops: Callable[[], list[str]],
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("SQLite's calls all run inline on the event loop")
    make_tenant("acme")
    client.headers["Authorization"] = f"Bearer {make_token('acme').secret}"
    user = client.post("/scim/v2/acme/Users", json={"userName": "bjensen"}).json()["id"]
    staff = {"displayName": "Staff", "members": [{"value": user}]}
    group = client.post("/scim/v2/acme/Groups", json=staff).json()["id"]
    hops = thread_hops()

    assert client.get(f"/scim/v2/acme/Users/{user}").json()["groups"][0]["value"] == group
    found = client.get("/scim/v2/acme/Users", params={"filter": 'userName eq "BJensen"'}).json()
    assert [r["id"] for r in found["Resources"]] == [user]
    missing = client.get(f"/scim/v2/acme/Users/{uuid.uuid4()}")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/scim+json")
    bare = client.get(f"/scim/v2/acme/Groups/{group}", params={"excludedAttributes": "members"})
    assert bare.status_code == 200
    assert "members" not in bare.json()
    assert hops == []

    # A group with its members, and any other query, go through the unit of work.
    assert client.get(f"/scim/v2/acme/Groups/{group}").json()["members"][0]["value"] == user
    other = client.get("/scim/v2/acme/Users", params={"filter": 'displayName eq "nobody"'})
    assert other.json()["totalResults"] == 0
    assert len(hops) == 2
