"""The SCIM resource endpoints reached without Starlette's router.

Nearly every request an IdP sends is one of four shapes: ``/Users``,
``/Groups``, ``/Users/{id}`` and ``/Groups/{id}`` under
``/scim/v2/{tenant}``. Through the router such a request crossed the
exception middleware, the outer router's Mount, the inner router's
patterns and ``request_response``, each with its own wrapper around
``send``. ``ScimSurface`` sits in front of all that: for those four shapes
and a method their route serves, it calls the route's own endpoint, turns
the SCIM and HTTP exceptions into responses with the app's own handlers,
and goes through the same audit and body-draining wrappers as the mounted
SCIM router. Anything else (discovery, ``.search``, Bulk, a trailing slash,
a method the route does not serve, an unknown path) goes on to the router
unchanged, so the rules for odd requests stay in one place. The table is
built from the routes ``scim_routes`` returns, never written twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from scimgate.errors import ScimgateError
from scimgate.scim.audit import AuditedScim
from scimgate.scim.handlers import handle_http_exception, handle_scimgate_error
from scimgate.scim.params import DrainRefusedBody

PREFIX = "/scim/v2/"
_ENDPOINT = "scimgate.endpoint"

Endpoint = Callable[[Request], Awaitable[Response]]


class _Target:
    """The endpoint of one route path and the methods it serves."""

    __slots__ = ("endpoint", "methods")

    def __init__(self, route: Route) -> None:
        self.endpoint: Endpoint = route.endpoint
        self.methods = frozenset(route.methods or ())


def _table(routes: Sequence[BaseRoute]) -> tuple[dict[str, _Target], dict[str, _Target]]:
    """(collections, resources) by collection name: ``Users`` → its targets."""
    collections: dict[str, _Target] = {}
    resources: dict[str, _Target] = {}
    for route in routes:
        if not isinstance(route, Route):
            continue
        parts = route.path.split("/")  # "", "Users"[, "{id}"]
        if len(parts) == 2:
            collections[parts[1]] = _Target(route)
        elif len(parts) == 3 and parts[2] == "{id}":
            resources[parts[1]] = _Target(route)
    return {k: v for k, v in collections.items() if k in resources}, resources


class ScimSurface:
    """ASGI middleware: the common SCIM requests straight to their endpoints (see above)."""

    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self._collections, self._resources = _table(routes)
        self._wrapped = DrainRefusedBody(AuditedScim(_respond))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if path.startswith(PREFIX):
                found = self._match(path[len(PREFIX) :], scope["method"])
                if found is not None:
                    endpoint, path_params = found
                    scope["path_params"] = path_params
                    scope[_ENDPOINT] = endpoint
                    await self._wrapped(scope, receive, send)
                    return
        await self.app(scope, receive, send)

    def _match(self, rest: str, method: str) -> tuple[Endpoint, dict[str, str]] | None:
        slug, _, tail = rest.partition("/")
        if not slug:
            return None
        collection, slash, resource_id = tail.partition("/")
        if not slash:
            target = self._collections.get(collection)
            params = {"tenant": slug}
        elif resource_id and "/" not in resource_id and resource_id[0] != ".":
            target = self._resources.get(collection)
            params = {"tenant": slug, "id": resource_id}
        else:
            return None
        if target is None or method not in target.methods:
            return None
        return target.endpoint, params


_HANDLERS = ((ScimgateError, handle_scimgate_error), (HTTPException, handle_http_exception))


async def _respond(scope: Scope, receive: Receive, send: Send) -> None:
    """What ``request_response`` does for a route, with the SCIM error handlers; anything
    else raised goes on to the server-error middleware, as from the router."""
    request = Request(scope, receive, send)
    endpoint: Endpoint = scope[_ENDPOINT]
    try:
        response = await endpoint(request)
    except Exception as exc:
        for kind, handler in _HANDLERS:
            if isinstance(exc, kind):
                response = await handler(request, exc)
                exc.__traceback__ = None  # reused exception instances keep no tracebacks
                break
        else:
            raise
    await response(scope, receive, send)
