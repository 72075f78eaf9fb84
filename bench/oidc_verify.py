"""OIDC ID token validation per token: scimgate's relying party, and joserfc alone.

Serves a discovery document and a JWKS from a small HTTP server on 127.0.0.1
(an RSA-2048 or P-256 key made for the run), signs ID tokens with that key,
and times ``OidcClient.validate_id_token`` on each: header and algorithm check,
key lookup in the cached JWKS, signature, then iss/aud/azp/exp/iat/nonce.
Beside it, the signature check alone (``joserfc.jws.deserialize_compact``),
which is the floor. Discovery and the JWKS are fetched once, before timing, as
a running server has them cached.

With ``--round-trip N`` it also starts the test OpenID Provider
(``tests/idps/oidc_provider``, node) and signs in N times through it, timing
the callback's work in scimgate (``OidcClient.sign_in``: the code exchange at
the provider's token endpoint, then the ID token validation) apart from the
provider's own login pages.

Prints a table and one JSON line (``{"bench": "oidc_verify", ...}``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_network
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from joserfc import jws
from joserfc.jwk import ECKey, Key, RSAKey

from scimgate.service.egress import EgressPolicy
from scimgate.service.oidc import ClientConfig, OidcClient

CLIENT_ID = "bench-client"


@contextmanager
def _provider(key: Key, alg: str) -> Iterator[str]:
    documents: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = documents.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body or b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    issuer = f"http://127.0.0.1:{server.server_address[1]}"
    documents["/.well-known/openid-configuration"] = json.dumps(
        {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/auth",
            "token_endpoint": f"{issuer}/token",
            "jwks_uri": f"{issuer}/jwks",
            "id_token_signing_alg_values_supported": [alg],
        }
    ).encode()
    documents["/jwks"] = json.dumps({"keys": [key.as_dict(private=False)]}).encode()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield issuer
    finally:
        server.shutdown()
        server.server_close()


def _token(key: Key, alg: str, issuer: str, nonce: str) -> str:
    now = int(time.time())
    claims = {
        "iss": issuer,
        "sub": "alice",
        "aud": CLIENT_ID,
        "exp": now + 600,
        "iat": now,
        "nonce": nonce,
        "email": "alice@example.test",
        "groups": ["scim-admins", "engineering"],
    }
    header = {"alg": alg, "kid": key.kid, "typ": "JWT"}
    return jws.serialize_compact(header, json.dumps(claims), key, algorithms=[alg])


def _time(call: Callable[[], object], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered), 4),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1], 4),
    }


def measure(alg: str, runs: int) -> dict[str, dict[str, float]]:
    key: Key
    if alg == "RS256":
        key = RSAKey.generate_key(2048, parameters={"kid": "bench-rsa"})
    else:
        key = ECKey.generate_key("P-256", parameters={"kid": "bench-ec"})
    egress = EgressPolicy(allowed_networks=(ip_network("127.0.0.1/32"),))
    with _provider(key, alg) as issuer:
        client = OidcClient(egress)
        config = ClientConfig(issuer, CLIENT_ID, "unused", f"{issuer}/callback")
        token = _token(key, alg, issuer, "n-1")
        client.validate_id_token(config, token, nonce="n-1")  # warms the caches
        for _ in range(50):
            client.validate_id_token(config, token, nonce="n-1")
        validate = _time(lambda: client.validate_id_token(config, token, nonce="n-1"), runs)
        verify = _time(lambda: jws.deserialize_compact(token, key, algorithms=[alg]), runs)
        client.close()
    return {"validate_id_token": _summary(validate), "signature_only": _summary(verify)}


def round_trip(runs: int) -> dict[str, dict[str, float]]:
    """Sign-ins through the real test provider: its pages, then scimgate's callback work."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.idps.oidc_op import registered_client, running_op, sign_in

    callback = "http://127.0.0.1:9/sso/bench/oidc/callback"
    secret = "bench-secret-0123456789abcdef0123"
    egress = EgressPolicy(allowed_networks=(ip_network("127.0.0.1/32"),))
    pages, finish = [], []
    with tempfile.TemporaryDirectory() as scratch:
        clients = [registered_client(CLIENT_ID, secret, [callback])]
        with running_op(clients, Path(scratch)) as op:
            client = OidcClient(egress)
            scopes = ("openid", "email", "profile", "groups")
            config = ClientConfig(op.issuer, CLIENT_ID, secret, callback, scopes)
            for _ in range(runs + 2):
                start = time.perf_counter()
                request = client.authorization_request(config)
                url = sign_in(op, request.url, "alice", stop_at=callback)
                middle = time.perf_counter()
                params = dict(parse_qsl(urlsplit(url).query))
                client.sign_in(
                    config,
                    params,
                    state=request.state,
                    nonce=request.nonce,
                    code_verifier=request.code_verifier,
                )
                pages.append((middle - start) * 1000)
                finish.append((time.perf_counter() - middle) * 1000)
            client.close()
    # the first two warm the provider and the caches
    return {"provider_pages": _summary(pages[2:]), "callback": _summary(finish[2:])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--round-trip", type=int, default=0, metavar="N")
    args = parser.parse_args()
    results = {alg: measure(alg, args.runs) for alg in ("RS256", "ES256")}
    if args.round_trip:
        results["sign_in"] = round_trip(args.round_trip)
    print(f"ID token validation, {args.runs} runs each; sign-ins: {args.round_trip}")
    print(f"{'alg':8} {'what':18} {'median ms':>10} {'p95 ms':>8}")
    for alg, figures in results.items():
        for what, summary in figures.items():
            print(f"{alg:8} {what:18} {summary['median_ms']:>10} {summary['p95_ms']:>8}")
    print(json.dumps({"bench": "oidc_verify", "runs": args.runs, "results": results}))


if __name__ == "__main__":
    main()
