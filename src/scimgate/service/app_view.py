"""The host application's view of a tenant: users as the app sees them, groups, the event feed.

A user here is what the host app acts on: whether to let them in
(``enabled``, with the reason when not), their effective roles, their
profile (the tenant's attribute mapping applied to the SCIM document) and
their groups. Lists are keyset pages over ids with an opaque cursor, so a
client can walk 100,000 users at a constant cost per page and never sees a
user twice or misses one that existed when it started. A search (a prefix of
the userName or group displayName, case-insensitive) pages the same way in
name order, on the lowered name's unique index.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from scimgate.errors import InvalidValue
from scimgate.model.entities import Tenant, TenantSettings
from scimgate.model.identity import fold_user_name
from scimgate.service.clock import utcnow
from scimgate.service.profile import ProfileMapping, compile_mapping
from scimgate.service.users import UserNotFound
from scimgate.storage.database import Database
from scimgate.storage.events import StoredEvent as StoredEvent
from scimgate.storage.repository import TenantRepository
from scimgate.storage.rows import UserRow

MAX_PAGE = 500
DEFAULT_PAGE = 100
MAX_EVENTS_PAGE = 1000
# The largest event seq either database can store (a signed 64-bit integer).
MAX_SEQ = 2**63 - 1
MAX_SEARCH = 256
_MAX_CURSOR = 200
# A name cursor carries a lowered name (up to 512 characters of up to 4 UTF-8 bytes).
_MAX_NAME_CURSOR = 2800
# The longest cursor of any listing, for the API's parameter check.
MAX_CURSOR = _MAX_NAME_CURSOR

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class GroupRef:
    id: str
    display_name: str | None


@dataclass(frozen=True, slots=True)
class AppUser:
    id: str
    user_name: str
    external_id: str | None
    display_name: str | None
    name: dict[str, Any] | None
    emails: list[dict[str, Any]]
    enabled: bool  # the app-facing "active": may this user sign in
    scim_active: bool  # the IdP's own flag
    deactivation_reason: str | None
    roles: list[str]
    profile: dict[str, Any]
    groups: list[GroupRef]
    created: datetime
    updated: datetime


@dataclass(frozen=True, slots=True)
class AppGroup:
    id: str
    display_name: str
    external_id: str | None
    member_count: int
    created: datetime
    updated: datetime


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next: str | None  # the cursor of the following page; None on the last page


@dataclass(frozen=True, slots=True)
class EventPage:
    items: list[StoredEvent]
    next: int  # pass as ``after`` to continue; equals ``after`` when nothing is new


# -- cursors ---------------------------------------------------------------------


def encode_cursor(kind: str, last_id: str) -> str:
    raw = f"{kind}:{last_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str | None, max_length: int = _MAX_CURSOR) -> str | None:
    """The last key a cursor of ``kind`` points after; ``InvalidValue`` for anything else."""
    if cursor is None or cursor == "":
        return None
    if len(cursor) > max_length:
        raise InvalidValue("invalid cursor")
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidValue("invalid cursor") from None
    prefix, _, last_id = text.partition(":")
    if prefix != kind or not last_id:
        raise InvalidValue("invalid cursor")
    return last_id


def search_prefix(search: str | None, fold: Callable[[str], str] = str.lower) -> str | None:
    """The prefix to look for, folded as the stored names are (``fold_user_name`` for
    userNames, lower-cased for displayNames); None when ``search`` is empty or only spaces."""
    text = (search or "").strip()
    if not text:
        return None
    if len(text) > MAX_SEARCH:
        raise InvalidValue(f"search text must be at most {MAX_SEARCH} characters")
    if "\x00" in text:
        raise InvalidValue("search text cannot contain NUL")
    # Stored names are folded the same way (storage/users.py, storage/groups.py).
    return fold(text) or None


def check_limit(limit: int, maximum: int = MAX_PAGE) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= maximum:
        raise InvalidValue(f"limit must be between 1 and {maximum}")
    return limit


def parse_timestamp(text: str) -> datetime:
    """An ISO-8601 timestamp (``2026-01-31T12:00:00Z``, or a date); UTC when no offset."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidValue(f"{text!r} is not an ISO-8601 timestamp") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


# -- users -------------------------------------------------------------------------


def _mapping(repo: TenantRepository) -> ProfileMapping:
    return compile_mapping(TenantSettings.from_dict(repo.app.settings()).attribute_mapping)


def _users(repo: TenantRepository, rows: list[UserRow]) -> list[AppUser]:
    ids = [row.id for row in rows]
    roles = repo.app.roles_of(ids)
    groups = repo.users.groups_of(ids)
    mapping = _mapping(repo)
    found = []
    for row in rows:
        emails = row.doc.get("emails")
        name = row.doc.get("name")
        found.append(
            AppUser(
                id=row.id,
                user_name=row.user_name,
                external_id=row.external_id,
                display_name=row.doc.get("displayName"),
                name=name if isinstance(name, dict) else None,
                emails=emails if isinstance(emails, list) else [],
                enabled=row.enabled,
                scim_active=row.active,
                deactivation_reason=row.deactivation_reason,
                roles=list(roles.get(row.id, ())),
                profile=mapping.apply(row.doc),
                groups=[GroupRef(g.id, g.display) for g in groups.get(row.id, ())],
                created=row.created,
                updated=row.last_modified,
            )
        )
    return found


def list_users(
    db: Database,
    tenant: Tenant,
    *,
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE,
    active: bool | None = None,
    role: str | None = None,
    updated_since: datetime | None = None,
    search: str | None = None,
) -> Page[AppUser]:
    """One page of the tenant's users (soft-deleted ones excluded), ordered by id; with
    ``search``, those whose userName starts with it (any case), ordered by userName."""
    check_limit(limit)
    prefix = search_prefix(search, fold_user_name)
    filters: dict[str, Any] = {"enabled": active, "role": role, "updated_since": updated_since}
    with db.tenant(tenant.id) as repo:
        if prefix is None:
            rows = repo.app.users_page(decode_cursor("u", cursor), limit + 1, **filters)
        else:
            after = decode_cursor("un", cursor, _MAX_NAME_CURSOR)
            rows = repo.app.users_named(prefix, after, limit + 1, **filters)
        more = len(rows) > limit
        rows = rows[:limit]
        items = _users(repo, rows)
    if not more:
        return Page(items, None)
    last = rows[-1]
    return Page(
        items,
        encode_cursor("u", last.id)
        if prefix is None
        else encode_cursor("un", fold_user_name(last.user_name)),
    )


def get_user(db: Database, tenant: Tenant, user_id: str) -> AppUser:
    with db.tenant(tenant.id) as repo:
        row = repo.users.get(user_id)
        if row is None:
            raise UserNotFound(f"User {user_id} not found")
        return _users(repo, [row])[0]


# -- groups and events ---------------------------------------------------------------


def list_groups(
    db: Database,
    tenant: Tenant,
    *,
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE,
    search: str | None = None,
) -> Page[AppGroup]:
    """One page of the tenant's groups by id; with ``search``, those whose displayName
    starts with it (any case), by displayName."""
    check_limit(limit)
    prefix = search_prefix(search)
    with db.tenant(tenant.id) as repo:
        if prefix is None:
            rows = repo.app.groups_page(decode_cursor("g", cursor), limit + 1)
        else:
            after = decode_cursor("gn", cursor, _MAX_NAME_CURSOR)
            rows = repo.app.groups_named(prefix, after, limit + 1)
    more = len(rows) > limit
    items = [
        AppGroup(g.id, g.display_name, g.external_id, count, g.created, g.last_modified)
        for g, count in rows[:limit]
    ]
    if not more:
        return Page(items, None)
    last = items[-1]
    return Page(
        items,
        encode_cursor("g", last.id)
        if prefix is None
        else encode_cursor("gn", last.display_name.lower()),
    )


def list_events(
    db: Database,
    tenant: Tenant,
    *,
    after: int = 0,
    limit: int = DEFAULT_PAGE,
    types: list[str] | None = None,
    gap_seconds: float = 30.0,
) -> EventPage:
    """The tenant's events after sequence number ``after``, oldest first.

    The page stops below a sequence number that another transaction may still
    commit (see ``AppQueries.first_unsettled``); a hole older than
    ``gap_seconds`` is a rollback and no longer holds the feed back.
    """
    check_limit(limit, MAX_EVENTS_PAGE)
    if isinstance(after, bool) or not isinstance(after, int) or after < 0:
        raise InvalidValue("after must be a sequence number (0 for the start)")
    with db.tenant(tenant.id) as repo:
        found = repo.events.after(after, limit, types or None)
        if found:
            stale_before = utcnow() - timedelta(seconds=gap_seconds)
            cut = repo.app.first_unsettled(after, found[-1].seq, stale_before)
            if cut is not None:
                found = [e for e in found if e.seq < cut]
    return EventPage(found, found[-1].seq if found else after)
