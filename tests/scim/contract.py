"""The HTTP contract suite's client and checks: one tenant's SCIM API, spoken as an IdP would."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import httpx2
from starlette.testclient import TestClient

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
BULK_REQUEST = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
BULK_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
SCIM_JSON = "application/scim+json"
PUBLIC_BASE = "https://scim.example.test/scim/v2"

# The ids RFC 7644's examples use; samples are stored with them and the
# tests swap in the ids the server handed out.
BJENSEN = "2819c223-7f76-453a-919d-413861904646"
JSMITH = "08e1d05d-121c-4561-8b96-473d93df9210"
SAMPLE_GROUP = "acbf3ae7-8463-4692-b4fd-9b4da3f908ce"

_SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "rfc7644"
_UNSET: Any = object()


def rfc_sample(name: str, replacements: Mapping[str, str] | None = None) -> Any:
    """A request body from tests/samples/rfc7644, with the RFC's ids replaced."""
    text = (_SAMPLES / name).read_text(encoding="utf-8")
    for old, new in (replacements or {}).items():
        text = text.replace(old, new)
    return json.loads(text)


def patch_body(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def member(user: Mapping[str, Any]) -> dict[str, Any]:
    return {"value": user["id"]}


def assert_scim_json(response: httpx2.Response) -> None:
    assert response.headers["content-type"].startswith(SCIM_JSON), response.headers


def assert_scim_error(response: httpx2.Response, status: int, scim_type: str | None = None) -> None:
    """The response is a SCIM Error (RFC 7644 §3.12) with this status and scimType."""
    assert response.status_code == status, (response.status_code, response.text)
    assert_scim_json(response)
    body = response.json()
    assert body["schemas"] == [ERROR_SCHEMA]
    assert body["status"] == str(status)
    assert isinstance(body["detail"], str)
    assert body["detail"]
    if scim_type is not None:
        assert body.get("scimType") == scim_type, body


def assert_list_response(response: httpx2.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    assert_scim_json(response)
    body: dict[str, Any] = response.json()
    assert body["schemas"] == [LIST_RESPONSE]
    return body


def resources(response: httpx2.Response) -> list[dict[str, Any]]:
    """The Resources of a ListResponse; RFC 7644 §3.4.2 lets an empty one leave it out."""
    found: list[dict[str, Any]] = assert_list_response(response).get("Resources", [])
    return found


def ids_of(items: Iterable[Mapping[str, Any]]) -> list[str]:
    return [str(item["id"]) for item in items]


def member_ids(group: Mapping[str, Any]) -> set[str]:
    return {str(m["value"]) for m in group.get("members", [])}


class ScimClient:
    """HTTP calls under ``/scim/v2/{slug}`` carrying that tenant's bearer token."""

    def __init__(self, http: TestClient, slug: str, token: str) -> None:
        self.http = http
        self.slug = slug
        self.token = token
        self.base = f"/scim/v2/{slug}"
        self._serial = itertools.count(1)

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = _UNSET,
        content: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> httpx2.Response:
        sent = {"Authorization": f"Bearer {self.token}"}
        if json is not _UNSET:
            content = _dumps(json)
            sent["Content-Type"] = SCIM_JSON
        sent.update(headers or {})
        return self.http.request(
            method, self.base + path, content=content, headers=sent, params=params
        )

    def get(self, path: str, **kwargs: Any) -> httpx2.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any = _UNSET, **kwargs: Any) -> httpx2.Response:
        return self.request("POST", path, json=body, **kwargs)

    def put(self, path: str, body: Any = _UNSET, **kwargs: Any) -> httpx2.Response:
        return self.request("PUT", path, json=body, **kwargs)

    def patch(self, path: str, body: Any = _UNSET, **kwargs: Any) -> httpx2.Response:
        return self.request("PATCH", path, json=body, **kwargs)

    def patch_ops(self, path: str, *operations: dict[str, Any], **kwargs: Any) -> httpx2.Response:
        return self.patch(path, patch_body(*operations), **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx2.Response:
        return self.request("DELETE", path, **kwargs)

    def fetch(self, path: str, **kwargs: Any) -> dict[str, Any]:
        """GET a resource that must exist."""
        response = self.get(path, **kwargs)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    # -- factories -------------------------------------------------------------

    def user_body(self, **overrides: Any) -> dict[str, Any]:
        n = next(self._serial)
        body: dict[str, Any] = {
            "schemas": [USER_SCHEMA],
            "userName": f"user{n:04d}@example.com",
            "name": {"givenName": f"Given{n}", "familyName": f"Family{n}"},
            "displayName": f"User {n}",
            "emails": [{"value": f"user{n:04d}@example.com", "type": "work", "primary": True}],
            "active": True,
        }
        body.update(overrides)
        return body

    def make_user(self, **overrides: Any) -> dict[str, Any]:
        """Create a user (201 required) and return the created resource."""
        response = self.post("/Users", self.user_body(**overrides))
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def make_group(
        self,
        display_name: str | None = None,
        members: Iterable[Mapping[str, Any]] = (),
        **overrides: Any,
    ) -> dict[str, Any]:
        """Create a group of ``members`` (user resources) and return it."""
        body: dict[str, Any] = {
            "schemas": [GROUP_SCHEMA],
            "displayName": display_name or f"Group {next(self._serial)}",
            "members": [member(m) for m in members],
        }
        body.update(overrides)
        response = self.post("/Groups", body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created


# The factory fixtures' types (see conftest.py).
MakeScim = Callable[[str], ScimClient]
MakeLimitedScim = Callable[..., ScimClient]
KnownBug = Callable[..., None]


def _dumps(value: Any) -> bytes:
    return json.dumps(value).encode()
