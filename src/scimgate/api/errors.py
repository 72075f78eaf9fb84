"""Turning exceptions into the host API's problem bodies ``{"error": code, "detail": ...}``.

The code is the snake_case name of the nearest class in ``scimgate.errors``
(``not_found``, ``invalid_value``, ``uniqueness``, ``conflict``, ...), so it
stays stable when a service raises a more specific subclass. Malformed
requests that FastAPI rejects before any service runs become
``invalid_request`` with status 422.
"""

from __future__ import annotations

import logging
import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from scimgate import errors
from scimgate.errors import RateLimited, ScimgateError, Unauthorized

logger = logging.getLogger("scimgate.api")

_CAMEL_BOUNDARY = re.compile(r"(?<!^)(?=[A-Z])")
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
    503: "unavailable",
}


def error_code(exc: ScimgateError) -> str:
    for cls in type(exc).__mro__:
        if cls is ScimgateError:
            break
        if cls.__module__ == errors.__name__:
            return _CAMEL_BOUNDARY.sub("_", cls.__name__).lower()
    return _HTTP_CODES.get(exc.status, "error")


def problem(
    status: int, code: str, detail: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": code, "detail": detail}, status, headers=headers)


async def _scimgate_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ScimgateError)
    headers: dict[str, str] = {}
    if isinstance(exc, Unauthorized):
        headers["WWW-Authenticate"] = 'Bearer realm="scimgate-api"'
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    return problem(exc.status, error_code(exc), exc.detail, headers)


def _where(location: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in location)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    found = exc.errors()
    messages = [f"{_where(tuple(e.get('loc', ())))}: {e.get('msg', 'invalid')}" for e in found[:5]]
    return problem(422, "invalid_request", "; ".join(messages) or "invalid request")


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "error")
    return problem(exc.status_code, code, str(exc.detail), dict(exc.headers or {}))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(500, "internal", "Internal server error")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ScimgateError, _scimgate_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
