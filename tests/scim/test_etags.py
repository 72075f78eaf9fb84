"""Versions over HTTP: ETag, If-Match and If-None-Match (RFC 7644 §3.14)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.scim.contract import ScimClient, assert_scim_error, patch_body

STALE = 'W/"999"'


def _resource(scim: ScimClient, kind: str) -> tuple[str, dict[str, Any]]:
    if kind == "Users":
        user = scim.make_user(title="Boss")
        return f"/Users/{user['id']}", user
    group = scim.make_group("Staff", members=[scim.make_user()])
    return f"/Groups/{group['id']}", group


def _write(scim: ScimClient, method: str, kind: str, path: str, etag: str) -> Any:
    headers = {"If-Match": etag}
    if method == "DELETE":
        return scim.delete(path, headers=headers)
    if method == "PUT":
        body = {"userName": "renamed@example.com"} if kind == "Users" else {"displayName": "New"}
        return scim.put(path, body, headers=headers)
    if kind == "Users":
        op = {"op": "replace", "path": "title", "value": "Intern"}
    else:
        op = {"op": "remove", "path": "members"}
    return scim.patch(path, patch_body(op), headers=headers)


@pytest.mark.parametrize("kind", ["Users", "Groups"])
def test_a_stale_if_match_is_412_and_nothing_is_written(scim: ScimClient, kind: str) -> None:
    path, resource = _resource(scim, kind)
    for method in ("PUT", "PATCH", "DELETE"):
        assert_scim_error(_write(scim, method, kind, path, STALE), 412)
        assert scim.fetch(path) == resource, method


@pytest.mark.parametrize("kind", ["Users", "Groups"])
def test_a_current_if_match_lets_the_write_through(scim: ScimClient, kind: str) -> None:
    path, _ = _resource(scim, kind)
    for method in ("PATCH", "PUT", "DELETE"):
        current = scim.get(path).headers["etag"]
        response = _write(scim, method, kind, path, current)
        assert response.status_code in (200, 204), (method, response.text)
    assert_scim_error(scim.get(path), 404)


def test_if_match_star_and_lists_of_tags_are_understood(scim: ScimClient) -> None:
    """RFC 7232 §3.1: ``*`` matches any version; a list matches if any tag does."""
    path, _ = _resource(scim, "Users")
    op = patch_body({"op": "replace", "path": "title", "value": "Intern"})
    assert scim.patch(path, op, headers={"If-Match": "*"}).status_code == 200
    current = scim.get(path).headers["etag"]
    both = f"{STALE}, {current}"
    op = patch_body({"op": "replace", "path": "title", "value": "Boss"})
    assert scim.patch(path, op, headers={"If-Match": both}).status_code == 200


def test_if_none_match_with_the_current_version_is_304(scim: ScimClient) -> None:
    path, user = _resource(scim, "Users")
    current = user["meta"]["version"]
    response = scim.get(path, headers={"If-None-Match": current})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == current
    response = scim.get(path, headers={"If-None-Match": STALE})
    assert response.status_code == 200
    assert response.json() == user


def test_every_write_moves_the_etag_and_meta_version_follows(scim: ScimClient) -> None:
    user = scim.make_user()
    group = scim.make_group()
    path = f"/Users/{user['id']}"
    tags = [user["meta"]["version"]]
    for response in (
        scim.put(path, {"userName": user["userName"], "title": "Boss"}),
        scim.patch(path, patch_body({"op": "replace", "path": "title", "value": "Intern"})),
    ):
        assert response.headers["etag"] == response.json()["meta"]["version"]
        tags.append(response.headers["etag"])
    add = patch_body({"op": "add", "path": "members", "value": [{"value": user["id"]}]})
    scim.patch(f"/Groups/{group['id']}", add)
    tags.append(scim.get(f"/Groups/{group['id']}").headers["etag"])
    assert tags[-1] != group["meta"]["version"]
    assert len(set(tags[:3])) == 3
    assert scim.get(path).headers["etag"] == tags[2]
