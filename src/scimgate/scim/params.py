"""Reading SCIM requests: JSON bodies within limits, query parameters, preconditions."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import anyio
import orjson
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scimgate.errors import InvalidSyntax, InvalidValue, PayloadTooLarge, RequestTimeout
from scimgate.model.projection import parse_attribute_list, project, wants
from scimgate.model.schemas import ResourceType
from scimgate.scim.audit import note_parsed_body
from scimgate.service.listing import ListQuery
from scimgate.service.scope import Limits


async def read_json_object(request: Request, limits: Limits) -> dict[str, Any]:
    """The request body as a JSON object.

    Any content type is read as JSON: RFC 7644 asks clients for
    ``application/scim+json`` but Google sends ``application/json`` and some
    clients send none. The size limit holds for chunked bodies too, and the
    whole body must arrive within ``limits.body_timeout_seconds`` (408 after).
    """
    kept: bytes | None = getattr(request.state, "scim_body", None)
    raw = await _read_body(request, limits) if kept is None else kept
    # Kept for a second run of the endpoint (scim.context.with_cached_token).
    request.state.scim_body = raw
    if not raw.strip():
        raise InvalidSyntax("the request body is empty")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidSyntax(f"the request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise InvalidSyntax("the request body must be a JSON object")
    note_parsed_body(request, body, len(raw))
    # PostgreSQL text and jsonb cannot hold U+0000; refuse it on both backends
    # alike. The byte search keeps the walk off the hot path.
    if b"\\u0000" in raw and _holds_nul(body):
        raise InvalidValue("strings may not contain the NUL character (U+0000)")
    return body


async def _read_body(request: Request, limits: Limits) -> bytes:
    limit = limits.max_payload_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the request body is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    # asyncio's own timeout, cheaper than an anyio cancel scope (bench/README.md,
    # "Figures behind the code"); the server runs on asyncio, and so does the test client.
    try:
        async with asyncio.timeout(limits.body_timeout_seconds):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"the request body is larger than {limit} bytes")
                chunks.append(chunk)
    except TimeoutError:
        raise RequestTimeout(
            f"the request body did not arrive within {limits.body_timeout_seconds:g} seconds"
        ) from None
    return b"".join(chunks)


# Past this much unread body a refused client is cut off rather than drained.
_DRAIN_LIMIT_BYTES = 64 * 1024 * 1024


class DrainRefusedBody:
    """ASGI wrapper: a 413 sent before the body is read is followed by reading the body.

    ``read_json_object`` refuses an oversized body as soon as it knows, often
    from ``Content-Length`` alone, and the client is usually still sending.
    Closing the socket with unread data makes the kernel answer with a reset,
    and the client may lose the 413 it was sent. So the 413 goes out at once,
    marked ``Connection: close``, and the rest of the body is read and thrown
    away (up to ``_DRAIN_LIMIT_BYTES`` or the body timeout) before the
    response is completed and the connection closed. A client that asked for
    ``100-continue`` has sent no body, so there is nothing to drain.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    @property
    def routes(self) -> Sequence[BaseRoute]:
        routes: Sequence[BaseRoute] = getattr(self.app, "routes", [])
        return routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body_ended = False
        draining = False

        async def receive_and_track() -> Message:
            nonlocal body_ended
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_ended = True
            return message

        async def send_then_drain(message: Message) -> None:
            nonlocal draining
            if message["type"] == "http.response.start":
                draining = message["status"] == 413 and not body_ended and not _expects(scope)
                if draining:
                    message = {**message, "headers": _closing(message.get("headers", []))}
            elif draining and not message.get("more_body", False):
                await send({**message, "more_body": True})
                await _drain(receive, scope["app"].state.limits.body_timeout_seconds)
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app(scope, receive_and_track, send_then_drain)


def _expects(scope: Scope) -> bool:
    return Headers(scope=scope).get("expect", "").lower() == "100-continue"


def _closing(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    kept = [(name, value) for name, value in headers if name.lower() != b"connection"]
    return [*kept, (b"connection", b"close")]


async def _drain(receive: Receive, timeout_seconds: float) -> None:
    left = _DRAIN_LIMIT_BYTES
    with anyio.move_on_after(timeout_seconds):
        while left > 0:
            message = await receive()
            if message["type"] != "http.request":
                return
            left -= len(message.get("body", b""))
            if not message.get("more_body", False):
                return


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


def _int(name: str, value: str | None) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise InvalidValue(f"{name} must be an integer") from None


@dataclass(frozen=True, slots=True)
class Shown:
    """What the client asked to see of a resource (RFC 7644 §3.9), read once per request."""

    attributes: list[str] | None
    excluded: list[str] | None
    asked: bool  # either parameter is present, even blank

    def wants(self, rt: ResourceType, name: str) -> bool:
        return wants(rt, self.attributes, self.excluded, name)

    def project(self, body: dict[str, Any], rt: ResourceType) -> dict[str, Any]:
        return project(body, rt, self.attributes, self.excluded)


def shown_params(request: Request) -> Shown:
    params = request.query_params
    return Shown(
        parse_attribute_list(params.get("attributes")),
        parse_attribute_list(params.get("excludedAttributes")),
        "attributes" in params or "excludedAttributes" in params,
    )


def list_query_from_params(request: Request) -> ListQuery:
    params = request.query_params
    shown = shown_params(request)
    return ListQuery(
        filter=params.get("filter"),
        sort_by=params.get("sortBy") or None,
        sort_order=params.get("sortOrder") or None,
        start_index=_int("startIndex", params.get("startIndex")) or 1,
        count=_int("count", params.get("count")),
        attributes=shown.attributes,
        excluded=shown.excluded,
    )


def _list_value(body: dict[str, Any], name: str) -> list[str] | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        return parse_attribute_list(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return parse_attribute_list(",".join(value))
    raise InvalidValue(f"{name} must be a list of attribute names")


def list_query_from_search(body: dict[str, Any]) -> ListQuery:
    """A SearchRequest body (RFC 7644 §3.4.3)."""
    lowered = {k.lower(): v for k, v in body.items() if isinstance(k, str)}
    filter_text = lowered.get("filter")
    if filter_text is not None and not isinstance(filter_text, str):
        raise InvalidValue("filter must be a string")
    sort_by = lowered.get("sortby")
    sort_order = lowered.get("sortorder")
    for name, value in (("sortBy", sort_by), ("sortOrder", sort_order)):
        if value is not None and not isinstance(value, str):
            raise InvalidValue(f"{name} must be a string")
    start_index = lowered.get("startindex", 1)
    count = lowered.get("count")
    for name, value in (("startIndex", start_index), ("count", count)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise InvalidValue(f"{name} must be an integer")
    normalized = {
        "attributes": lowered.get("attributes"),
        "excludedAttributes": lowered.get("excludedattributes"),
    }
    return ListQuery(
        filter=filter_text,
        sort_by=sort_by,
        sort_order=sort_order,
        start_index=start_index or 1,
        count=count,
        attributes=_list_value(normalized, "attributes"),
        excluded=_list_value(normalized, "excludedAttributes"),
    )
