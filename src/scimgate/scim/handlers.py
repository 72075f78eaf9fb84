"""Turning exceptions into SCIM Error responses (RFC 7644 §3.12), in one place."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from scimgate.errors import RateLimited, RequestTimeout, ScimgateError, Unauthorized
from scimgate.scim.responses import ScimResponse, error_body

logger = logging.getLogger("scimgate.scim")


def scim_error_response(exc: ScimgateError) -> ScimResponse:
    headers: dict[str, str] = {}
    if isinstance(exc, Unauthorized):
        headers["WWW-Authenticate"] = 'Bearer realm="scimgate"'
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, RequestTimeout):  # the rest of the body may never come: hang up
        headers["Connection"] = "close"
    return ScimResponse(
        error_body(exc.status, exc.detail, exc.scim_type), exc.status, headers=headers
    )


async def handle_scimgate_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ScimgateError)
    return scim_error_response(exc)


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return ScimResponse(error_body(exc.status_code, exc.detail or "Error"), exc.status_code)


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    # Never a bare 500 page: the client still gets a SCIM Error body.
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return ScimResponse(error_body(500, "Internal server error"), 500)
