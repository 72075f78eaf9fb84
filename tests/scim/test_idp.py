"""The SCIM layer detects the sending IdP once and records it for the rest of the request."""

from __future__ import annotations

from collections.abc import Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from scimgate.model.entities import Tenant
from scimgate.model.idp import ENTRA, OKTA
from scimgate.scim.context import scim_context
from scimgate.service.tokens import IssuedToken

GUID_FILTER = 'userName eq "0f3bdb3a-2b2c-4a2e-9a77-5d3b7ad2a111"'


async def _whoami(request: Request) -> Response:
    ctx = await scim_context(request)
    return JSONResponse({"idp": ctx.idp})


def test_the_scim_context_records_the_idp(
    app: Starlette,
    make_tenant: Callable[..., Tenant],
    make_token: Callable[..., IssuedToken],
) -> None:
    app.router.routes.insert(0, Route("/probe/{tenant}/whoami", _whoami))
    with TestClient(app) as http:
        make_tenant("acme")
        auth = {"Authorization": f"Bearer {make_token('acme').secret}"}
        okta = http.get(
            "/probe/acme/whoami", headers={**auth, "User-Agent": "Okta SCIM Client 1.0.0"}
        )
        assert okta.json() == {"idp": OKTA}
        entra = http.get(
            "/probe/acme/whoami", params={"filter": GUID_FILTER}, headers={**auth, "User-Agent": ""}
        )
        assert entra.json() == {"idp": ENTRA}
