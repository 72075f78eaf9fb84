"""OpenID Connect relying party: the one module that speaks OIDC (Authlib, joserfc).

A pure adapter, with no database: the sign-in flow state (the pending request,
its nonce and PKCE verifier) is ``service.sso``'s. What it does, by the spec:

* discovery (OpenID Connect Discovery 1.0 §4), cached per issuer for a while;
  the document's ``issuer`` must be the configured one (§4.3);
* the authorization request of the code flow (OIDC Core §3.1.2.1) with PKCE
  S256 (RFC 7636), ``state`` and ``nonce``;
* the callback: ``state`` and, when the provider sends it, ``iss`` (RFC 9207,
  against mix-up between providers);
* the code exchange at the token endpoint (RFC 6749 §4.1.3) with
  ``client_secret_basic`` or ``client_secret_post``;
* ID token validation (OIDC Core §3.1.3.7): the signature against the
  provider's JWKS, with an asymmetric algorithm the provider announces (never
  ``none``, never an HMAC keyed with a public key), then ``iss``, ``aud``,
  ``azp``, ``exp``/``iat``/``nbf`` within a bounded clock skew, and ``nonce``;
* userinfo (OIDC Core §5.3) when the groups claim is not in the ID token.

Once the signature holds, the claims are plain data: their checks and the
``ExternalIdentity`` they make are in ``service.oidc_claims``.

The JWKS is cached and fetched again when a token names a key id it does not
hold (the provider rotated its keys), at most once per ``jwks_refetch_interval``
so a stream of forged key ids cannot make us hammer the provider.

Every failure is an ``SsoRejected`` whose ``check`` names what failed.

Outbound requests go through the egress rule (``service.egress``): the hosts of
the issuer and of the endpoints it announces are checked before each request
(for a plain refusal), the connection is opened only to a checked address
(``service.egress_transport``, as webhooks do), and redirects are not
followed. Plain ``http`` is accepted only for a loopback provider (a test or a
sidecar); everything else must be ``https``.

Authlib builds the authorization URL and the PKCE challenge; the code exchange
and userinfo calls are plain httpx requests on this module's own client, so
they pass the same egress check and their errors map onto ``SsoRejected``
(Authlib's httpx integration targets a different httpx line than the one
scimgate runs).
"""

from __future__ import annotations

import base64
import hmac
import json
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from ipaddress import ip_address
from typing import Any
from urllib.parse import quote_plus, urlsplit

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jws
from joserfc.errors import BadSignatureError, JoseError
from joserfc.jwk import Key, KeySet

from scimgate.errors import SsoRejected
from scimgate.model.sso import ExternalIdentity
from scimgate.service.egress import EgressPolicy, HostRefused
from scimgate.service.egress_transport import CheckedTransport
from scimgate.service.oidc_claims import check_claims, identity_from_claims

__all__ = [
    "ALLOWED_ALGORITHMS",
    "DEFAULT_SCOPES",
    "MAX_CLOCK_SKEW",
    "AuthorizationRequest",
    "ClientConfig",
    "OidcClient",
    "ProviderInfo",
    "Tokens",
    "identity_from_claims",
]

DEFAULT_SCOPES = ("openid", "email", "profile")
DEFAULT_GROUPS_CLAIM = "groups"
# Asymmetric algorithms only: the ID token is checked against the provider's
# public keys, so "none" and the HMAC family (keyed with a shared secret, or
# forged with the public key as the secret) are never accepted.
ALLOWED_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
_KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}
# The largest clock difference with the provider we tolerate, in seconds.
MAX_CLOCK_SKEW = 300
_MAX_DOCUMENT_BYTES = 512 * 1024
_AUTH_METHODS = ("client_secret_basic", "client_secret_post")


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """One connection's client registration at its provider."""

    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    groups_claim: str = DEFAULT_GROUPS_CLAIM
    # None: client_secret_basic when the provider offers it, else client_secret_post.
    token_auth_method: str | None = None
    # Google's issuer is shared by every Google account: the ID token's ``hd``
    # (the Workspace domain) must then be the tenant's.
    hosted_domain: str | None = None


@dataclass(frozen=True, slots=True)
class ProviderInfo:
    """What discovery told us about a provider."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    id_token_algorithms: frozenset[str]
    token_auth_methods: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """Where to send the browser, and what to keep until the callback."""

    url: str
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True, slots=True)
class Tokens:
    id_token: str
    access_token: str | None


@dataclass(slots=True)
class _Jwks:
    keys: KeySet
    fetched_at: float


@dataclass(slots=True)
class _Caches:
    providers: dict[str, tuple[float, ProviderInfo]] = field(default_factory=dict)
    jwks: dict[str, _Jwks] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _is_loopback(host: str) -> bool:
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def _b64_json(part: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


class OidcClient:
    """The relying party: one per process, shared by every OIDC connection.

    Holds the HTTP client and the discovery and JWKS caches. Thread-safe: the
    sign-in routes call it from the thread pool.
    """

    def __init__(
        self,
        egress: EgressPolicy,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 10.0,
        discovery_ttl: float = 3600.0,
        jwks_ttl: float = 3600.0,
        jwks_refetch_interval: float = 30.0,
        clock_skew: int = 60,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 <= clock_skew <= MAX_CLOCK_SKEW:
            raise ValueError(f"clock_skew must be between 0 and {MAX_CLOCK_SKEW} seconds")
        self._egress = egress
        # No kept-alive connections: a sign-in makes a few requests, minutes apart,
        # and the client lives as long as the app, which has no hook to close it.
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout),
            transport=transport or CheckedTransport(egress, keepalive=0),
            follow_redirects=False,
            headers={"user-agent": "scimgate-sso", "accept": "application/json"},
        )
        self._discovery_ttl = discovery_ttl
        self._jwks_ttl = jwks_ttl
        self._jwks_refetch_interval = jwks_refetch_interval
        self.clock_skew = clock_skew
        self._monotonic = monotonic
        self._caches = _Caches()

    def close(self) -> None:
        self._http.close()

    # -- HTTP ---------------------------------------------------------------

    def _check_url(self, url: str, what: str) -> None:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.scheme != "https" and not (parts.scheme == "http" and _is_loopback(host)):
            raise SsoRejected("metadata", f"the {what} {url} must be an https URL")
        try:
            self._egress.addresses(host, parts.port or (443 if parts.scheme == "https" else 80))
        except HostRefused as exc:
            raise SsoRejected("metadata", f"the {what} {url} is not reachable: {exc}") from exc
        except (socket.gaierror, UnicodeError) as exc:
            raise SsoRejected("metadata", f"the {what} host {host} does not resolve") from exc

    def _request(self, method: str, url: str, what: str, **kwargs: Any) -> httpx.Response:
        self._check_url(url, what)
        try:
            with self._http.stream(method, url, **kwargs) as streamed:
                body = _read_capped(streamed, f"the {what} {url}")
        except HostRefused as exc:  # the name now resolves somewhere it may not go
            raise SsoRejected("metadata", f"the {what} {url} is not reachable: {exc}") from exc
        except httpx.HTTPError as exc:
            raise SsoRejected("metadata", f"the {what} {url} did not answer: {exc}") from exc
        # The body is decoded already: the new response must not decode it again.
        headers = [
            (name, value)
            for name, value in streamed.headers.multi_items()
            if name.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        ]
        return httpx.Response(
            streamed.status_code, headers=headers, content=body, request=streamed.request
        )

    def _get_json(self, url: str, what: str, check: str = "metadata") -> dict[str, Any]:
        response = self._request("GET", url, what)
        if response.status_code != 200:
            raise SsoRejected(check, f"the {what} {url} answered HTTP {response.status_code}")
        return _json_object(response, what, check)

    # -- discovery and keys -------------------------------------------------

    def provider(self, issuer: str) -> ProviderInfo:
        """The provider's metadata, from the cache while it is fresh."""
        now = self._monotonic()
        with self._caches.lock:
            cached = self._caches.providers.get(issuer)
        if cached is not None and now - cached[0] < self._discovery_ttl:
            return cached[1]
        url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        info = _provider_info(issuer, self._get_json(url, "discovery document"))
        with self._caches.lock:
            self._caches.providers[issuer] = (now, info)
        return info

    def _fetch_jwks(self, provider: ProviderInfo, now: float) -> _Jwks:
        document = self._get_json(provider.jwks_uri, "JWKS")
        usable = [
            key
            for key in document.get("keys", [])
            if isinstance(key, dict) and key.get("use", "sig") == "sig"
        ]
        try:
            keys = KeySet.import_key_set({"keys": usable})
        except (JoseError, ValueError, TypeError) as exc:
            raise SsoRejected(
                "metadata", f"the JWKS {provider.jwks_uri} is invalid: {exc}"
            ) from exc
        entry = _Jwks(keys=keys, fetched_at=now)
        with self._caches.lock:
            self._caches.jwks[provider.jwks_uri] = entry
        return entry

    def _keys(self, provider: ProviderInfo) -> _Jwks:
        now = self._monotonic()
        with self._caches.lock:
            entry = self._caches.jwks.get(provider.jwks_uri)
        if entry is None or now - entry.fetched_at >= self._jwks_ttl:
            entry = self._fetch_jwks(provider, now)
        return entry

    def _key_for(self, provider: ProviderInfo, kid: object, alg: str) -> list[Key]:
        entry = self._keys(provider)
        found = _matching_keys(entry.keys, kid, alg)
        recent = self._monotonic() - entry.fetched_at < self._jwks_refetch_interval
        if not found and kid is not None and not recent:
            # The provider may have rotated its keys since we fetched them.
            found = _matching_keys(self._fetch_jwks(provider, self._monotonic()).keys, kid, alg)
        if not found:
            named = f"key id {kid!r}" if kid is not None else "no key id"
            raise SsoRejected(
                "signature",
                f"the ID token names {named}, and the IdP's JWKS has no {alg} key for it",
            )
        return found

    # -- the flow -----------------------------------------------------------

    def authorization_request(self, config: ClientConfig) -> AuthorizationRequest:
        """The URL that starts a sign-in, with fresh state, nonce and PKCE verifier."""
        provider = self.provider(config.issuer)
        state, nonce, verifier = generate_token(43), generate_token(43), generate_token(64)
        scopes = config.scopes if "openid" in config.scopes else ("openid", *config.scopes)
        url = prepare_grant_uri(
            provider.authorization_endpoint,
            config.client_id,
            "code",
            redirect_uri=config.redirect_uri,
            scope=" ".join(scopes),
            state=state,
            nonce=nonce,
            code_challenge=create_s256_code_challenge(verifier),
            code_challenge_method="S256",
        )
        return AuthorizationRequest(url=url, state=state, nonce=nonce, code_verifier=verifier)

    def callback_code(
        self, config: ClientConfig, params: Mapping[str, str], *, expected_state: str
    ) -> str:
        """The code from the callback's query, once its ``state`` and ``iss`` are ours."""
        if "error" in params:
            text = params.get("error_description") or params["error"]
            raise SsoRejected("idp_error", f"the IdP refused the sign-in: {text}")
        if not hmac.compare_digest(params.get("state", ""), expected_state):
            raise SsoRejected("state", "the callback's state is not the one this sign-in sent")
        issuer = params.get("iss")
        if issuer is not None and issuer != self.provider(config.issuer).issuer:
            raise SsoRejected(
                "issuer", f"the callback comes from issuer {issuer}, not {config.issuer}"
            )
        code = params.get("code", "")
        if not code:
            raise SsoRejected("code", "the callback carries no authorization code")
        return code

    def exchange_code(self, config: ClientConfig, code: str, code_verifier: str) -> Tokens:
        """Trade the authorization code for tokens (RFC 6749 §4.1.3, RFC 7636 §4.5)."""
        provider = self.provider(config.issuer)
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": config.redirect_uri,
            "code_verifier": code_verifier,
        }
        auth: httpx.BasicAuth | None = None
        if _auth_method(config, provider) == "client_secret_basic":
            # RFC 6749 §2.3.1: both parts form-encoded before Basic encoding.
            auth = httpx.BasicAuth(
                _form_encode(config.client_id), _form_encode(config.client_secret)
            )
        else:
            form |= {"client_id": config.client_id, "client_secret": config.client_secret}
        response = self._request(
            "POST", provider.token_endpoint, "token endpoint", data=form, auth=auth
        )
        body = _json_object(response, "token endpoint", "code")
        if response.status_code != 200:
            error = body.get("error", f"HTTP {response.status_code}")
            description = body.get("error_description")
            text = f"{error} ({description})" if description else str(error)
            raise SsoRejected("code", f"the IdP refused the authorization code: {text}")
        id_token = body.get("id_token")
        if not isinstance(id_token, str):
            raise SsoRejected("code", "the token endpoint returned no ID token")
        access_token = body.get("access_token")
        return Tokens(id_token, access_token if isinstance(access_token, str) else None)

    def validate_id_token(
        self, config: ClientConfig, id_token: str, *, nonce: str, now: float | None = None
    ) -> dict[str, Any]:
        """The ID token's claims, once every check of OIDC Core §3.1.3.7 has passed."""
        provider = self.provider(config.issuer)
        alg, kid = _header(id_token)
        allowed = provider.id_token_algorithms & ALLOWED_ALGORITHMS
        if alg not in allowed:
            raise SsoRejected(
                "algorithm",
                f"the ID token is signed with {alg!r}; this connection accepts "
                f"{', '.join(sorted(allowed)) or 'no algorithm the IdP announces'}",
            )
        claims = _verified_payload(id_token, self._key_for(provider, kid, alg), alg)
        check_claims(
            claims,
            issuer=provider.issuer,
            client_id=config.client_id,
            nonce=nonce,
            now=time.time() if now is None else now,
            skew=self.clock_skew,
        )
        return claims

    def userinfo(self, config: ClientConfig, access_token: str) -> dict[str, Any]:
        provider = self.provider(config.issuer)
        if provider.userinfo_endpoint is None:
            raise SsoRejected("userinfo", "the IdP announces no userinfo endpoint")
        response = self._request(
            "GET",
            provider.userinfo_endpoint,
            "userinfo endpoint",
            headers={"authorization": f"Bearer {access_token}"},
        )
        if response.status_code != 200:
            raise SsoRejected(
                "userinfo", f"the userinfo endpoint answered HTTP {response.status_code}"
            )
        return _json_object(response, "userinfo endpoint", "userinfo")

    def sign_in(
        self,
        config: ClientConfig,
        params: Mapping[str, str],
        *,
        state: str,
        nonce: str,
        code_verifier: str,
        now: float | None = None,
    ) -> ExternalIdentity:
        """The whole callback: check it, exchange the code, validate, read groups."""
        code = self.callback_code(config, params, expected_state=state)
        tokens = self.exchange_code(config, code, code_verifier)
        claims = self.validate_id_token(config, tokens.id_token, nonce=nonce, now=now)
        wanted = config.groups_claim not in claims and tokens.access_token is not None
        if wanted and self.provider(config.issuer).userinfo_endpoint is not None:
            assert tokens.access_token is not None
            extra = self.userinfo(config, tokens.access_token)
            if extra.get("sub") != claims["sub"]:
                # OIDC Core §5.3.4: a mismatch means the response may be forged.
                raise SsoRejected("userinfo", "userinfo is about a different subject")
            claims = {**extra, **claims}
        if config.hosted_domain is not None and claims.get("hd") != config.hosted_domain:
            raise SsoRejected(
                "hosted_domain",
                f"the account belongs to domain {claims.get('hd')!r}, "
                f"not to this connection's {config.hosted_domain}",
            )
        return identity_from_claims(claims, config.groups_claim)


# -- helpers ----------------------------------------------------------------


def _read_capped(response: httpx.Response, what: str) -> bytes:
    """The body, read chunk by chunk: a provider sending more than ``_MAX_DOCUMENT_BYTES``
    is cut off there rather than held in memory whole."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > _MAX_DOCUMENT_BYTES:
            raise SsoRejected(
                "metadata", f"{what} answered with more than {_MAX_DOCUMENT_BYTES} bytes"
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _form_encode(value: str) -> str:
    return quote_plus(value)


def _json_object(response: httpx.Response, what: str, check: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as exc:
        raise SsoRejected(check, f"the {what} did not answer with JSON") from exc
    if not isinstance(body, dict):
        raise SsoRejected(check, f"the {what} did not answer with a JSON object")
    return body


def _provider_info(issuer: str, document: Mapping[str, Any]) -> ProviderInfo:
    announced = document.get("issuer")
    if not isinstance(announced, str) or announced.rstrip("/") != issuer.rstrip("/"):
        raise SsoRejected(
            "issuer",
            f"the discovery document names issuer {announced!r}; this connection expects {issuer}",
        )
    missing = [
        name
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri")
        if not isinstance(document.get(name), str)
    ]
    if missing:
        raise SsoRejected("metadata", f"the discovery document lacks {', '.join(missing)}")
    algorithms = document.get("id_token_signing_alg_values_supported") or ["RS256"]
    methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    userinfo = document.get("userinfo_endpoint")
    return ProviderInfo(
        issuer=announced,
        authorization_endpoint=document["authorization_endpoint"],
        token_endpoint=document["token_endpoint"],
        jwks_uri=document["jwks_uri"],
        userinfo_endpoint=userinfo if isinstance(userinfo, str) else None,
        id_token_algorithms=frozenset(str(a) for a in algorithms),
        token_auth_methods=tuple(str(m) for m in methods),
    )


def _auth_method(config: ClientConfig, provider: ProviderInfo) -> str:
    if config.token_auth_method is not None:
        if config.token_auth_method not in _AUTH_METHODS:
            raise SsoRejected(
                "metadata",
                f"token endpoint auth method {config.token_auth_method} is not supported",
            )
        return config.token_auth_method
    if "client_secret_basic" in provider.token_auth_methods:
        return "client_secret_basic"
    return "client_secret_post"


def _header(token: str) -> tuple[object, object]:
    parts = token.split(".")
    try:
        if len(parts) != 3:
            raise ValueError("not three parts")
        header = _b64_json(parts[0])
    except (ValueError, UnicodeDecodeError) as exc:
        raise SsoRejected("signature", "the ID token is not a signed JWT") from exc
    if not isinstance(header, dict):
        raise SsoRejected("signature", "the ID token's header is not a JSON object")
    return header.get("alg"), header.get("kid")


def _matching_keys(keys: KeySet, kid: object, alg: str) -> list[Key]:
    key_type = _KEY_TYPES[alg[:2]]
    found = []
    for key in keys:
        if kid is not None and key.kid != kid:
            continue
        if key.key_type != key_type or key.get("alg", alg) != alg:
            continue
        found.append(key)
    return found


def _verified_payload(token: str, keys: list[Key], alg: str) -> dict[str, Any]:
    for key in keys:
        try:
            payload = jws.deserialize_compact(token, key, algorithms=[alg]).payload
        except BadSignatureError:
            continue
        except (JoseError, ValueError) as exc:
            raise SsoRejected("signature", f"the ID token cannot be verified: {exc}") from exc
        try:
            claims = json.loads(payload)
        except ValueError as exc:
            raise SsoRejected("signature", "the ID token's payload is not JSON") from exc
        if not isinstance(claims, dict):
            raise SsoRejected("signature", "the ID token's payload is not a JSON object")
        return claims
    raise SsoRejected("signature", "the ID token's signature does not match the IdP's key")
