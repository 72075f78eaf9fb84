"""OpenID Connect routes: ``/sso/{tenant}/oidc/start`` and ``.../oidc/callback``."""

from __future__ import annotations

from starlette.routing import BaseRoute


def oidc_routes() -> list[BaseRoute]:
    return []
