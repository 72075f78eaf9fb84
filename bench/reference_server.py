"""Serve scim2-server (the comparison point) under uvicorn with a static bearer token.

Run as ``python bench/reference_server.py --port P --token T``. scim2-server's own
``scim2-server`` command serves through ``wsgiref`` (HTTP/1.0, one thread per
connection, no keep-alive): measuring that would mostly measure wsgiref. Its
ASGI application under the same uvicorn + httptools + uvloop stack as scimgate
puts both servers on the same HTTP layer, so the ratios compare SCIM handling.
The resources live in memory; the base URL is ``http://127.0.0.1:P/v2``.
"""

from __future__ import annotations

import argparse
import hmac
import json
from typing import Any

import uvicorn
from scim2_models import ScimProvider, UnauthorizedException
from scim2_server.applications.asgi import ASGIApplication, Send
from scim2_server.memory import AsyncInMemoryStorage
from scim2_server.requests import ScimRequest
from scim2_server.responses import ScimResponse
from scim2_server.service import ScimService
from scim2_server.testserver.application import BEARER_TOKEN_SCHEME
from scim2_server.utils import (
    load_default_resource_types,
    load_default_schemas,
    load_default_service_provider_config,
)


class BearerASGIApplication(ASGIApplication):
    """scim2-server's ASGI application, refusing requests without the bench's token."""

    def __init__(self, token: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._expected = f"Bearer {token}".encode()

    def check_auth(self, request: ScimRequest) -> None:
        presented = (request.header("Authorization") or "").encode()
        if not hmac.compare_digest(presented, self._expected):
            raise UnauthorizedException

    @staticmethod
    async def send_response(response: ScimResponse, send: Send) -> None:
        # As the parent, plus Content-Length: uvicorn would otherwise chunk every
        # body, an encoding cost scimgate (Starlette sets the length) does not pay.
        body = b"" if response.body is None else json.dumps(response.body).encode()
        headers = [(k.encode(), v.encode()) for k, v in response.headers.items()]
        if body or int(response.status) not in (204, 304):
            headers.append((b"content-length", str(len(body)).encode()))
        await send(
            {"type": "http.response.start", "status": int(response.status), "headers": headers}
        )
        await send({"type": "http.response.body", "body": body})


def build_app(token: str) -> BearerASGIApplication:
    config = load_default_service_provider_config()
    config.authentication_schemes = [*(config.authentication_schemes or []), BEARER_TOKEN_SCHEME]
    provider = ScimProvider.from_discovery(
        load_default_schemas().values(), load_default_resource_types().values(), config=config
    )
    # No secret: cursor pagination needs the `cursor` extra, which the bench does not use.
    service = ScimService(provider, secret=None)
    return BearerASGIApplication(
        token, storage=AsyncInMemoryStorage(), provider=provider, service=service
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    args = parser.parse_args()
    uvicorn.run(
        build_app(args.token),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
        server_header=False,
        timeout_keep_alive=75,
    )


if __name__ == "__main__":
    main()
