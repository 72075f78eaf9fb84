"""Users (RFC 7644 §3.3 create, §3.4.1 get, §3.5.1 replace, §3.5.2 modify, §3.6 delete)."""

from __future__ import annotations

import uuid
from typing import Any

from scimgate.errors import InvalidValue, NotFound, PreconditionFailed, Uniqueness
from scimgate.model.patch import PatchOperation, apply_patch
from scimgate.model.schemas import USER
from scimgate.model.validation import normalize_resource
from scimgate.service.clock import utcnow
from scimgate.service.resources import Resource, check_if_match, render_user
from scimgate.service.scope import TenantScope
from scimgate.storage.repository import TenantRepository
from scimgate.storage.rows import UserRow

# Optimistic concurrency: a PATCH or PUT that lost a race re-reads and re-applies.
_ATTEMPTS = 5


class UserNotFound(NotFound):
    default_detail = "User not found"


def _columns(doc: dict[str, Any]) -> dict[str, Any]:
    user_name = doc.get("userName")
    if not isinstance(user_name, str) or not user_name.strip():
        raise InvalidValue("userName is required")
    active = doc.get("active", True)
    return {
        "user_name": user_name,
        "external_id": doc.get("externalId"),
        "display_name": doc.get("displayName"),
        "active": bool(active),
    }


def _render(repo: TenantRepository, scope: TenantScope, row: UserRow, groups: bool) -> Resource:
    memberships = repo.users.groups_of([row.id]).get(row.id) if groups else None
    return render_user(row, scope.base_url, memberships)


def _get_row(repo: TenantRepository, user_id: str) -> UserRow:
    row = repo.users.get(user_id)
    if row is None:
        raise UserNotFound(f"User {user_id} not found")
    return row


def create_user(scope: TenantScope, payload: dict[str, Any], *, groups: bool = True) -> Resource:
    doc, _ = normalize_resource(payload, USER, registered_extensions=scope.registered_extensions)
    # A new user without "active" is active; say so in the stored resource.
    doc.setdefault("active", True)
    columns = _columns(doc)
    user_id = str(uuid.uuid4())
    now = utcnow()
    with scope.db.tenant(scope.tenant.id, write=True) as repo:
        if not repo.users.insert(user_id=user_id, now=now, doc=doc, **columns):
            raise Uniqueness(f"userName {columns['user_name']!r} is already taken")
        row = UserRow(
            id=user_id,
            user_name=columns["user_name"],
            external_id=columns["external_id"],
            active=columns["active"],
            created=now,
            last_modified=now,
            version=1,
            doc=doc,
        )
        # A new user belongs to no group yet.
        return render_user(row, scope.base_url, None)


def get_user(scope: TenantScope, user_id: str, *, groups: bool = True) -> Resource:
    with scope.db.tenant(scope.tenant.id) as repo:
        return _render(repo, scope, _get_row(repo, user_id), groups)


def replace_user(
    scope: TenantScope,
    user_id: str,
    payload: dict[str, Any],
    *,
    if_match: str | None = None,
    groups: bool = True,
) -> Resource:
    doc, _ = normalize_resource(payload, USER, registered_extensions=scope.registered_extensions)
    for _attempt in range(_ATTEMPTS):
        with scope.db.tenant(scope.tenant.id, write=True) as repo:
            row = _get_row(repo, user_id)
            check_if_match(if_match, row.version)
            new_doc = dict(doc)
            # PUT without "active" keeps the current state: an IdP that leaves
            # it out (OneLogin templates, Ping) must not reactivate anyone.
            new_doc.setdefault("active", row.active)
            if new_doc == row.doc:
                return _render(repo, scope, row, groups)
            updated = _write(repo, row, new_doc)
            if updated is not None:
                return _render(repo, scope, updated, groups)
    raise PreconditionFailed("the user kept changing; retry the request")


def patch_user(
    scope: TenantScope,
    user_id: str,
    operations: list[PatchOperation],
    *,
    if_match: str | None = None,
    groups: bool = True,
) -> Resource:
    for _attempt in range(_ATTEMPTS):
        with scope.db.tenant(scope.tenant.id, write=True) as repo:
            row = _get_row(repo, user_id)
            check_if_match(if_match, row.version)
            result = apply_patch(row.doc, operations, USER)
            if not result.changed:
                return _render(repo, scope, row, groups)
            updated = _write(repo, row, result.doc)
            if updated is not None:
                return _render(repo, scope, updated, groups)
    raise PreconditionFailed("the user kept changing; retry the request")


def _write(repo: TenantRepository, row: UserRow, doc: dict[str, Any]) -> UserRow | None:
    """Store ``doc`` as the next version of ``row``; None if another writer got there first."""
    columns = _columns(doc)
    now = utcnow()
    if not repo.users.update(row.id, row.version, now=now, doc=doc, **columns):
        return None
    return UserRow(
        id=row.id,
        user_name=columns["user_name"],
        external_id=columns["external_id"],
        active=columns["active"],
        created=row.created,
        last_modified=now,
        version=row.version + 1,
        doc=doc,
    )


def delete_user(scope: TenantScope, user_id: str, *, if_match: str | None = None) -> None:
    with scope.db.tenant(scope.tenant.id, write=True) as repo:
        row = _get_row(repo, user_id)
        check_if_match(if_match, row.version)
        repo.users.delete(user_id, utcnow())
