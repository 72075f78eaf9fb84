"""Searching users and groups by name prefix, paged by name, on both databases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from scimgate.errors import InvalidValue
from scimgate.model.entities import Tenant
from scimgate.service import app_view
from scimgate.service import groups as group_service
from scimgate.service import users as user_service
from scimgate.service.scope import Limits, TenantScope
from scimgate.storage.database import Database

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"

NAMES = [
    "alice@example.com",
    "Alicia@Example.com",
    "ALBERT@example.com",
    "al%ice@example.com",
    "al_x@example.com",
    "alé@example.com",
    "al😀@example.com",
    "bob@example.com",
    "xal@example.com",
]


@pytest.fixture
def acme(make_tenant: Callable[..., Tenant]) -> Tenant:
    return make_tenant("acme")


def _scope(db: Database, tenant: Tenant) -> TenantScope:
    return TenantScope.of(db, tenant, "https://x.test/scim/v2/acme", Limits())


def _users(db: Database, tenant: Tenant, names: list[str], **extra: Any) -> dict[str, str]:
    scope = _scope(db, tenant)
    return {
        name: user_service.create_user(
            scope, {"schemas": [USER], "userName": name, **extra}, related=False
        ).id
        for name in names
    }


def _found(db: Database, tenant: Tenant, search: str, **kwargs: Any) -> list[str]:
    return [u.user_name for u in app_view.list_users(db, tenant, search=search, **kwargs).items]


def test_a_search_matches_the_start_of_the_user_name_in_any_case(
    db: Database, acme: Tenant
) -> None:
    _users(db, acme, NAMES)
    assert _found(db, acme, "ALI") == ["alice@example.com", "Alicia@Example.com"]
    assert _found(db, acme, "al") == [
        "al%ice@example.com",
        "al_x@example.com",
        "ALBERT@example.com",
        "alice@example.com",
        "Alicia@Example.com",
        "alé@example.com",
        "al😀@example.com",
    ]
    assert _found(db, acme, "alé") == ["alé@example.com"]
    assert _found(db, acme, "al😀") == ["al😀@example.com"]
    assert _found(db, acme, "bob@example.com") == ["bob@example.com"]
    assert _found(db, acme, "nobody") == []


def test_a_search_folds_like_the_user_name(db: Database, acme: Tenant) -> None:
    """NFD, fullwidth and invisible characters in the search, as in model/identity.py."""
    _users(db, acme, ["Émile@example.com", "emma@example.com", "\uff4a\uff4f@example.com"])
    assert _found(db, acme, "E\u0301MI") == ["Émile@example.com"]
    assert _found(db, acme, "é\u200bmi") == ["Émile@example.com"]
    assert _found(db, acme, "jo@") == ["\uff4a\uff4f@example.com"]
    assert _found(db, acme, "\uff25") == ["emma@example.com"]


def test_like_wildcards_in_a_search_are_plain_characters(db: Database, acme: Tenant) -> None:
    _users(db, acme, NAMES)
    assert _found(db, acme, "al%") == ["al%ice@example.com"]
    assert _found(db, acme, "al_") == ["al_x@example.com"]
    assert _found(db, acme, "%") == []
    assert _found(db, acme, "a\\") == []


def test_an_empty_or_blank_search_lists_everyone_by_id(db: Database, acme: Tenant) -> None:
    ids = _users(db, acme, NAMES)
    for blank in ("", "   ", "\t"):
        page = app_view.list_users(db, acme, search=blank)
        assert [u.id for u in page.items] == sorted(ids.values())
    assert _found(db, acme, "  bob  ") == ["bob@example.com"]


def test_search_pages_walk_every_match_once_in_name_order(db: Database, acme: Tenant) -> None:
    names = [f"user{n:03d}@example.com" for n in range(23)] + ["other@example.com"]
    _users(db, acme, names)
    seen: list[str] = []
    cursor = None
    while True:
        page = app_view.list_users(db, acme, search="USER", cursor=cursor, limit=5)
        seen += [u.user_name for u in page.items]
        if page.next is None:
            break
        cursor = page.next
    assert seen == sorted(n for n in names if n.startswith("user"))


def test_a_search_skips_deleted_users_and_keeps_the_other_filters(
    db: Database, acme: Tenant
) -> None:
    ids = _users(db, acme, ["ann@example.com", "anna@example.com"])
    _users(db, acme, ["annette@example.com"], active=False)
    user_service.delete_user(_scope(db, acme), ids["anna@example.com"])
    assert _found(db, acme, "ann") == ["ann@example.com", "annette@example.com"]
    assert _found(db, acme, "ann", active=False) == ["annette@example.com"]


def test_a_search_sees_only_its_own_tenant(
    db: Database, acme: Tenant, make_tenant: Callable[..., Tenant]
) -> None:
    globex = make_tenant("globex")
    _users(db, acme, ["sam@acme.example"])
    _users(db, globex, ["sam@globex.example"])
    assert _found(db, acme, "sam") == ["sam@acme.example"]


@pytest.mark.parametrize(
    "search", ["x" * (app_view.MAX_SEARCH + 1), "a\x00b"], ids=["too-long", "nul"]
)
def test_a_search_that_cannot_be_a_name_is_invalid(db: Database, acme: Tenant, search: str) -> None:
    with pytest.raises(InvalidValue):
        app_view.list_users(db, acme, search=search)
    with pytest.raises(InvalidValue):
        app_view.list_groups(db, acme, search=search)


def test_the_longest_search_is_accepted(db: Database, acme: Tenant) -> None:
    name = "a" * app_view.MAX_SEARCH
    _users(db, acme, [name + "@example.com"])
    assert _found(db, acme, name.upper()) == [name + "@example.com"]


def test_a_cursor_of_the_plain_list_is_refused_by_a_search_and_back(
    db: Database, acme: Tenant
) -> None:
    _users(db, acme, ["a1", "a2", "a3"])
    plain = app_view.list_users(db, acme, limit=1).next
    searched = app_view.list_users(db, acme, search="a", limit=1).next
    assert plain is not None
    assert searched is not None
    with pytest.raises(InvalidValue):
        app_view.list_users(db, acme, search="a", cursor=plain)
    with pytest.raises(InvalidValue):
        app_view.list_users(db, acme, cursor=searched)


def test_a_long_name_fits_in_a_search_cursor(db: Database, acme: Tenant) -> None:
    names = ["é" * 500 + "1", "é" * 500 + "2"]
    _users(db, acme, names)
    first = app_view.list_users(db, acme, search="é", limit=1)
    assert first.next is not None
    second = app_view.list_users(db, acme, search="é", limit=1, cursor=first.next)
    assert [u.user_name for u in first.items + second.items] == names


def test_groups_are_searched_by_display_name_prefix_with_member_counts(
    db: Database, acme: Tenant
) -> None:
    ids = _users(db, acme, ["u1", "u2"])
    scope = _scope(db, acme)
    for name, members in [
        ("Engineering", ["u1", "u2"]),
        ("eng_ops", ["u1"]),
        ("Engagement", []),
        ("Sales", ["u2"]),
    ]:
        body = {
            "schemas": [GROUP],
            "displayName": name,
            "members": [{"value": ids[m]} for m in members],
        }
        group_service.create_group(scope, body, related=False)
    page = app_view.list_groups(db, acme, search="ENG")
    assert [(g.display_name, g.member_count) for g in page.items] == [
        ("eng_ops", 1),
        ("Engagement", 0),
        ("Engineering", 2),
    ]
    assert [g.display_name for g in app_view.list_groups(db, acme, search="eng_").items] == [
        "eng_ops"
    ]
    first = app_view.list_groups(db, acme, search="eng", limit=2)
    assert first.next is not None
    rest = app_view.list_groups(db, acme, search="eng", limit=2, cursor=first.next)
    assert [g.display_name for g in first.items + rest.items] == [
        "eng_ops",
        "Engagement",
        "Engineering",
    ]
    assert rest.next is None
    assert len(app_view.list_groups(db, acme, search=" ").items) == 4
