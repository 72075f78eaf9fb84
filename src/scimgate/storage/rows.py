"""Rows as the storage layer hands them to services."""

from __future__ import annotations

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
