"""Two worker processes on PostgreSQL, eight clients on the same group and the same users.

Each client owns a disjoint set of members and changes them one request at
a time, so the final membership is fully determined by the last acknowledged
operation per member: a lost update shows up as a wrong member set.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import httpx2
import pytest

from scimgate.model.entities import Tenant
from scimgate.service.tokens import IssuedToken
from scimgate.storage.engine import make_engine
from scimgate.storage.tables import Base
from tests.reliability.conftest import (
    GROUP,
    LiveTenant,
    Server,
    patch_body,
    running_server,
    scaled,
    user_body,
)

CLIENTS = 8
T = TypeVar("T")


@pytest.fixture
def database_url(postgres_url: str) -> str:
    """PostgreSQL only: SQLite has one writer, so there is no race to lose."""
    engine = make_engine(postgres_url)
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    engine.dispose()
    return postgres_url


@pytest.fixture(scope="module")
def server(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One two-worker server for the module: starting one costs seconds on a busy box."""
    log = tmp_path_factory.mktemp("concurrency") / "server.log"
    with running_server(postgres_url, log, workers=2) as live:
        yield live


@pytest.fixture
def acme(
    database_url: str,
    request: pytest.FixtureRequest,
    make_tenant: Callable[..., Tenant],
    make_token: Callable[..., IssuedToken],
) -> LiveTenant:
    """A tenant of its own per test (the slug is new, so no worker has it cached)."""
    slug = f"acme-{request.node.name[5:30].replace('_', '-')}"
    tenant = make_tenant(slug)
    return LiveTenant(slug, tenant, make_token(slug).secret)


def _in_parallel(
    server: Server, acme: LiveTenant, work: Callable[[httpx2.Client, int], T]
) -> list[T]:
    clients = [acme.client(server, timeout=30) for _ in range(CLIENTS)]
    try:
        with ThreadPoolExecutor(CLIENTS) as pool:
            return list(pool.map(work, clients, range(CLIENTS)))
    finally:
        for http in clients:
            http.close()


def test_membership_equals_the_last_acknowledged_operation_per_member(
    server: Server, acme: LiveTenant
) -> None:
    per_client = 3
    with acme.client(server) as http:
        group_id = http.post("/Groups", json={"schemas": [GROUP], "displayName": "All"}).json()[
            "id"
        ]
        owned = [
            [
                http.post("/Users", json=user_body(f"m-{c}-{k}")).json()["id"]
                for k in range(per_client)
            ]
            for c in range(CLIENTS)
        ]

    def work(http: httpx2.Client, n: int) -> tuple[dict[str, str], dict[str, list[str]], list[str]]:
        rng = random.Random(n)
        last: dict[str, str] = {}
        written: dict[str, list[str]] = {}
        failures: list[str] = []
        for i in range(scaled(15)):
            member = rng.choice(owned[n])
            if rng.random() < 0.6:
                op = {"op": "add", "path": "members", "value": [{"value": member}]}
                kind = "add"
            else:
                op = {"op": "remove", "path": f'members[value eq "{member}"]'}
                kind = "remove"
            response = http.patch(f"/Groups/{group_id}", json=patch_body(op))
            if response.status_code in (200, 204):
                last[member] = kind
            else:
                failures.append(f"{kind}: {response.status_code} {response.text}")
            # The member's own profile changes while its membership does.
            target = member
            value = f"c{n}-{i}"
            both = {"op": "replace", "value": {"title": value, "displayName": value}}
            patched = http.patch(f"/Users/{target}", json=patch_body(both))
            if patched.status_code == 200:
                written.setdefault(target, []).append(value)
            else:
                failures.append(f"user patch: {patched.status_code} {patched.text}")
        return last, written, failures

    results = _in_parallel(server, acme, work)
    expected: set[str] = set()
    final_title: dict[str, str] = {}
    for last, acknowledged, failures in results:
        assert failures == []
        expected |= {member for member, kind in last.items() if kind == "add"}
        # One writer per member: its last acknowledged PATCH is the final state.
        final_title.update((user_id, vals[-1]) for user_id, vals in acknowledged.items())
    with acme.client(server) as http:
        group = http.get(f"/Groups/{group_id}").json()
        assert {m["value"] for m in group.get("members", [])} == expected
        for user_id, title in final_title.items():
            user = http.get(f"/Users/{user_id}").json()
            assert (user["title"], user["displayName"]) == (title, title)


def test_concurrent_patches_of_one_user_all_succeed_and_never_mix(
    server: Server, acme: LiveTenant
) -> None:
    with acme.client(server) as http:
        user_id = http.post("/Users", json=user_body("contended")).json()["id"]
    barrier = threading.Barrier(CLIENTS)

    def work(http: httpx2.Client, n: int) -> tuple[list[str], list[int]]:
        barrier.wait(timeout=30)
        acknowledged: list[str] = []
        refused: list[int] = []
        for i in range(scaled(20)):
            value = f"c{n}-{i}"
            both = {"op": "replace", "value": {"title": value, "displayName": value}}
            status = http.patch(f"/Users/{user_id}", json=patch_body(both)).status_code
            (acknowledged.append(value) if status == 200 else refused.append(status))
        return acknowledged, refused

    results = _in_parallel(server, acme, work)
    with acme.client(server) as http:
        user = http.get(f"/Users/{user_id}").json()
    assert user["title"] == user["displayName"]  # never a mix of two PATCHes
    assert user["title"] in {v for values, _ in results for v in values}
    assert [status for _, refused in results for status in refused] == []


def test_concurrent_creates_of_one_user_name_give_one_201_and_the_rest_409(
    server: Server, acme: LiveTenant
) -> None:
    for round_ in range(max(2, scaled(2))):
        barrier = threading.Barrier(CLIENTS)

        def create(
            http: httpx2.Client,
            n: int,
            name: str = f"same-{round_}",
            barrier: threading.Barrier = barrier,
        ) -> int:
            barrier.wait(timeout=30)
            return http.post("/Users", json=user_body(name)).status_code

        statuses = _in_parallel(server, acme, create)
        assert sorted(statuses) == [201] + [409] * (CLIENTS - 1)


def test_a_stale_if_match_is_refused_and_never_overwrites(server: Server, acme: LiveTenant) -> None:
    with acme.client(server) as http:
        user_id = http.post("/Users", json=user_body("etag-target")).json()["id"]
        etag = http.get(f"/Users/{user_id}").headers["etag"]
    barrier = threading.Barrier(CLIENTS)

    def patch(http: httpx2.Client, n: int) -> int:
        barrier.wait(timeout=30)
        op = {"op": "replace", "value": {"title": f"t{n}", "displayName": f"t{n}"}}
        return http.patch(
            f"/Users/{user_id}", json=patch_body(op), headers={"If-Match": etag}
        ).status_code

    statuses = _in_parallel(server, acme, patch)
    assert sorted(statuses) == [200] + [412] * (CLIENTS - 1)
    winner = statuses.index(200)
    with acme.client(server) as http:
        user = http.get(f"/Users/{user_id}").json()
    assert (user["title"], user["displayName"]) == (f"t{winner}", f"t{winner}")


def test_concurrent_deletes_of_users_sharing_groups_all_succeed(
    server: Server, acme: LiveTenant
) -> None:
    """Deleting a user bumps every group it was in; two deletes of users in the same
    groups once locked those groups in different orders and deadlocked (500)."""
    per_client, shared = scaled(3), 10
    with acme.client(server) as http:
        users = [
            [
                http.post("/Users", json=user_body(f"d-{c}-{k}")).json()["id"]
                for k in range(per_client)
            ]
            for c in range(CLIENTS)
        ]
        everyone = [{"value": u} for mine in users for u in mine]
        rng = random.Random(7)
        group_ids = []
        for g in range(shared):
            members = rng.sample(everyone, len(everyone))  # a different order per group
            body = {"schemas": [GROUP], "displayName": f"shared-{g}", "members": members}
            group_ids.append(http.post("/Groups", json=body).json()["id"])

    def work(http: httpx2.Client, n: int) -> list[int]:
        return [http.delete(f"/Users/{user_id}").status_code for user_id in users[n]]

    statuses = [
        s for per_client_statuses in _in_parallel(server, acme, work) for s in per_client_statuses
    ]
    assert statuses == [204] * len(statuses)
    with acme.client(server) as http:
        for group_id in group_ids:
            group = http.get(f"/Groups/{group_id}").json()
            assert group.get("members", []) == []
