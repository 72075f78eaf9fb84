"""SCIM responses: ``application/scim+json`` bodies serialised with orjson."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response

from scimgate.model.schemas import ERROR_SCHEMA

SCIM_MEDIA_TYPE = "application/scim+json"


class ScimResponse(Response):
    """A SCIM body plus the headers a resource carries (ETag, Location)."""

    media_type = SCIM_MEDIA_TYPE

    def __init__(
        self,
        content: Any,
        status_code: int = 200,
        *,
        etag: str | None = None,
        location: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        extra = dict(headers or {})
        if etag is not None:
            extra["ETag"] = etag
        if location is not None:
            extra["Location"] = location
        super().__init__(content, status_code=status_code, headers=extra)

    def render(self, content: Any) -> bytes:
        if content is None:
            return b""
        return orjson.dumps(content)


def error_body(status: int, detail: str, scim_type: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"schemas": [ERROR_SCHEMA], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    return body
