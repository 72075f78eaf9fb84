"""Rendering stored rows as SCIM resources (RFC 7643 §3.1 meta, §4.1.2 groups, §4.2 members)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scimgate.errors import PreconditionFailed
from scimgate.model.schemas import GROUP_SCHEMA, USER_SCHEMA
from scimgate.storage.rows import GroupRow, MemberRef, UserRow
from scimgate.storage.types import format_timestamp


@dataclass(frozen=True, slots=True)
class Resource:
    """A rendered resource and what the HTTP layer needs for its headers."""

    id: str
    version: int
    body: dict[str, Any]

    @property
    def etag(self) -> str:
        return etag_for(self.version)

    @property
    def location(self) -> str:
        return str(self.body["meta"]["location"])


def etag_for(version: int) -> str:
    return f'W/"{version}"'


def check_if_match(if_match: str | None, version: int) -> None:
    """RFC 7232 §3.1 as SCIM uses it (RFC 7644 §3.14): weak comparison, ``*`` matches any."""
    if if_match is None:
        return
    current = str(version)
    for tag in if_match.split(","):
        tag = tag.strip()
        if tag == "*":
            return
        if tag.startswith("W/"):
            tag = tag[2:]
        if tag.strip('"') == current:
            return
    raise PreconditionFailed(f"If-Match {if_match} does not match the current version {version}")


def matches_etag(if_none_match: str | None, version: int) -> bool:
    """Whether ``If-None-Match`` names the current version (then GET answers 304)."""
    if if_none_match is None:
        return False
    try:
        check_if_match(if_none_match, version)
    except PreconditionFailed:
        return False
    return True


def _schemas(core: str, doc: dict[str, Any]) -> list[str]:
    schemas = [core]
    for key in doc:
        if key.startswith("urn:"):
            schemas.append(key)
    return schemas


def _group_refs(groups: list[MemberRef], base_url: str) -> list[dict[str, Any]]:
    return [
        {"value": g.id, "$ref": f"{base_url}/Groups/{g.id}", "display": g.display, "type": "direct"}
        for g in groups
    ]


def with_groups(user: Resource, groups: list[MemberRef] | None, base_url: str) -> Resource:
    """``user`` (rendered without groups) with its groups, as ``render_user`` would give it."""
    if not groups:
        return user
    body = {k: v for k, v in user.body.items() if k != "meta"}
    body["groups"] = _group_refs(groups, base_url)
    body["meta"] = user.body["meta"]
    return Resource(user.id, user.version, body)


def render_user(row: UserRow, base_url: str, groups: list[MemberRef] | None) -> Resource:
    location = f"{base_url}/Users/{row.id}"
    body: dict[str, Any] = {"schemas": _schemas(USER_SCHEMA, row.doc), "id": row.id}
    body.update(row.doc)
    if groups:
        body["groups"] = _group_refs(groups, base_url)
    body["meta"] = {
        "resourceType": "User",
        "created": format_timestamp(row.created),
        "lastModified": format_timestamp(row.last_modified),
        "location": location,
        "version": etag_for(row.version),
    }
    return Resource(row.id, row.version, body)


def render_group(row: GroupRow, base_url: str, members: list[MemberRef] | None) -> Resource:
    location = f"{base_url}/Groups/{row.id}"
    body: dict[str, Any] = {"schemas": _schemas(GROUP_SCHEMA, row.doc), "id": row.id}
    body.update(row.doc)
    if members:
        body["members"] = [
            {
                "value": m.id,
                "$ref": f"{base_url}/Users/{m.id}",
                "display": m.display,
                "type": "User",
            }
            if m.display is not None
            else {"value": m.id, "$ref": f"{base_url}/Users/{m.id}", "type": "User"}
            for m in members
        ]
    body["meta"] = {
        "resourceType": "Group",
        "created": format_timestamp(row.created),
        "lastModified": format_timestamp(row.last_modified),
        "location": location,
        "version": etag_for(row.version),
    }
    return Resource(row.id, row.version, body)
