"""Groups (RFC 7644 §3.3-§3.6) with membership kept as rows.

A membership change is an insert or a delete of just the rows it names plus an
atomic version bump, never a read-modify-write of the member list: its cost
does not grow with the group, and concurrent PATCHes cannot lose each other's
members.
"""

from __future__ import annotations

import uuid
from typing import Any

from scimgate.errors import InvalidValue, NotFound, PreconditionFailed, Uniqueness
from scimgate.model.lifecycle import (
    GROUP_CREATED,
    GROUP_DELETED,
    GROUP_MEMBER_ADDED,
    GROUP_MEMBER_REMOVED,
    GROUP_UPDATED,
)
from scimgate.model.matching import matches
from scimgate.model.patch import PatchOperation, apply_patch
from scimgate.model.patch_members import (
    AddMembers,
    MemberChange,
    RemoveAllMembers,
    RemoveMembers,
    RemoveMembersWhere,
    ReplaceMembers,
    member_ids,
    split_member_operations,
)
from scimgate.model.schemas import GROUP
from scimgate.model.validation import normalize_resource
from scimgate.service import lifecycle, listing, retry
from scimgate.service.clock import utcnow
from scimgate.service.resources import Resource, check_if_match, render_group
from scimgate.service.scope import TenantScope
from scimgate.storage.events import NewEvent
from scimgate.storage.repository import TenantRepository
from scimgate.storage.rows import GroupRow

_MEMBERS_ATTRIBUTE = GROUP.schema.attribute("members")


class GroupNotFound(NotFound):
    default_detail = "Group not found"


class _LostRace(Exception):
    """Another writer changed the group between our read and our write: roll back, retry."""


def _display_name(doc: dict[str, Any]) -> str:
    name = doc.get("displayName")
    if not isinstance(name, str) or not name.strip():
        raise InvalidValue("displayName is required")
    return name


Snapshots = dict[str, dict[str, Any]]
"""Users' event snapshots by id, read once per change for the check and the events."""


def _require_users(repo: TenantRepository, ids: list[str], known: Snapshots) -> None:
    """Members must be users of this tenant (another tenant's ids do not exist here, and
    a deleted user is hidden); adds their snapshots to ``known`` for the events."""
    if not ids:
        return
    found = repo.users.snapshots(ids)
    # A soft-deleted user keeps its row until the purge; only its reason says it is gone.
    live = {i: s for i, s in found.items() if s["deactivationReason"] != lifecycle.DELETED}
    known.update(live)
    missing = set(ids) - live.keys()
    if missing:
        shown = ", ".join(sorted(missing)[:5])
        raise InvalidValue(f"no such user to add as a member: {shown}")


def _get_row(repo: TenantRepository, group_id: str) -> GroupRow:
    row = repo.groups.get(group_id)
    if row is None:
        raise GroupNotFound(f"Group {group_id} not found")
    return row


def _render(repo: TenantRepository, scope: TenantScope, row: GroupRow, members: bool) -> Resource:
    listed = repo.groups.members_of([row.id]).get(row.id, []) if members else None
    return render_group(row, scope.base_url, listed)


def _ref(row: GroupRow) -> dict[str, Any]:
    return {"id": row.id, "displayName": row.display_name, "externalId": row.external_id}


def _after_membership(
    repo: TenantRepository,
    scope: TenantScope,
    row: GroupRow,
    added: list[str],
    removed: list[str],
    found: list[NewEvent],
    known: Snapshots,
) -> list[NewEvent]:
    """``found`` plus the events of a membership change and of the roles and states it
    changes; returns the events still to emit (see ``lifecycle.recompute``)."""
    found = found + _membership_events(repo, row, added, removed, known)
    if (added or removed) and repo.roles.group_is_mapped(row.id):
        changed = sorted(set(added) | set(removed))
        found = lifecycle.recompute(repo, scope.settings, changed, found)
    return found


def _membership_events(
    repo: TenantRepository, row: GroupRow, added: list[str], removed: list[str], known: Snapshots
) -> list[NewEvent]:
    """One event per member added or removed; reads only the snapshots ``known`` lacks
    (the removed members': the added ones were read when they were checked)."""
    if not added and not removed:
        return []
    unread = sorted({*added, *removed} - known.keys())
    users = {**known, **repo.users.snapshots(unread)} if unread else known
    ref = {"id": row.id, "displayName": row.display_name}

    def member(user_id: str) -> dict[str, Any]:
        return users.get(user_id) or {"id": user_id}

    return [lifecycle.group_event(GROUP_MEMBER_ADDED, ref, member=member(u)) for u in added] + [
        lifecycle.group_event(GROUP_MEMBER_REMOVED, ref, member=member(u)) for u in removed
    ]


def _after_rename(
    repo: TenantRepository,
    scope: TenantScope,
    before: GroupRow,
    after: GroupRow,
    found: list[NewEvent],
) -> list[NewEvent]:
    """A new displayName or externalId may match other rules: recompute its members.
    Returns the events still to emit, ``found`` first."""
    found = [*found, lifecycle.group_event(GROUP_UPDATED, _ref(after), before=_ref(before))]
    identity_changed = (before.display_name.lower(), before.external_id) != (
        after.display_name.lower(),
        after.external_id,
    )
    if identity_changed and repo.roles.has_rules():
        members = sorted(repo.groups.member_ids(after.id))
        found = lifecycle.recompute(repo, scope.settings, members, found)
    return found


def create_group(scope: TenantScope, payload: dict[str, Any], *, related: bool = True) -> Resource:
    doc, given = normalize_resource(
        payload, GROUP, registered_extensions=scope.registered_extensions
    )
    name = _display_name(doc)
    ids = list(member_ids(given))
    group_id = str(uuid.uuid4())
    now = utcnow()
    with scope.db.tenant(scope.tenant.id, write=True) as repo:
        known: Snapshots = {}
        _require_users(repo, ids, known)
        if not repo.groups.insert(
            group_id=group_id,
            display_name=name,
            external_id=doc.get("externalId"),
            now=now,
            doc=doc,
        ):
            raise Uniqueness(f"a group named {name!r} already exists")
        added = repo.groups.add_members(group_id, ids)
        row = _get_row(repo, group_id)
        found = [lifecycle.group_event(GROUP_CREATED, _ref(row))]
        found = _after_membership(repo, scope, row, added, [], found, known)
        lifecycle.emit(repo, found)
        return _render(repo, scope, row, related and bool(ids))


def get_group(scope: TenantScope, group_id: str, *, related: bool = True) -> Resource:
    if not related:
        # Entra's usual lookup (excludedAttributes=members): one statement.
        with scope.db.reads(scope.tenant.id) as reads:
            row = reads.group(group_id)
        return _found_group(scope, group_id, row)
    with scope.db.tenant(scope.tenant.id) as repo:
        return _render(repo, scope, _get_row(repo, group_id), related)


async def await_group(
    scope: TenantScope, group_id: str, *, related: bool = True
) -> Resource | None:
    """``get_group`` awaited on the event loop when one statement answers it (without the
    members); None when it needs the unit of work."""
    if related:
        return None
    async with scope.db.awaited_reads(scope.tenant.id) as reads:
        row = await reads.group(group_id)
    return _found_group(scope, group_id, row)


def _found_group(scope: TenantScope, group_id: str, row: GroupRow | None) -> Resource:
    if row is None:
        raise GroupNotFound(f"Group {group_id} not found")
    return render_group(row, scope.base_url, None)


page_groups = listing.pager(
    GROUP,
    "members",
    lambda repo: repo.groups.page,
    lambda repo, ids: repo.groups.members_of(ids),
    render_group,
)
"""One page of groups for a list or search (see ``listing.Pager``)."""


def replace_group(
    scope: TenantScope,
    group_id: str,
    payload: dict[str, Any],
    *,
    if_match: str | None = None,
    related: bool = True,
) -> Resource:
    doc, given = normalize_resource(
        payload, GROUP, registered_extensions=scope.registered_extensions
    )
    name = _display_name(doc)
    ids = list(member_ids(given))
    with scope.db.tenant(scope.tenant.id, write=True) as repo:
        row = _get_row(repo, group_id)
        check_if_match(if_match, row.version)
        added: list[str] = []
        removed: list[str] = []
        known: Snapshots = {}
        if given is not None:
            # PUT replaces the member list; write only the difference.
            added, removed = _replace_members(repo, group_id, ids, known)
        found: list[NewEvent] = []
        if doc != row.doc:
            # PUT replaces the whole group: the last writer wins, by definition.
            repo.groups.update(
                group_id,
                None,
                display_name=name,
                external_id=doc.get("externalId"),
                now=utcnow(),
                doc=doc,
            )
            found = _after_rename(repo, scope, row, _get_row(repo, group_id), found)
        elif added or removed:
            repo.groups.bump(group_id, utcnow())
        after = _get_row(repo, group_id)
        found = _after_membership(repo, scope, after, added, removed, found, known)
        lifecycle.emit(repo, found)
        return _render(repo, scope, after, related)


def _replace_members(
    repo: TenantRepository, group_id: str, ids: list[str], known: Snapshots
) -> tuple[list[str], list[str]]:
    wanted = set(ids)
    current = repo.groups.member_ids(group_id)
    to_add = [i for i in ids if i not in current]
    to_remove = sorted(current - wanted)
    _require_users(repo, to_add, known)
    removed = repo.groups.remove_members(group_id, to_remove)
    added = repo.groups.add_members(group_id, to_add)
    return added, removed


def _apply_member_change(
    repo: TenantRepository, group_id: str, change: MemberChange, known: Snapshots
) -> tuple[list[str], list[str]]:
    """Apply one membership change as row writes; the ids (added, removed)."""
    if isinstance(change, AddMembers):
        ids = list(dict.fromkeys(change.ids))
        _require_users(repo, ids, known)
        return repo.groups.add_members(group_id, ids), []
    if isinstance(change, RemoveMembers):
        return [], repo.groups.remove_members(group_id, list(dict.fromkeys(change.ids)))
    if isinstance(change, RemoveAllMembers):
        return [], repo.groups.remove_all_members(group_id)
    if isinstance(change, ReplaceMembers):
        return _replace_members(repo, group_id, list(dict.fromkeys(change.ids)), known)
    assert isinstance(change, RemoveMembersWhere)
    # A filter on anything but value (display, type) is rare; evaluate it on
    # the member list in memory rather than teach SQL about member items.
    listed = repo.groups.members_of([group_id]).get(group_id, [])
    doomed = [
        m.id
        for m in listed
        if matches(
            change.filter,
            {"value": m.id, "display": m.display, "type": "User"},
            _MEMBERS_ATTRIBUTE,
        )
    ]
    return [], repo.groups.remove_members(group_id, doomed)


def patch_group(
    scope: TenantScope,
    group_id: str,
    operations: list[PatchOperation],
    *,
    if_match: str | None = None,
    related: bool = True,
    body: bool = False,
) -> Resource | None:
    """Apply a PATCH; returns the group only when ``body`` (else the caller answers 204)."""
    other_ops, member_changes = split_member_operations(operations)
    for _attempt in retry.attempts():
        try:
            with scope.db.tenant(scope.tenant.id, write=True) as repo:
                row = _get_row(repo, group_id)
                check_if_match(if_match, row.version)
                _patch_in_transaction(repo, scope, row, other_ops, member_changes)
                if not body:
                    return None
                return _render(repo, scope, _get_row(repo, group_id), related)
        except _LostRace:
            continue
    raise PreconditionFailed("the group kept changing; retry the request")


def _patch_in_transaction(
    repo: TenantRepository,
    scope: TenantScope,
    row: GroupRow,
    other_ops: list[PatchOperation],
    member_changes: list[MemberChange],
) -> None:
    result = apply_patch(row.doc, other_ops, GROUP) if other_ops else None
    doc_changed = result is not None and result.changed
    new_name = _display_name(result.doc) if result is not None and doc_changed else None
    # Net effect of the changes in request order (remove then re-add is no change).
    added: dict[str, None] = {}
    removed: dict[str, None] = {}
    known: Snapshots = {}
    for change in member_changes:
        now_added, now_removed = _apply_member_change(repo, row.id, change, known)
        for member in now_removed:
            if added.pop(member, 0) == 0:
                removed[member] = None
        for member in now_added:
            if removed.pop(member, 0) == 0:
                added[member] = None
    now = utcnow()
    found: list[NewEvent] = []
    if result is not None and new_name is not None:
        # The document changed: write it only over the version we read.
        if not repo.groups.update(
            row.id,
            row.version,
            display_name=new_name,
            external_id=result.doc.get("externalId"),
            now=now,
            doc=result.doc,
        ):
            raise _LostRace
        found = _after_rename(repo, scope, row, _get_row(repo, row.id), found)
    elif added or removed:
        # Membership rows alone commute with other writers: an atomic
        # increment is enough, no need to retry on a concurrent change.
        repo.groups.bump(row.id, now)
    found = _after_membership(repo, scope, row, list(added), list(removed), found, known)
    lifecycle.emit(repo, found)


def delete_group(scope: TenantScope, group_id: str, *, if_match: str | None = None) -> None:
    with scope.db.tenant(scope.tenant.id, write=True) as repo:
        row = _get_row(repo, group_id)
        check_if_match(if_match, row.version)
        mapped = repo.roles.group_is_mapped(group_id)
        former = sorted(repo.groups.member_ids(group_id)) if mapped else []
        repo.groups.delete(group_id)
        found = [lifecycle.group_event(GROUP_DELETED, _ref(row))]
        if former:
            found = lifecycle.recompute(repo, scope.settings, former, found)
        lifecycle.emit(repo, found)
