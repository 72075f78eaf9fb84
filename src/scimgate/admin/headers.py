"""Security headers on every console response, pages, redirects and static files alike.

The policy allows no inline script or style, so an injected ``<script>`` or
``onclick=`` does not run even if a template ever failed to escape it; the
console's own script and styles are files under ``/admin/static``.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


class SecurityHeaders:
    """Wraps the console's routes and sets ``SECURITY_HEADERS`` on each response start."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    @property
    def routes(self) -> list[BaseRoute]:
        """The wrapped routes, so that ``Mount`` (and its ``url_path_for``) sees through."""
        routes: list[BaseRoute] = getattr(self.app, "routes", [])
        return routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
