"""Wraps the SCIM mount so that every request lands in the audit log, from one place.

The wrapper reads the status (and ``Location`` for creates) from the response
start message, and the caller and IdP from ``request.state``, where
``scim_context`` leaves them. Starlette turns exceptions into responses inside
each route, so an error reaches the wrapper as a SCIM Error body: the wrapper
keeps that body (errors are rare and small) and the recorder's thread reads
scimType and detail from it. An exception that still escapes is read directly.
The record carries the request id, for the log line written when the tenant
turns out not to exist (see service/audit.py). A route that parses its body
leaves the change summary in ``request.state`` too (``note_parsed_body``),
so that the body is parsed once; the wrapper keeps the raw body only for the
recorder to summarize when no route did.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from starlette.datastructures import Headers, QueryParams
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scimgate.errors import ScimgateError
from scimgate.model.idp import detect_idp
from scimgate.observability import current_request_id
from scimgate.service.audit import AuditRecorder, RequestRecord, summarize_document
from scimgate.service.clock import utcnow
from scimgate.service.tokens import Principal

_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
_RESOURCE_TYPES = {"users": "User", "groups": "Group", "bulk": "Bulk", "me": "User"}


def note_parsed_body(request: Request, document: dict[str, Any], size: int) -> None:
    """Summarize the body a route just parsed, for the audit log, before it is rewritten."""
    if getattr(request.app.state, "audit_recorder", None) is not None:
        request.state.scim_change = summarize_document(request.method, document, size)


class AuditedScim:
    """ASGI wrapper around the SCIM router (mounted at ``/scim/v2/{tenant}``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    @property
    def routes(self) -> Sequence[BaseRoute]:
        routes: Sequence[BaseRoute] = getattr(self.app, "routes", [])
        return routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        recorder: AuditRecorder | None = getattr(scope["app"].state, "audit_recorder", None)
        if scope["type"] != "http" or recorder is None:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method: str = scope["method"]
        chunks: list[bytes] = []
        outcome: list[int | str | None] = [500, None]  # status, Location
        error_body: list[bytes] = []

        async def receive_and_keep() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                chunks.append(message.get("body", b""))
            return message

        async def send_and_note(message: Message) -> None:
            if message["type"] == "http.response.start":
                outcome[0] = message["status"]
                if method == "POST":
                    outcome[1] = Headers(raw=message["headers"]).get("location")
            elif message["type"] == "http.response.body" and outcome[0] >= 400:  # type: ignore[operator]
                error_body.append(message.get("body", b""))
            await send(message)

        scim_type: str | None = None
        detail: str | None = None
        try:
            await self.app(
                scope, receive_and_keep if method in _WITH_BODY else receive, send_and_note
            )
        except ScimgateError as exc:
            outcome[0], scim_type, detail = exc.status, exc.scim_type, exc.detail
            raise
        except HTTPException as exc:
            outcome[0], detail = exc.status_code, exc.detail
            raise
        except Exception as exc:
            outcome[0], detail = 500, type(exc).__name__
            raise
        finally:
            status = outcome[0]
            _record(
                recorder,
                scope,
                status if isinstance(status, int) else 500,
                scim_type,
                detail,
                outcome[1] if isinstance(outcome[1], str) else None,
                b"".join(chunks) if chunks else None,
                b"".join(error_body) if error_body else None,
                (time.perf_counter() - started) * 1000.0,
            )


def _record(
    recorder: AuditRecorder,
    scope: Scope,
    status: int,
    scim_type: str | None,
    detail: str | None,
    location: str | None,
    body: bytes | None,
    error_body: bytes | None,
    duration_ms: float,
) -> None:
    state = scope.get("state") or {}
    principal: Principal | None = state.get("scim_principal")
    slug: str = scope.get("path_params", {}).get("tenant", "")
    path: str = scope["path"]
    method: str = scope["method"]
    idp: str | None = state.get("scim_idp")
    if idp is None:  # authentication failed before scim_context got to it
        headers = Headers(scope=scope)
        idp = detect_idp(headers, method, path, QueryParams(scope.get("query_string", b"")))
    parts = path.split("/", 5)  # "", "scim", "v2", slug, collection, rest
    resource_type = _RESOURCE_TYPES.get(parts[4].lower()) if len(parts) > 4 else None
    resource_id = parts[5].split("/", 1)[0] if len(parts) > 5 else None
    if resource_id and resource_id.startswith("."):
        resource_id = None  # /Users/.search
    if resource_id is None and location:
        resource_id = location.rstrip("/").rsplit("/", 1)[-1]
    query = scope.get("query_string", b"")
    change: str | None = state.get("scim_change")
    recorder.record(
        RequestRecord(
            occurred_at=utcnow(),
            tenant_slug=slug,
            tenant_id=principal.tenant.id if principal else None,
            token_id=principal.token_id if principal else None,
            token_name=principal.token_name if principal else None,
            idp=idp,
            method=method,
            path=f"{path}?{query.decode('latin-1')}" if query else path,
            resource_type=resource_type,
            resource_id=resource_id or None,
            status=status,
            scim_type=scim_type,
            detail=detail if status >= 400 else None,
            duration_ms=duration_ms,
            body=None if change is not None else body,
            error_body=error_body,
            change=change,
            request_id=current_request_id(),
            note=state.get("scim_audit_note"),
        )
    )
