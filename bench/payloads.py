"""The SCIM requests the bench sends, shaped like Okta's (see shared/reference/idp-behaviour.md)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import orjson

from httpload import BodyCheck, Endpoint, Request

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

_TOTAL_RESULTS = re.compile(rb'"totalResults"\s*:\s*(\d+)')
_ITEMS_PER_PAGE = re.compile(rb'"itemsPerPage"\s*:\s*(\d+)')


def user_name(run: str, number: int) -> str:
    return f"user{number:06d}.{run}@example.com"


def user_document(run: str, number: int, *, revision: int = 0) -> dict[str, Any]:
    """What Okta sends on create (``revision`` 0) or on a profile update (a full PUT)."""
    name = user_name(run, number)
    family = f"Family{number}" if revision == 0 else f"Family{number}-r{revision}"
    return {
        "schemas": [USER_SCHEMA],
        "userName": name,
        "name": {"givenName": "Given", "familyName": family},
        "emails": [{"value": name, "type": "work", "primary": True}],
        "displayName": f"Given {family}",
        "externalId": f"00u{run}{number:08d}",
        "active": True,
    }


def group_document(run: str, number: int) -> dict[str, Any]:
    return {"schemas": [GROUP_SCHEMA], "displayName": f"Group {number} {run}", "members": []}


def _patch(*operations: dict[str, Any]) -> bytes:
    return orjson.dumps({"schemas": [PATCH_SCHEMA], "Operations": list(operations)})


DEACTIVATE = _patch({"op": "replace", "value": {"active": False}})


def add_members(member_ids: list[str]) -> bytes:
    return _patch({"op": "add", "path": "members", "value": [{"value": m} for m in member_ids]})


def remove_member(member_id: str) -> bytes:
    return _patch({"op": "remove", "path": f'members[value eq "{member_id}"]'})


class Requests:
    """Builds the serialised requests of one server, under its SCIM base path."""

    def __init__(self, endpoint: Endpoint, base_path: str) -> None:
        self._endpoint = endpoint
        self._base = base_path

    def create_user(self, document: dict[str, Any]) -> Request:
        return self._endpoint.request("POST", f"{self._base}/Users", orjson.dumps(document))

    def get_user(self, user_id: str) -> Request:
        return self._endpoint.request("GET", f"{self._base}/Users/{user_id}")

    def filter_user_name(self, name: str) -> Request:
        expression = quote(f'userName eq "{name}"', safe="")
        return self._endpoint.request("GET", f"{self._base}/Users?filter={expression}")

    def list_page(self, start_index: int, count: int) -> Request:
        target = f"{self._base}/Users?startIndex={start_index}&count={count}"
        return self._endpoint.request("GET", target)

    def replace_user(self, user_id: str, document: dict[str, Any]) -> Request:
        target = f"{self._base}/Users/{user_id}"
        return self._endpoint.request("PUT", target, orjson.dumps(document))

    def patch_user(self, user_id: str, body: bytes) -> Request:
        return self._endpoint.request("PATCH", f"{self._base}/Users/{user_id}", body)

    def delete_user(self, user_id: str) -> Request:
        return self._endpoint.request("DELETE", f"{self._base}/Users/{user_id}")

    def create_group(self, document: dict[str, Any]) -> Request:
        return self._endpoint.request("POST", f"{self._base}/Groups", orjson.dumps(document))

    def patch_group(self, group_id: str, body: bytes) -> Request:
        return self._endpoint.request("PATCH", f"{self._base}/Groups/{group_id}", body)

    def get_group_without_members(self, group_id: str) -> Request:
        target = f"{self._base}/Groups/{group_id}?excludedAttributes=members"
        return self._endpoint.request("GET", target)


def resource_id(body: bytes) -> str:
    """The ``id`` of a created resource (parsed after the phase, outside its timing)."""
    parsed = orjson.loads(body)
    found = parsed.get("id") if isinstance(parsed, dict) else None
    if not isinstance(found, str):
        raise ValueError(f"no id in {body[:120]!r}")
    return found


def expect_total(total: int) -> BodyCheck:
    """A ListResponse must report ``total`` results: a filter that finds nothing is no hit."""

    def check(body: bytes) -> str | None:
        found = _TOTAL_RESULTS.search(body)
        if found is None or int(found.group(1)) != total:
            return f"totalResults != {total}"
        return None

    return check


def expect_page(count: int) -> BodyCheck:
    def check(body: bytes) -> str | None:
        found = _ITEMS_PER_PAGE.search(body)
        if found is None or int(found.group(1)) != count:
            return f"itemsPerPage != {count}"
        return None

    return check
