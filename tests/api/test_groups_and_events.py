"""GET .../groups (with member counts) and GET .../events (the ordered feed)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from scimgate.model.entities import Tenant
from scimgate.service import app_view
from scimgate.service.clock import utcnow
from scimgate.storage.database import Database
from scimgate.storage.events import EventStore, NewEvent
from tests.api.conftest import HostApi, assert_problem
from tests.scim.contract import ScimClient


def test_groups_list_with_member_counts(api: HostApi, scim: ScimClient) -> None:
    users = [scim.make_user() for _ in range(3)]
    engineering = scim.make_group("Engineering", users, externalId="eng-1")
    empty = scim.make_group("Empty")
    body = api.ok("/tenants/acme/groups")
    by_id = {g["id"]: g for g in body["items"]}
    assert by_id[engineering["id"]]["memberCount"] == 3
    assert by_id[engineering["id"]]["displayName"] == "Engineering"
    assert by_id[engineering["id"]]["externalId"] == "eng-1"
    assert by_id[empty["id"]]["memberCount"] == 0
    assert body["next"] is None


def test_groups_page_by_cursor(api: HostApi, scim: ScimClient) -> None:
    made = sorted(scim.make_group(f"G{i}")["id"] for i in range(5))
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        body = api.ok("/tenants/acme/groups", **params)
        seen += [g["id"] for g in body["items"]]
        cursor = body["next"]
        if cursor is None:
            break
    assert seen == made


def test_a_users_cursor_is_not_a_groups_cursor(api: HostApi, scim: ScimClient) -> None:
    scim.make_user()
    scim.make_user()
    cursor = api.ok("/tenants/acme/users", limit=1)["next"]
    assert_problem(api.get("/tenants/acme/groups", cursor=cursor), 400, "invalid_value")


def test_the_event_feed_is_ordered_and_resumable(api: HostApi, scim: ScimClient) -> None:
    user = scim.make_user()
    group = scim.make_group("Engineering", [user])
    body = api.ok("/tenants/acme/events")
    types = [e["type"] for e in body["items"]]
    assert types[0] == "user.created"
    assert "group.created" in types
    assert "group.member_added" in types
    seqs = [e["seq"] for e in body["items"]]
    assert seqs == sorted(seqs)
    assert body["next"] == seqs[-1]
    first = body["items"][0]
    assert first["tenant"] == "acme"
    assert first["resourceType"] == "User"
    assert first["resourceId"] == user["id"]
    assert first["occurredAt"].endswith("Z")
    assert first["data"]["user"]["userName"] == user["userName"]
    # Nothing new: same cursor back, no items.
    again = api.ok("/tenants/acme/events", after=body["next"])
    assert again == {"items": [], "next": body["next"]}
    # A change shows up after the cursor, and only it.
    scim.patch_ops(
        f"/Groups/{group['id']}", {"op": "remove", "path": f'members[value eq "{user["id"]}"]'}
    )
    later = api.ok("/tenants/acme/events", after=body["next"])
    assert [e["type"] for e in later["items"]] == ["group.member_removed"]


def test_the_event_feed_pages_by_limit_and_filters_by_type(api: HostApi, scim: ScimClient) -> None:
    for _ in range(3):
        scim.make_user()
    everything = api.ok("/tenants/acme/events", limit=1000)["items"]
    paged: list[dict[str, Any]] = []
    after = 0
    while True:
        body = api.ok("/tenants/acme/events", after=after, limit=2)
        if not body["items"]:
            break
        paged += body["items"]
        after = body["next"]
    assert paged == everything
    created = api.ok("/tenants/acme/events", type="user.created")["items"]
    assert len(created) == 3
    assert {e["type"] for e in created} == {"user.created"}


def test_another_tenants_events_never_appear(
    api: HostApi, scim: ScimClient, globex_scim: ScimClient
) -> None:
    globex_scim.make_user()
    assert api.ok("/tenants/acme/events")["items"] == []


def test_bad_event_cursors_are_422(api: HostApi) -> None:
    assert_problem(api.get("/tenants/acme/events", after=-1), 422, "invalid_request")
    assert_problem(api.get("/tenants/acme/events", after="x"), 422, "invalid_request")
    assert_problem(api.get("/tenants/acme/events", limit=1001), 422, "invalid_request")


# -- commits out of seq order (PostgreSQL) ------------------------------------------------


@pytest.fixture
def postgres_only(db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("SQLite runs one writer at a time: commit order is seq order")


def _late(user_id: str) -> NewEvent:
    return NewEvent("user.updated", "User", user_id, {"user": {"id": user_id}})


def _feed(db: Database, tenant: Tenant, after: int = 0) -> list[str]:
    """The resource ids in the feed after ``after``, with a 60 s hole gap."""
    page = app_view.list_events(db, tenant, after=after, gap_seconds=60.0)
    return [e.resource_id for e in page.items]


@pytest.mark.usefixtures("postgres_only")
def test_the_feed_never_moves_past_an_event_that_commits_late(
    scim: ScimClient, db: Database, acme: Tenant
) -> None:
    scim.make_user()  # seqs right after the deleted rows of earlier tests ...
    time.sleep(0.05)
    after = app_view.list_events(db, acme, gap_seconds=0.01).next  # ... are passed once old
    with db.engine.connect() as conn:
        slow = conn.begin()
        EventStore(conn, acme.id).add([_late("late")], utcnow())  # takes the next seq
        quick = scim.make_user()  # takes higher seqs and commits first
        # Handing out the quick user's events now would move the client past "late".
        assert _feed(db, acme, after) == []
        slow.commit()
    assert _feed(db, acme, after)[:2] == ["late", quick["id"]]


@pytest.mark.usefixtures("postgres_only")
def test_a_hole_left_by_a_rollback_holds_the_feed_only_while_it_is_young(
    scim: ScimClient, db: Database, acme: Tenant
) -> None:
    scim.make_user()
    time.sleep(0.05)
    after = app_view.list_events(db, acme, gap_seconds=0.01).next
    with db.engine.connect() as conn:
        doomed = conn.begin()
        EventStore(conn, acme.id).add([_late("never")], utcnow())
        doomed.rollback()
    user = scim.make_user()
    assert _feed(db, acme, after) == []  # the hole is younger than 60 s
    time.sleep(0.05)
    passed = app_view.list_events(db, acme, after=after, gap_seconds=0.01)
    assert [e.resource_id for e in passed.items][:1] == [user["id"]]


def test_groups_search_by_display_name_prefix(api: HostApi, scim: ScimClient) -> None:
    for name in ("Engineering", "eng-oncall", "Sales"):
        scim.make_group(name, [])
    body = api.ok("/tenants/acme/groups", search="ENG")
    assert [g["displayName"] for g in body["items"]] == ["eng-oncall", "Engineering"]
    assert body["next"] is None


def test_an_event_cursor_past_a_64_bit_seq_is_refused_not_a_500(api: HostApi) -> None:
    """Found by the fuzzer: 2**63 overflowed SQLite's INTEGER and answered 500."""
    assert api.get("/tenants/acme/events", after=2**63).status_code == 422
    assert api.get("/tenants/acme/events", after=2**63 - 1).status_code == 200
