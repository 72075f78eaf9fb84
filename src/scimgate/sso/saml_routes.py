"""SAML 2.0 routes: ``/sso/{tenant}/saml/metadata``, ``.../saml/start``, ``.../saml/acs``."""

from __future__ import annotations

from starlette.routing import BaseRoute


def saml_routes() -> list[BaseRoute]:
    return []
