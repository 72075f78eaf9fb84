"""The OIDC relying party against a real provider (oidc-provider under node).

Each refusal test would pass a token through if its check were missing: the
tokens are the provider's own, or signed with the provider's own key (served
by its real JWKS) with one claim wrong, so only the check under test stands in
the way.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from joserfc import jws
from joserfc.jwk import RSAKey

from scimgate.errors import SsoRejected
from scimgate.service.egress import EgressPolicy
from scimgate.service.oidc import ClientConfig, OidcClient, Tokens, identity_from_claims
from tests.egress import LOOPBACK, PUBLIC_ADDRESS
from tests.idps.oidc_op import RunningOp, registered_client, running_op, sign_in

ACME_CALLBACK = "http://127.0.0.1:9/sso/acme/oidc/callback"
GLOBEX_CALLBACK = "http://127.0.0.1:9/sso/globex/oidc/callback"
ACME_SECRET = "acme-secret-for-tests-only-0123456789"
GLOBEX_SECRET = "globex-secret-for-tests-only-0123456789"
SCOPES = ("openid", "email", "profile", "groups")


@pytest.fixture(scope="module")
def op(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningOp]:
    clients = [
        registered_client("scimgate-acme", ACME_SECRET, [ACME_CALLBACK]),
        registered_client(
            "scimgate-globex", GLOBEX_SECRET, [GLOBEX_CALLBACK], "client_secret_post"
        ),
    ]
    with running_op(clients, tmp_path_factory.mktemp("op")) as running:
        yield running


class CountingTransport(httpx.HTTPTransport):
    """A real transport that counts the requests per path."""

    def __init__(self) -> None:
        super().__init__(limits=httpx.Limits(max_keepalive_connections=0))
        self.paths: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        return super().handle_request(request)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def rp() -> Iterator[OidcClient]:
    oidc = OidcClient(LOOPBACK)
    yield oidc
    oidc.close()


def acme(op: RunningOp, **overrides: Any) -> ClientConfig:
    values: dict[str, Any] = {
        "issuer": op.issuer,
        "client_id": "scimgate-acme",
        "client_secret": ACME_SECRET,
        "redirect_uri": ACME_CALLBACK,
        "scopes": SCOPES,
    }
    return ClientConfig(**(values | overrides))


def globex(op: RunningOp) -> ClientConfig:
    return ClientConfig(
        issuer=op.issuer,
        client_id="scimgate-globex",
        client_secret=GLOBEX_SECRET,
        redirect_uri=GLOBEX_CALLBACK,
        scopes=SCOPES,
    )


def authorize(
    op: RunningOp, rp: OidcClient, config: ClientConfig, user: str = "alice"
) -> tuple[dict[str, str], str, str, str]:
    """A real sign-in at the provider: the callback's query, state, nonce and verifier."""
    request = rp.authorization_request(config)
    callback = sign_in(op, request.url, user, stop_at=config.redirect_uri)
    params = dict(parse_qsl(urlsplit(callback).query))
    return params, request.state, request.nonce, request.code_verifier


def real_tokens(op: RunningOp, rp: OidcClient, config: ClientConfig) -> tuple[Tokens, str]:
    params, state, nonce, verifier = authorize(op, rp, config)
    code = rp.callback_code(config, params, expected_state=state)
    return rp.exchange_code(config, code, verifier), nonce


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_for(op: RunningOp, nonce: str = "n-1", **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "iss": op.issuer,
        "sub": "alice",
        "aud": "scimgate-acme",
        "exp": now + 300,
        "iat": now,
        "nonce": nonce,
        "email": "alice@example.test",
    }
    return base | overrides


def signed(claims: dict[str, Any], key: RSAKey, alg: str = "RS256") -> str:
    header = {"alg": alg, "kid": key.kid, "typ": "JWT"}
    return jws.serialize_compact(header, json.dumps(claims), key, algorithms=[alg])


def reject(check: str, call: Any, *args: Any, **kwargs: Any) -> SsoRejected:
    with pytest.raises(SsoRejected) as caught:
        call(*args, **kwargs)
    assert caught.value.check == check, str(caught.value)
    return caught.value


# -- the flow that works ------------------------------------------------------


def test_a_full_code_flow_signs_alice_in_with_her_groups(op: RunningOp, rp: OidcClient) -> None:
    config = acme(op)
    params, state, nonce, verifier = authorize(op, rp, config)
    assert params["iss"] == op.issuer
    identity = rp.sign_in(config, params, state=state, nonce=nonce, code_verifier=verifier)
    assert identity.subject == "alice"
    assert identity.email == "alice@example.test"
    assert (identity.given_name, identity.family_name) == ("Alice", "Liddell")
    assert identity.display_name == "Alice Liddell"
    assert identity.groups == ("scim-admins", "engineering")
    assert identity.claims["iss"] == op.issuer
    assert identity.claims["nonce"] == nonce


def test_the_authorization_url_carries_pkce_s256_state_and_nonce(
    op: RunningOp, rp: OidcClient
) -> None:
    request = rp.authorization_request(acme(op, scopes=("email",)))
    query = dict(parse_qsl(urlsplit(request.url).query))
    challenge = _b64(hashlib.sha256(request.code_verifier.encode()).digest())
    assert query["code_challenge"] == challenge
    assert query["code_challenge_method"] == "S256"
    assert (query["state"], query["nonce"]) == (request.state, request.nonce)
    assert query["scope"] == "openid email"  # openid is always asked for
    assert len({request.state, request.nonce, request.code_verifier}) == 3


def test_client_secret_post_works_for_a_client_registered_so(op: RunningOp, rp: OidcClient) -> None:
    config = globex(op)
    params, state, nonce, verifier = authorize(op, rp, config, user="bob")
    identity = rp.sign_in(config, params, state=state, nonce=nonce, code_verifier=verifier)
    assert (identity.subject, identity.groups) == ("bob", ("readers",))


def test_groups_come_from_userinfo_when_the_id_token_lacks_them(tmp_path: Path) -> None:
    clients = [registered_client("scimgate-acme", ACME_SECRET, [ACME_CALLBACK])]
    with running_op(clients, tmp_path, conform_id_token_claims=True) as strict_op:
        oidc = OidcClient(LOOPBACK)
        config = acme(strict_op)
        tokens, nonce = real_tokens(strict_op, oidc, config)
        assert "groups" not in oidc.validate_id_token(config, tokens.id_token, nonce=nonce)
        params, state, nonce, verifier = authorize(strict_op, oidc, config)
        identity = oidc.sign_in(config, params, state=state, nonce=nonce, code_verifier=verifier)
        oidc.close()
    assert identity.groups == ("scim-admins", "engineering")
    assert identity.email == "alice@example.test"


def test_discovery_is_cached_until_its_ttl(op: RunningOp) -> None:
    transport, clock = CountingTransport(), Clock()
    oidc = OidcClient(LOOPBACK, transport=transport, monotonic=clock, discovery_ttl=60)
    config = acme(op)
    for _ in range(3):
        oidc.authorization_request(config)
    clock.now += 61
    oidc.authorization_request(config)
    oidc.close()
    assert transport.paths.count("/.well-known/openid-configuration") == 2


# -- refusals -------------------------------------------------------------------


def test_a_wrong_nonce_is_refused(op: RunningOp, rp: OidcClient) -> None:
    config = acme(op)
    params, state, _nonce, verifier = authorize(op, rp, config)
    reject(
        "nonce", rp.sign_in, config, params, state=state, nonce="another", code_verifier=verifier
    )


def test_a_token_issued_to_another_client_is_refused(op: RunningOp, rp: OidcClient) -> None:
    tokens, nonce = real_tokens(op, rp, globex(op))
    error = reject("audience", rp.validate_id_token, acme(op), tokens.id_token, nonce=nonce)
    assert "scimgate-globex" in error.detail


def test_several_audiences_need_azp_naming_this_client(op: RunningOp, rp: OidcClient) -> None:
    audiences = ["scimgate-acme", "another-app"]
    token = signed(claims_for(op, aud=audiences, azp="another-app"), op.signing_key)
    reject("audience", rp.validate_id_token, acme(op), token, nonce="n-1")
    token = signed(claims_for(op, aud=audiences, azp="scimgate-acme"), op.signing_key)
    assert rp.validate_id_token(acme(op), token, nonce="n-1")["sub"] == "alice"


def test_a_token_from_another_issuer_is_refused(op: RunningOp, rp: OidcClient) -> None:
    token = signed(claims_for(op, iss="https://idp.attacker.test"), op.signing_key)
    reject("issuer", rp.validate_id_token, acme(op), token, nonce="n-1")
    # the same token with the right issuer passes: the issuer check is what refused it
    assert rp.validate_id_token(acme(op), signed(claims_for(op), op.signing_key), nonce="n-1")


def test_a_callback_from_another_issuer_is_refused(op: RunningOp, rp: OidcClient) -> None:
    config = acme(op)
    params = {"code": "x", "state": "s", "iss": "https://idp.attacker.test"}
    reject("issuer", rp.callback_code, config, params, expected_state="s")


def test_an_unsigned_token_is_refused(op: RunningOp, rp: OidcClient) -> None:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    token = f"{header}.{_b64(json.dumps(claims_for(op)).encode())}."
    reject("algorithm", rp.validate_id_token, acme(op), token, nonce="n-1")


def test_an_hmac_token_keyed_with_the_public_key_is_refused(op: RunningOp, rp: OidcClient) -> None:
    public_pem = op.signing_key.as_pem(private=False)
    header = _b64(json.dumps({"alg": "HS256", "kid": op.kid, "typ": "JWT"}).encode())
    body = _b64(json.dumps(claims_for(op)).encode())
    mac = hmac.new(public_pem, f"{header}.{body}".encode(), hashlib.sha256).digest()
    reject("algorithm", rp.validate_id_token, acme(op), f"{header}.{body}.{_b64(mac)}", nonce="n-1")


def test_a_key_missing_from_the_jwks_is_refused_after_one_rate_limited_refetch(
    op: RunningOp,
) -> None:
    transport, clock = CountingTransport(), Clock()
    oidc = OidcClient(LOOPBACK, transport=transport, monotonic=clock, jwks_refetch_interval=30)
    config = acme(op)
    stranger = RSAKey.generate_key(2048, parameters={"kid": "not-the-op"})
    forged = signed(claims_for(op), stranger)
    assert oidc.validate_id_token(config, signed(claims_for(op), op.signing_key), nonce="n-1")
    jwks_path = urlsplit(oidc.provider(op.issuer).jwks_uri).path
    assert transport.paths.count(jwks_path) == 1
    clock.now += 31
    reject("signature", oidc.validate_id_token, config, forged, nonce="n-1")
    assert transport.paths.count(jwks_path) == 2  # fetched again once, in case of rotation
    reject("signature", oidc.validate_id_token, config, forged, nonce="n-1")
    assert transport.paths.count(jwks_path) == 2  # not again so soon
    oidc.close()


def test_a_token_signed_by_another_key_under_the_providers_kid_is_refused(
    op: RunningOp, rp: OidcClient
) -> None:
    impostor = RSAKey.generate_key(2048, parameters={"kid": op.kid})
    reject(
        "signature", rp.validate_id_token, acme(op), signed(claims_for(op), impostor), nonce="n-1"
    )


def test_an_expired_token_is_refused_past_the_clock_skew(op: RunningOp) -> None:
    oidc = OidcClient(LOOPBACK, clock_skew=60)
    config = acme(op)
    tokens, nonce = real_tokens(op, oidc, config)
    expires = oidc.validate_id_token(config, tokens.id_token, nonce=nonce)["exp"]
    assert oidc.validate_id_token(config, tokens.id_token, nonce=nonce, now=expires + 59)
    reject(
        "expired", oidc.validate_id_token, config, tokens.id_token, nonce=nonce, now=expires + 61
    )
    oidc.close()


def test_a_token_issued_in_the_future_is_refused(op: RunningOp, rp: OidcClient) -> None:
    later = int(time.time()) + 3600
    token = signed(claims_for(op, iat=later, exp=later + 300), op.signing_key)
    reject("not_yet_valid", rp.validate_id_token, acme(op), token, nonce="n-1")


def test_the_clock_skew_is_bounded() -> None:
    with pytest.raises(ValueError, match="clock_skew"):
        OidcClient(LOOPBACK, clock_skew=3600)


def test_a_tampered_token_is_refused(op: RunningOp, rp: OidcClient) -> None:
    config = acme(op)
    tokens, nonce = real_tokens(op, rp, config)
    header, body, signature = tokens.id_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["groups"] = ["scim-admins", "owners"]
    tampered = f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"
    reject("signature", rp.validate_id_token, config, tampered, nonce=nonce)


def test_a_reused_code_is_refused(op: RunningOp, rp: OidcClient) -> None:
    config = acme(op)
    params, state, nonce, verifier = authorize(op, rp, config)
    rp.sign_in(config, params, state=state, nonce=nonce, code_verifier=verifier)
    error = reject(
        "code", rp.sign_in, config, params, state=state, nonce=nonce, code_verifier=verifier
    )
    assert "invalid_grant" in error.detail


def test_a_wrong_code_verifier_is_refused(op: RunningOp, rp: OidcClient) -> None:
    config = acme(op)
    params, state, nonce, _verifier = authorize(op, rp, config)
    reject("code", rp.sign_in, config, params, state=state, nonce=nonce, code_verifier="x" * 64)


def test_a_wrong_client_secret_is_refused(op: RunningOp, rp: OidcClient) -> None:
    config = acme(op, client_secret="not-the-secret")
    params, state, nonce, verifier = authorize(op, rp, config)
    error = reject(
        "code", rp.sign_in, config, params, state=state, nonce=nonce, code_verifier=verifier
    )
    assert "invalid_client" in error.detail


def test_a_state_mismatch_is_refused(op: RunningOp, rp: OidcClient) -> None:
    config = acme(op)
    params, _state, nonce, verifier = authorize(op, rp, config)
    reject(
        "state", rp.sign_in, config, params, state="another", nonce=nonce, code_verifier=verifier
    )


def test_an_error_from_the_provider_is_refused(op: RunningOp, rp: OidcClient) -> None:
    params = {"error": "access_denied", "error_description": "End-User aborted", "state": "s"}
    error = reject("idp_error", rp.callback_code, acme(op), params, expected_state="s")
    assert "aborted" in error.detail


def test_the_egress_rule_keeps_a_loopback_provider_out_by_default(op: RunningOp) -> None:
    oidc = OidcClient(EgressPolicy())
    error = reject("metadata", oidc.provider, op.issuer)
    assert "loopback" in error.detail
    oidc.close()


def test_a_plain_http_provider_off_loopback_is_refused() -> None:
    oidc = OidcClient(EgressPolicy(allow_private=True))
    reject("metadata", oidc.provider, "http://idp.example.test")
    oidc.close()


def test_a_groups_overage_is_refused_rather_than_signing_in_without_groups() -> None:
    claims = {
        "sub": "alice",
        "_claim_names": {"groups": "src1"},
        "_claim_sources": {"src1": {"endpoint": "https://graph.example.test/getMemberObjects"}},
    }
    reject("groups_overage", identity_from_claims, claims, "groups")
    assert identity_from_claims({"sub": "bob"}, "groups").groups == ()
    assert identity_from_claims({"sub": "bob", "roles": "a"}, "roles").groups == ("a",)


@pytest.mark.parametrize("flag", [False, "false", "False"])
def test_an_email_the_provider_did_not_verify_is_left_out(flag: object) -> None:
    claims = {"sub": "mallory", "email": "carol@example.test", "email_verified": flag}
    assert identity_from_claims(claims, "groups").email is None


@pytest.mark.parametrize("flag", [True, "true", None])
def test_a_verified_email_or_one_without_the_flag_is_kept(flag: object) -> None:
    claims = {"sub": "carol", "email": "carol@example.test"}
    if flag is not None:
        claims["email_verified"] = flag
    assert identity_from_claims(claims, "groups").email == "carol@example.test"


def test_a_hosted_domain_other_than_the_connections_is_refused(
    op: RunningOp, rp: OidcClient
) -> None:
    config = acme(op, hosted_domain="acme.example")
    params, state, nonce, verifier = authorize(op, rp, config)
    error = reject(
        "hosted_domain",
        rp.sign_in,
        config,
        params,
        state=state,
        nonce=nonce,
        code_verifier=verifier,
    )
    assert "acme.example" in error.detail


class Rebinding:
    """A DNS that answers a public address first, then loopback (DNS rebinding)."""

    def __init__(self) -> None:
        self.answers = [PUBLIC_ADDRESS, "127.0.0.1"]

    def __call__(self, host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        address = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]


def test_a_name_rebound_to_loopback_after_the_check_is_not_connected_to() -> None:
    oidc = OidcClient(EgressPolicy(resolve=Rebinding()))
    error = reject("metadata", oidc.provider, "https://idp.example.test")
    assert "loopback" in error.detail
    oidc.close()


class RotatingIdp:
    """Discovery and a JWKS the test can change, on 127.0.0.1 (the provider's keys rotate)."""

    def __init__(self) -> None:
        self.keys: list[RSAKey] = []
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = idp.document(self.path)
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps(body).encode())

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def document(self, path: str) -> dict[str, Any]:
        if path == "/jwks":
            return {"keys": [key.as_dict(private=False) for key in self.keys]}
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/auth",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "id_token_signing_alg_values_supported": ["RS256"],
        }

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_rotated_key_is_found_by_fetching_the_jwks_again() -> None:
    idp, clock = RotatingIdp(), Clock()
    old, new = (RSAKey.generate_key(2048, parameters={"kid": kid}) for kid in ("k1", "k2"))
    idp.keys = [old]
    oidc = OidcClient(LOOPBACK, monotonic=clock)
    config = ClientConfig(idp.issuer, "scimgate-acme", "", "http://127.0.0.1:9/cb")
    claims = {**claims_for(RunningOp(idp.issuer, old)), "iss": idp.issuer}
    try:
        assert oidc.validate_id_token(config, signed(claims, old), nonce="n-1")
        idp.keys = [new]  # the provider rotates
        clock.now += 31
        assert oidc.validate_id_token(config, signed(claims, new), nonce="n-1")["sub"] == "alice"
    finally:
        oidc.close()
        idp.close()
