"""SCIM endpoints under ``/scim/v2/{tenant}``. Each: parse, one service call, respond."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from scimgate.errors import NotFound
from scimgate.scim.context import scim_context


async def unknown_endpoint(request: Request) -> Response:
    await scim_context(request)  # authenticate first: unknown paths leak nothing
    raise NotFound(f"No SCIM endpoint at {request.url.path}")


_ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def scim_routes() -> list[BaseRoute]:
    return [
        Route("/{path:path}", unknown_endpoint, methods=_ALL_METHODS),
    ]
