"""What the host app reads: users (with roles and profile), groups, and the event feed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from scimgate.api.deps import AppSettings, Db, TenantOf
from scimgate.api.models import EventList, GroupPage, UserOut, UserPage
from scimgate.service import app_view

router = APIRouter(prefix="/v1/tenants/{slug}")

Cursor = Annotated[
    str | None,
    # A search page's cursor carries the last name seen, so it can be long.
    Query(max_length=app_view.MAX_CURSOR, description="The `next` value of the previous page."),
]
Limit = Annotated[int, Query(ge=1, le=app_view.MAX_PAGE)]


def _search(field: str) -> object:
    return Query(
        max_length=app_view.MAX_SEARCH,
        description=f"Only those whose {field} starts with this text (any case); the page is "
        f"then ordered by {field}.",
    )


@router.get("/users", response_model=UserPage, tags=["users"])
def list_users(
    tenant: TenantOf,
    db: Db,
    cursor: Cursor = None,
    limit: Limit = app_view.DEFAULT_PAGE,
    active: Annotated[
        bool | None, Query(description="Only users the app should (true) or should not let in.")
    ] = None,
    role: Annotated[str | None, Query(description="Only users holding this role key.")] = None,
    updated_since: Annotated[
        str | None,
        Query(description="ISO-8601; only users whose SCIM record changed at or after it."),
    ] = None,
    search: Annotated[str | None, _search("userName")] = None,
) -> UserPage:
    """The tenant's users, ordered by id, `limit` at a time (soft-deleted users excluded)."""
    since = app_view.parse_timestamp(updated_since) if updated_since is not None else None
    page = app_view.list_users(
        db,
        tenant,
        cursor=cursor,
        limit=limit,
        active=active,
        role=role,
        updated_since=since,
        search=search,
    )
    return UserPage.of(page)


@router.get("/users/{user_id}", response_model=UserOut, tags=["users"])
def get_user(tenant: TenantOf, db: Db, user_id: str) -> UserOut:
    """One user; 404 when unknown or deleted."""
    return UserOut.of(app_view.get_user(db, tenant, user_id))


@router.get("/groups", response_model=GroupPage, tags=["groups"])
def list_groups(
    tenant: TenantOf,
    db: Db,
    cursor: Cursor = None,
    limit: Limit = app_view.DEFAULT_PAGE,
    search: Annotated[str | None, _search("displayName")] = None,
) -> GroupPage:
    """The tenant's groups, ordered by id, with their member counts."""
    page = app_view.list_groups(db, tenant, cursor=cursor, limit=limit, search=search)
    return GroupPage.of(page)


@router.get("/events", response_model=EventList, tags=["events"])
def list_events(
    tenant: TenantOf,
    db: Db,
    settings: AppSettings,
    after: Annotated[
        int,
        Query(ge=0, le=app_view.MAX_SEQ, description="The `next` of the previous call; 0 first."),
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=app_view.MAX_EVENTS_PAGE)] = app_view.DEFAULT_PAGE,
    types: Annotated[
        list[str] | None, Query(alias="type", description="Only these event types (repeatable).")
    ] = None,
) -> EventList:
    """The tenant's events after `after`, oldest first."""
    page = app_view.list_events(
        db,
        tenant,
        after=after,
        limit=limit,
        types=types,
        gap_seconds=settings.webhook_gap_seconds,
    )
    return EventList.of(page, tenant.slug)
