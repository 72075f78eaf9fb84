"""Rows as the storage layer hands them to services."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class UserRow:
    id: str
    user_name: str
    external_id: str | None
    active: bool
    created: datetime
    last_modified: datetime
    version: int
    doc: dict[str, Any]
    enabled: bool = True
    deactivation_reason: str | None = None

    def snapshot(self) -> dict[str, Any]:
        """The user as event payloads show it."""
        return user_snapshot(
            (
                self.id,
                self.user_name,
                self.external_id,
                self.doc.get("displayName"),
                self.active,
                self.enabled,
                self.deactivation_reason,
            )
        )


def user_snapshot(row: Sequence[Any]) -> dict[str, Any]:
    """Event payload shape of a user from (id, user_name, external_id, display_name,
    active, enabled, deactivation_reason); SQLite gives booleans as 0/1."""
    return {
        "id": row[0],
        "userName": row[1],
        "externalId": row[2],
        "displayName": row[3],
        "active": bool(row[4]),
        "enabled": bool(row[5]),
        "deactivationReason": row[6],
    }


@dataclass(frozen=True, slots=True)
class GroupRow:
    id: str
    display_name: str
    external_id: str | None
    created: datetime
    last_modified: datetime
    version: int
    doc: dict[str, Any]


@dataclass(frozen=True, slots=True)
class MemberRef:
    """One side of a membership with the other side's display name."""

    id: str
    display: str | None


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list: the rows and how many match in all."""

    total: int
    rows: list[Any]
