"""An IdP answering with an oversized body is cut off while the body is read.

The server on 127.0.0.1 streams far more than any cap, without a length, and
counts what it managed to write before the client hung up: the client must
stop early, not read everything and then refuse.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from scimgate.errors import SsoRejected
from scimgate.service import saml_metadata
from scimgate.service.oidc import ClientConfig, OidcClient
from tests.egress import LOOPBACK

_CHUNK = b"x" * 65536
# What the server offers to send for an oversized path: far past every cap.
_FLOOD_BYTES = 256 * 1024 * 1024
# Sent before the client hangs up, allowing for the sockets' buffers.
_MOST_SENT = 16 * 1024 * 1024
_HEADER = base64.urlsafe_b64encode(b'{"alg":"RS256","kid":"k1"}').rstrip(b"=").decode()


class FloodingIdp:
    """Discovery and endpoints on 127.0.0.1; the paths in ``flood`` answer with a flood."""

    def __init__(self, flood: set[str]) -> None:
        self.flood = flood
        self.sent = 0
        idp = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                path = self.path.split("?")[0]
                if path in idp.flood:
                    self.send_response(200)
                    self.send_header("content-type", "application/json")
                    self.send_header("connection", "close")
                    self.end_headers()
                    idp.pour(self)
                    return
                body = json.dumps(idp.document(path)).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = _answer
            do_POST = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def pour(self, handler: BaseHTTPRequestHandler) -> None:
        try:
            while self.sent < _FLOOD_BYTES:
                handler.wfile.write(_CHUNK)
                self.sent += len(_CHUNK)
        except OSError:
            pass  # the client hung up, as it should

    def document(self, path: str) -> dict[str, Any]:
        if path == "/jwks":
            return {"keys": []}
        if path == "/userinfo":
            return {"sub": "alice"}
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/auth",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "id_token_signing_alg_values_supported": ["RS256"],
        }

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def rp() -> Iterator[OidcClient]:
    client = OidcClient(LOOPBACK)
    yield client
    client.close()


def _config(idp: FloodingIdp) -> ClientConfig:
    return ClientConfig(idp.issuer, "scimgate-acme", "s3cret", "http://127.0.0.1:9/cb")


@pytest.mark.parametrize(
    ("path", "call"),
    [
        ("/.well-known/openid-configuration", lambda rp, c: rp.provider(c.issuer)),
        ("/jwks", lambda rp, c: rp.validate_id_token(c, f"{_HEADER}.e30.c2ln", nonce="n")),
        ("/token", lambda rp, c: rp.exchange_code(c, "code", "verifier")),
        ("/userinfo", lambda rp, c: rp.userinfo(c, "access-token")),
    ],
    ids=["discovery", "jwks", "token", "userinfo"],
)
def test_an_oversized_oidc_answer_is_cut_off_while_reading(
    rp: OidcClient, path: str, call: Any
) -> None:
    idp = FloodingIdp({path})
    try:
        with pytest.raises(SsoRejected) as caught:
            call(rp, _config(idp))
        assert "more than" in caught.value.detail
        assert idp.sent < _MOST_SENT
    finally:
        idp.close()


def test_oversized_saml_metadata_is_cut_off_while_reading() -> None:
    idp = FloodingIdp({"/metadata"})
    try:
        with pytest.raises(SsoRejected) as caught:
            saml_metadata.fetch_idp_metadata(f"{idp.issuer}/metadata", LOOPBACK)
        assert "larger than" in caught.value.detail
        assert idp.sent < _MOST_SENT
    finally:
        idp.close()
