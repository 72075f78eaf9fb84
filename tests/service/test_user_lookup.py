"""The one-statement userName lookup answers exactly what paging the same query would."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from scimgate.model.entities import Tenant
from scimgate.service import groups, listing, users
from scimgate.service.listing import ListQuery
from scimgate.service.scope import Limits, TenantScope
from scimgate.storage.database import Database

QUERIES = [
    ListQuery(filter='userName eq "bjensen"'),
    ListQuery(filter='userName eq "BJensen"'),  # userName is case-insensitive (RFC 7643 §4.1.1)
    ListQuery(filter='USERNAME eq "bjensen"'),
    ListQuery(filter='userName eq "nobody"'),
    ListQuery(filter='userName eq "bjensen"', start_index=2),
    ListQuery(filter='userName eq "bjensen"', count=0),
    ListQuery(filter='userName eq "bjensen"', count=-3, start_index=0),
    ListQuery(filter='userName eq "bjensen"', attributes=["userName"]),
    ListQuery(filter='userName eq "bjensen"', attributes=["groups"]),
    ListQuery(filter='userName eq "bjensen"', excluded=["groups"]),
    ListQuery(filter='userName eq "bjensen"', excluded=["emails", "name"]),
]
PAGED_AS_USUAL = [
    ListQuery(),
    ListQuery(filter='userName eq "bjensen"', sort_by="userName"),
    ListQuery(filter='userName eq "bjensen"', sort_order="descending"),
    ListQuery(filter='userName sw "bj"'),
    ListQuery(filter='userName eq "bjensen" and active eq true'),
    ListQuery(filter='emails.value eq "bjensen@example.com"'),
]


@pytest.fixture
def scope(db: Database, make_tenant: Callable[..., Tenant]) -> TenantScope:
    scope = TenantScope.of(db, make_tenant("acme"), "https://x.test/scim/v2/acme", Limits())
    user = users.create_user(
        scope,
        {
            "userName": "bjensen",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "emails": [{"value": "bjensen@example.com", "primary": True}],
        },
    )
    users.create_user(scope, {"userName": "other"})
    groups.create_group(scope, {"displayName": "Staff", "members": [{"value": user.id}]})
    return scope


@pytest.mark.parametrize("query", QUERIES, ids=repr)
def test_the_lookup_equals_the_paged_answer(scope: TenantScope, query: ListQuery) -> None:
    quick = users.lookup_user_name(scope, query)
    assert quick is not None
    assert quick == listing.list_resources(scope, users.page_users, query)


def test_the_lookup_shows_the_users_groups(scope: TenantScope) -> None:
    found = users.lookup_user_name(scope, ListQuery(filter='userName eq "bjensen"'))
    assert found is not None
    assert [g["display"] for g in found.resources[0]["groups"]] == ["Staff"]


@pytest.mark.parametrize("query", PAGED_AS_USUAL, ids=repr)
def test_any_other_query_is_left_to_paging(scope: TenantScope, query: ListQuery) -> None:
    assert users.lookup_user_name(scope, query) is None
