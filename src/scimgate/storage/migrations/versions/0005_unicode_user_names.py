"""fold stored userNames by the Unicode rule of model/identity.py

Revision ID: 0005_unicode_user_names
Revises: 0004
Create Date: 2026-12-06 23:40:00.000000

``user_name_lower`` held ``str.lower()`` of the name; it now holds
``fold_user_name`` of it (trimmed, format characters dropped, width-mapped,
lower-cased, NFC). Names that were distinct before may fold to one: the
upgrade then stops and lists them, because merging two users is the
operator's call. ``display_name_lower`` keeps its rule and is not touched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op

from scimgate.model.identity import fold_user_name

revision = "0005_unicode_user_names"
down_revision = "0004"
branch_labels = None
depends_on = None

_BATCH = 1000
_PAGE = sa.text(
    "SELECT id, tenant_id, user_name, user_name_lower FROM users"
    " WHERE id > :after ORDER BY id LIMIT :limit"
)
_HOLDER = sa.text(
    "SELECT id, user_name FROM users WHERE tenant_id = :tenant AND user_name_lower = :folded"
)
_SET = sa.text("UPDATE users SET user_name_lower = :folded WHERE id = :id")


class UserNameCollision(RuntimeError):
    """Two users of one tenant share a name under the new rule."""


def _rows(conn: sa.Connection) -> Iterator[Any]:
    after = ""
    while True:
        page = conn.execute(_PAGE, {"after": after, "limit": _BATCH}).all()
        yield from page
        if len(page) < _BATCH:
            return
        after = page[-1].id


def _changes(conn: sa.Connection, fold: Callable[[str], str]) -> dict[str, tuple[str, str]]:
    """id -> (tenant id, new value) for every row whose stored value moves."""
    return {
        row.id: (row.tenant_id, fold(row.user_name))
        for row in _rows(conn)
        if fold(row.user_name) != row.user_name_lower
    }


def _collisions(conn: sa.Connection, changes: dict[str, tuple[str, str]]) -> list[str]:
    # Stored values are unique per tenant, so a clash needs a row that moves:
    # against another moving row, or against a row that keeps its value.
    owners: dict[tuple[str, str], list[str]] = {}
    for user_id, key in changes.items():
        owners.setdefault(key, []).append(user_id)
    found = []
    for (tenant_id, folded), ids in owners.items():
        held = conn.execute(_HOLDER, {"tenant": tenant_id, "folded": folded}).all()
        clash = sorted({*ids, *(row.id for row in held if row.id not in changes)})
        if len(clash) > 1:
            found.append(f"tenant {tenant_id}, {folded!r}: users {', '.join(clash)}")
    return found


def _refold(fold: Callable[[str], str]) -> None:
    conn = op.get_bind()
    changes = _changes(conn, fold)
    clashes = _collisions(conn, changes)
    if clashes:
        raise UserNameCollision(
            "these users would share a userName under the new matching rule; rename or"
            " delete all but one of each, then upgrade again:\n  " + "\n  ".join(clashes)
        )
    # Through a value no name folds to first, so a row taking a value another
    # row is giving up never meets the unique index half-way.
    for user_id in changes:
        conn.execute(_SET, {"folded": f"\x01{user_id}", "id": user_id})
    for user_id, (_, folded) in changes.items():
        conn.execute(_SET, {"folded": folded, "id": user_id})


def upgrade() -> None:
    _refold(fold_user_name)


def downgrade() -> None:
    _refold(str.lower)
