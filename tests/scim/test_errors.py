"""Every error the SCIM API gives is a SCIM Error (RFC 7644 §3.12), with the right status.

One table row per case: the request, the status and the scimType §3.12
assigns (None where §3.12 defines none). Placeholders in paths and bodies:
``<user>`` and ``<group>`` are ids of an existing user and group, ``<taken>``
that user's userName (``<TAKEN>`` upper-cased), ``<other>`` another user's id,
``<group-name>`` the group's displayName upper-cased.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tests.scim.contract import (
    BULK_REQUEST,
    PATCH_OP,
    ScimClient,
    assert_scim_error,
    patch_body,
)


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    body: Any  # a JSON value, raw bytes, or None for no body
    status: int
    scim_type: str | None
    id: str
    headers: dict[str, str] | None = None
    bug: str | None = None  # a known src bug: the row is a strict xfail...
    bug_backend: str | None = None  # ...on this backend only, or on both when None


def _op(**operation: Any) -> dict[str, Any]:
    return patch_body(operation)


case = Case


CASES = [
    # invalidSyntax: the body is no JSON object or no message of the expected kind.
    case("POST", "/Users", b'{"userName": ', 400, "invalidSyntax", id="truncated-json"),
    case("POST", "/Users", b"[1, 2]", 400, "invalidSyntax", id="json-array"),
    case("PUT", "/Users/<user>", b"", 400, "invalidSyntax", id="empty-put"),
    case("POST", "/Groups", b"\xff\xfe\x00", 400, "invalidSyntax", id="not-utf8"),
    case("PATCH", "/Users/<user>", {"schemas": [PATCH_OP]}, 400, "invalidSyntax",
         id="patch-without-operations"),
    case("PATCH", "/Users/<user>", {"Operations": {"op": "add"}}, 400, "invalidSyntax",
         id="patch-operations-not-a-list"),
    case("PATCH", "/Users/<user>", {"Operations": ["remove title"]}, 400, "invalidSyntax",
         id="patch-operation-not-an-object"),
    case("PATCH", "/Users/<user>",
         {"schemas": ["urn:example:Wrong"], "Operations": [{"op": "remove", "path": "title"}]},
         400, "invalidSyntax", id="patch-wrong-schema"),
    case("PATCH", "/Users/<user>", _op(op="frobnicate", path="title", value="x"), 400,
         "invalidSyntax", id="patch-unknown-op"),
    case("POST", "/Bulk", {"schemas": [BULK_REQUEST]}, 400, "invalidSyntax",
         id="bulk-without-operations"),
    case("POST", "/Users/.search", b"filter=userName", 400, "invalidSyntax",
         id="search-not-json"),
    # invalidFilter: GET, .search and PATCH path filters.
    case("GET", "/Users?filter=userName eq", None, 400, "invalidFilter", id="filter-no-value"),
    case("GET", '/Groups?filter=displayName zz "x"', None, 400, "invalidFilter",
         id="filter-unknown-operator"),
    case("GET", '/Users?filter=(userName eq "x"', None, 400, "invalidFilter",
         id="filter-unbalanced"),
    case("GET", '/Users?filter=nickname eq "x" or', None, 400, "invalidFilter",
         id="filter-dangling-or"),
    case("GET", '/Users?filter=noSuchAttribute eq "x"', None, 400, "invalidFilter",
         id="filter-unknown-attribute"),
    case("POST", "/Users/.search", {"filter": 'userName eq "x" and'}, 400, "invalidFilter",
         id="search-bad-filter"),
    case("POST", "/.search", {"filter": "userName eq"}, 400, "invalidFilter",
         id="root-search-bad-filter"),
    case("PATCH", "/Users/<user>", _op(op="remove", path='emails[type zz "work"]'), 400,
         "invalidFilter", id="patch-path-bad-filter"),
    # invalidPath
    case("PATCH", "/Users/<user>", _op(op="replace", path="noSuchAttribute", value="x"), 400,
         "invalidPath", id="patch-unknown-attribute"),
    case("PATCH", "/Users/<user>", _op(op="replace", path="name..givenName", value="x"), 400,
         "invalidPath", id="patch-malformed-path"),
    case("PATCH", "/Users/<user>", _op(op="add", path="urn:example:ext:2.0:User:x", value="x"),
         400, "invalidPath", id="patch-unknown-urn"),
    # noTarget
    case("PATCH", "/Users/<user>", _op(op="remove"), 400, "noTarget",
         id="patch-remove-without-path"),
    case("PATCH", "/Users/<user>",
         _op(op="replace", path='emails[value co "nowhere"].type', value="home"), 400,
         "noTarget", id="patch-replace-filter-matching-nothing"),
    # mutability
    case("PATCH", "/Users/<user>", _op(op="replace", path="id", value="mine"), 400,
         "mutability", id="patch-id"),
    case("PATCH", "/Users/<user>", _op(op="replace", path="meta.created",
         value="2001-01-01T00:00:00Z"), 400, "mutability", id="patch-meta"),
    case("PATCH", "/Users/<user>", _op(op="add", path="groups", value=[{"value": "<group>"}]),
         400, "mutability", id="patch-user-groups"),
    case("PATCH", "/Groups/<group>",
         _op(op="replace", path='members[value eq "<user>"].display', value="x"), 400,
         "mutability", id="patch-member-display"),
    # invalidValue
    case("POST", "/Users", {"name": {"givenName": "No"}}, 400, "invalidValue",
         id="user-without-user-name"),
    case("POST", "/Users", {"userName": 42}, 400, "invalidValue", id="user-name-a-number"),
    case("POST", "/Users", {"userName": "x1", "active": 5}, 400, "invalidValue",
         id="active-a-number"),
    case("POST", "/Users", {"userName": "x2", "name": "Barbara"}, 400, "invalidValue",
         id="name-a-string"),
    case("POST", "/Users", {"userName": "x3", "emails": [{"value": "a", "primary": True},
         {"value": "b", "primary": True}]}, 400, "invalidValue", id="two-primary-emails"),
    case("POST", "/Users", {"userName": "x4", "meta": {"created": 5}, "emails": "a@b.c"}, 400,
         "invalidValue", id="emails-not-an-array"),
    case("POST", "/Groups", {"members": []}, 400, "invalidValue", id="group-without-name"),
    case("POST", "/Groups", {"displayName": "G", "members": [{"value": "nobody"}]}, 400,
         "invalidValue", id="member-unknown"),
    case("POST", "/Groups", {"displayName": "G", "members": [{"type": "User"}]}, 400,
         "invalidValue", id="member-without-value"),
    case("PUT", "/Users/<user>", {"displayName": "no userName"}, 400, "invalidValue",
         id="put-without-user-name"),
    case("PATCH", "/Users/<user>", _op(op="replace", path="active", value=5), 400,
         "invalidValue", id="patch-active-a-number"),
    case("PATCH", "/Users/<user>", _op(op="add", path="title"), 400, "invalidValue",
         id="patch-add-without-value"),
    case("PATCH", "/Users/<user>", _op(op="remove", path="userName"), 400, "invalidValue",
         id="patch-remove-required-user-name"),
    case("GET", "/Users?count=ten", None, 400, "invalidValue", id="count-not-a-number"),
    case("GET", "/Users?startIndex=1.5", None, 400, "invalidValue", id="start-index-not-int"),
    case("GET", "/Users?sortOrder=sideways", None, 400, "invalidValue", id="bad-sort-order"),
    case("POST", "/Bulk", {"failOnErrors": "all", "Operations": []}, 400, "invalidValue",
         id="bulk-fail-on-errors-not-int"),
    # 404: no such resource or endpoint.
    case("GET", "/Users/00919288221112222", None, 404, None, id="get-unknown-user"),
    case("PUT", "/Groups/missing", {"displayName": "x"}, 404, None, id="put-unknown-group"),
    case("PATCH", "/Groups/missing", _op(op="remove", path="members"), 404, None,
         id="patch-unknown-group"),
    case("DELETE", "/Users/missing", None, 404, None, id="delete-unknown-user"),
    case("GET", "/Printers", None, 404, None, id="unknown-endpoint"),
    # 405, 409, 412, 413, 501
    case("POST", "/ServiceProviderConfig", {}, 405, None, id="write-discovery"),
    case("POST", "/Users", {"userName": "<taken>"}, 409, "uniqueness", id="duplicate-user"),
    case("POST", "/Users", {"userName": "<TAKEN>"}, 409, "uniqueness",
         id="duplicate-user-upper-case"),
    case("PATCH", "/Users/<other>", _op(op="replace", path="userName", value="<taken>"), 409,
         "uniqueness", id="patch-onto-taken-user-name"),
    case("POST", "/Groups", {"displayName": "<group-name>"}, 409, "uniqueness",
         id="duplicate-group"),
    case("PUT", "/Users/<user>", {"userName": "<taken>"}, 412, None,
         headers={"If-Match": 'W/"999"'}, id="stale-if-match"),
    case("PATCH", "/Users/<user>",
         {"Operations": [{"op": "add", "path": "title", "value": "x"}] * 1001}, 413, None,
         id="too-many-patch-operations"),
    case("POST", "/Bulk", {"Operations": [{"method": "DELETE", "path": "/Users/x"}] * 1001},
         413, None, id="too-many-bulk-operations"),
    case("POST", "/Users", {"userName": "big", "nickName": "x" * 1_100_000}, 413, None,
         id="body-too-large"),
    case("GET", "/Me", None, 501, None, id="me"),
    case("DELETE", "/Me", None, 501, None, id="delete-me"),
]  # fmt: skip


def _fill(text: str, world: dict[str, str]) -> str:
    for key, value in world.items():
        text = text.replace(f"<{key}>", value)
    return text


def _world(scim: ScimClient) -> dict[str, str]:
    """The resources the table's placeholders name."""
    user = scim.make_user()
    other = scim.make_user()
    group = scim.make_group(members=[user])
    return {
        "user": user["id"],
        "other": other["id"],
        "group": group["id"],
        "taken": user["userName"],
        "TAKEN": user["userName"].upper(),
        "group-name": group["displayName"].upper(),
    }


def _everything(scim: ScimClient) -> Any:
    return scim.post("/.search", {"count": 100}).json()


def _check(scim: ScimClient, world: dict[str, str], c: Case, before: Any) -> None:
    """Send ``c``; assert its error, and that the tenant still holds ``before``."""
    if isinstance(c.body, bytes) or c.body is None:
        content = c.body
    else:
        content = _fill(json.dumps(c.body), world).encode()
    response = scim.request(
        c.method,
        _fill(c.path, world),
        content=content,
        headers={"Content-Type": "application/scim+json", **(c.headers or {})},
    )
    assert response.status_code != 500, response.text
    assert_scim_error(response, c.status, c.scim_type)
    if c.scim_type is None:
        assert "scimType" not in response.json()
    assert _everything(scim) == before, "the failed request changed the tenant"


def test_every_error_is_a_scim_error_with_its_status_and_scim_type(scim: ScimClient) -> None:
    """The whole table in one test: a fixture per row would cost more than the rows."""
    world = _world(scim)
    before = _everything(scim)
    failures: list[str] = []
    for c in CASES:
        assert not c.bug, "a row marked as a known bug needs a strict xfail test of its own"
        try:
            _check(scim, world, c, before)
        except AssertionError as exc:
            failures.append(f"{c.id}: {c.method} {c.path}: {exc}")
            before = _everything(scim)
    assert not failures, "\n".join(failures)
