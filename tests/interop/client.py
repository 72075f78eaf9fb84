"""A SCIM client that sends what one IdP sends: its headers on every request."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx2 as httpx
from starlette.testclient import TestClient


class IdpClient:
    """Requests under one tenant's SCIM base, with a token and an IdP's headers."""

    def __init__(self, http: TestClient, base: str, token: str, headers: Mapping[str, str]) -> None:
        self.http = http
        self.base = base
        self.token = token
        self.headers = dict(headers)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        sent = {**self.headers, "Authorization": f"Bearer {self.token}", **(headers or {})}
        content = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        return self.http.request(method, self.base + path, content=content, headers=sent)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, body, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", path, body, **kwargs)

    def patch(self, path: str, *operations: dict[str, Any], **kwargs: Any) -> httpx.Response:
        body = {"schemas": [PATCH_OP], "Operations": list(operations)}
        return self.request("PATCH", path, body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)

    def created(self, path: str, body: Any) -> dict[str, Any]:
        """POST that must answer 201; the created resource."""
        response = self.post(path, body)
        assert response.status_code == 201, response.text
        found: dict[str, Any] = response.json()
        return found

    def fetch(self, path: str) -> dict[str, Any]:
        """GET that must answer 200; the body."""
        response = self.get(path)
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found


PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
