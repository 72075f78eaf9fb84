"""Users (RFC 7644 §3.3 create, §3.4.1 get, §3.5.1 replace, §3.5.2 modify, §3.6 delete)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Any

from scimgate.errors import InvalidValue, NotFound, PreconditionFailed, Uniqueness
from scimgate.model.identity import check_user_name
from scimgate.model.lifecycle import (
    GROUP_MEMBER_REMOVED,
    USER_CREATED,
    USER_DELETED,
    USER_ROLES_CHANGED,
    USER_UPDATED,
)
from scimgate.model.patch import PatchOperation, apply_patch
from scimgate.model.projection import project, wants
from scimgate.model.schemas import USER
from scimgate.model.validation import normalize_resource
from scimgate.service import lifecycle, listing, retry
from scimgate.service.clock import utcnow
from scimgate.service.listing import ListQuery, ListResult
from scimgate.service.resources import Resource, check_if_match, render_user, with_groups
from scimgate.service.scope import TenantScope
from scimgate.storage.events import NewEvent
from scimgate.storage.filters import user_name_equals
from scimgate.storage.reads import FoundUser
from scimgate.storage.repository import TenantRepository
from scimgate.storage.rows import MemberRef, UserRow


class UserNotFound(NotFound):
    default_detail = "User not found"


def _columns(doc: dict[str, Any]) -> dict[str, Any]:
    user_name = doc.get("userName")
    if not isinstance(user_name, str) or not user_name.strip():
        raise InvalidValue("userName is required")
    check_user_name(user_name)
    return {
        "user_name": user_name,
        "external_id": doc.get("externalId"),
        "display_name": doc.get("displayName"),
        "active": bool(doc.get("active", True)),
    }


def _app_state(row: UserRow) -> dict[str, Any]:
    return {"enabled": row.enabled, "deactivationReason": row.deactivation_reason}


def _get_row(repo: TenantRepository, user_id: str, *, for_update: bool = False) -> UserRow:
    row = repo.users.get(user_id, for_update=for_update)
    if row is None:
        raise UserNotFound(f"User {user_id} not found")
    return row


def _get_with_groups(
    repo: TenantRepository, user_id: str, groups: bool, *, for_update: bool = False
) -> tuple[UserRow, list[MemberRef] | None]:
    """The user and, when the response shows them, its groups (one statement either way)."""
    if not groups:
        return _get_row(repo, user_id, for_update=for_update), None
    found = repo.users.get_with_groups(user_id, for_update=for_update)
    if found is None:
        raise UserNotFound(f"User {user_id} not found")
    return found


def create_user(scope: TenantScope, payload: dict[str, Any], *, related: bool = True) -> Resource:
    doc, _ = normalize_resource(payload, USER, registered_extensions=scope.registered_extensions)
    # A new user without "active" is active; say so in the stored resource.
    doc.setdefault("active", True)
    columns = _columns(doc)
    enabled, reason = lifecycle.initial_state(scope.settings, columns["active"])
    user_id = str(uuid.uuid4())
    now = utcnow()
    row = UserRow(
        id=user_id,
        user_name=columns["user_name"],
        external_id=columns["external_id"],
        active=columns["active"],
        created=now,
        last_modified=now,
        version=1,
        doc=doc,
        enabled=enabled,
        deactivation_reason=reason,
    )
    # A new user belongs to no group yet.
    resource = render_user(row, scope.base_url, None)
    with scope.db.tenant(scope.tenant.id, write=True) as repo:
        inserted = repo.users.insert(
            user_id=user_id,
            now=now,
            doc=doc,
            enabled=enabled,
            deactivation_reason=reason,
            **columns,
        )
        if not inserted:
            raise Uniqueness(f"userName {columns['user_name']!r} is already taken")
        found = [lifecycle.user_event(USER_CREATED, user_id, resource.body, **_app_state(row))]
        roles = lifecycle.initial_roles(scope.settings, enabled)
        if roles:
            repo.roles.grant(user_id, roles)
            found.append(
                lifecycle.user_event(
                    USER_ROLES_CHANGED, user_id, row.snapshot(), before=[], after=roles
                )
            )
        lifecycle.emit(repo, found)
    return resource


def get_user(scope: TenantScope, user_id: str, *, related: bool = True) -> Resource:
    with scope.db.reads(scope.tenant.id) as reads:
        found = reads.user(user_id, groups=related)
    return _found_user(scope, user_id, found)


async def await_user(scope: TenantScope, user_id: str, *, related: bool = True) -> Resource:
    """``get_user`` awaited on the event loop (``Database.awaited_reads``)."""
    async with scope.db.awaited_reads(scope.tenant.id) as reads:
        found = await reads.user(user_id, groups=related)
    return _found_user(scope, user_id, found)


def _found_user(scope: TenantScope, user_id: str, found: FoundUser | None) -> Resource:
    if found is None:
        raise UserNotFound(f"User {user_id} not found")
    return render_user(found.row, scope.base_url, found.groups)


page_users = listing.pager(
    USER,
    "groups",
    lambda repo: repo.users.page,
    lambda repo, ids: repo.users.groups_of(ids),
    render_user,
)
"""One page of users for a list or search (see ``listing.Pager``)."""


@dataclass(frozen=True, slots=True)
class _Lookup:
    user_name_lower: str
    groups: bool  # whether the response shows the user's groups
    offset: int
    limit: int


def _lookup(scope: TenantScope, query: ListQuery) -> _Lookup | None:
    """What a ``userName eq "…"`` query asks for; None for any other query."""
    if query.filter is None or query.sort_by is not None or query.sort_order is not None:
        return None
    expr = listing.parse(scope, query.filter)
    lowered = user_name_equals(expr) if expr is not None else None
    if lowered is None:
        return None
    offset, limit = listing.window(scope, query)
    groups = wants(USER, query.attributes, query.excluded, "groups")
    return _Lookup(lowered, groups, offset, limit)


def lookup_user_name(scope: TenantScope, query: ListQuery) -> ListResult | None:
    """``filter=userName eq "…"``, how every IdP looks a user up before creating it, in one
    statement (``Database.reads``); None for any other query, which is paged as usual."""
    lookup = _lookup(scope, query)
    if lookup is None:
        return None
    with scope.db.reads(scope.tenant.id) as reads:
        found = reads.user_named(lookup.user_name_lower, groups=lookup.groups)
    return _lookup_result(scope, query, lookup, found)


async def await_user_name(scope: TenantScope, query: ListQuery) -> ListResult | None:
    """``lookup_user_name`` awaited on the event loop (``Database.awaited_reads``)."""
    lookup = _lookup(scope, query)
    if lookup is None:
        return None
    async with scope.db.awaited_reads(scope.tenant.id) as reads:
        found = await reads.user_named(lookup.user_name_lower, groups=lookup.groups)
    return _lookup_result(scope, query, lookup, found)


def _lookup_result(
    scope: TenantScope, query: ListQuery, lookup: _Lookup, found: FoundUser | None
) -> ListResult:
    total = 0 if found is None else 1
    shown = [] if found is None or lookup.limit <= 0 or lookup.offset >= total else [found]
    return ListResult(
        total=total,
        start_index=lookup.offset + 1,
        resources=[
            project(
                render_user(f.row, scope.base_url, f.groups).body,
                USER,
                query.attributes,
                query.excluded,
            )
            for f in shown
        ],
    )


def replace_user(
    scope: TenantScope,
    user_id: str,
    payload: dict[str, Any],
    *,
    if_match: str | None = None,
    related: bool = True,
) -> Resource:
    doc, _ = normalize_resource(payload, USER, registered_extensions=scope.registered_extensions)
    for _attempt in retry.attempts():
        with scope.db.tenant(scope.tenant.id, write=True) as repo:
            row, memberships = _get_with_groups(repo, user_id, related, for_update=True)
            check_if_match(if_match, row.version)
            new_doc = dict(doc)
            # PUT without "active" keeps the current state: an IdP that leaves
            # it out (OneLogin templates, Ping) must not reactivate anyone.
            new_doc.setdefault("active", row.active)
            if new_doc == row.doc:
                return render_user(row, scope.base_url, memberships)
            written = _write(repo, scope, row, new_doc)
            if written is not None:
                return with_groups(written, memberships, scope.base_url)
    raise PreconditionFailed("the user kept changing; retry the request")


def patch_user(
    scope: TenantScope,
    user_id: str,
    operations: list[PatchOperation],
    *,
    if_match: str | None = None,
    related: bool = True,
    body: bool = False,
) -> Resource:
    """Apply a PATCH; ``body`` is accepted for the shared signature, but a user is
    small: it always comes back, with 200, as clients expect."""
    for _attempt in retry.attempts():
        with scope.db.tenant(scope.tenant.id, write=True) as repo:
            row, memberships = _get_with_groups(repo, user_id, related, for_update=True)
            check_if_match(if_match, row.version)
            result = apply_patch(row.doc, operations, USER)
            if not result.changed:
                return render_user(row, scope.base_url, memberships)
            written = _write(repo, scope, row, result.doc)
            if written is not None:
                return with_groups(written, memberships, scope.base_url)
    raise PreconditionFailed("the user kept changing; retry the request")


def _write(
    repo: TenantRepository, scope: TenantScope, row: UserRow, doc: dict[str, Any]
) -> Resource | None:
    """Store ``doc`` as the next version of ``row`` with its lifecycle consequences.

    Returns the new version rendered without groups (as its event carries it),
    or None if another writer got there first (nothing was written).
    """
    columns = _columns(doc)
    if columns["active"] != row.active:
        enabled, reason = lifecycle.state_for_active(
            repo, scope.settings, row.id, columns["active"]
        )
    else:
        enabled, reason = row.enabled, row.deactivation_reason
    now = utcnow()
    if not repo.users.update(
        row.id,
        row.version,
        now=now,
        doc=doc,
        enabled=enabled,
        deactivation_reason=reason,
        current=row,
        **columns,
    ):
        return None
    updated = replace(
        row,
        user_name=columns["user_name"],
        external_id=columns["external_id"],
        active=columns["active"],
        last_modified=now,
        version=row.version + 1,
        doc=doc,
        enabled=enabled,
        deactivation_reason=reason,
    )
    snapshot = updated.snapshot()
    resource = render_user(updated, scope.base_url, None)
    found: list[NewEvent] = [
        lifecycle.user_event(USER_UPDATED, row.id, resource.body, **_app_state(updated))
    ]
    found += lifecycle.state_events(row.id, snapshot, row.enabled, enabled, reason)
    if enabled != row.enabled:
        if not enabled and not columns["active"]:
            found += lifecycle.disabled(repo, row.id, snapshot)
        else:
            found = lifecycle.recompute(repo, scope.settings, [row.id], found)
    lifecycle.emit(repo, found)
    return resource


def delete_user(scope: TenantScope, user_id: str, *, if_match: str | None = None) -> None:
    """DELETE (RFC 7644 §3.6): a soft delete by default (hidden, deactivated, purged later).

    The delete runs first and reads the user back; a missing user or an
    outdated If-Match then raises, which rolls the transaction back.
    """
    mode = scope.settings.delete_mode
    with scope.db.tenant(scope.tenant.id, write=True) as repo:
        removed = repo.users.remove(user_id, utcnow(), hard=mode == "hard")
        if removed is None:
            raise UserNotFound(f"User {user_id} not found")
        check_if_match(if_match, removed.version)
        snapshot = removed.snapshot
        found: list[NewEvent] = [lifecycle.user_event(USER_DELETED, user_id, snapshot, mode=mode)]
        if removed.roles:
            found.append(
                lifecycle.user_event(
                    USER_ROLES_CHANGED, user_id, snapshot, before=removed.roles, after=[]
                )
            )
        for group_id in removed.left_groups:
            found.append(
                lifecycle.group_event(GROUP_MEMBER_REMOVED, {"id": group_id}, member=snapshot)
            )
        lifecycle.emit(repo, found)
