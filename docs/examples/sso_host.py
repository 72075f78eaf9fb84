"""A host app that signs people in through scimgate's single sign-on (tests/sso import it).

Run it beside scimgate:

    pip install starlette uvicorn httpx
    export SCIMGATE_URL=http://127.0.0.1:8000
    export SCIMGATE_API_KEY=sgk_...                 # `scimgate apikey create --tenant acme`
    export HOST_URL=http://127.0.0.1:9100           # where this app is reached
    uvicorn --factory sso_host:app_from_environment --port 9100

and register its callback with scimgate (the exact URI, scheme and port included):

    export SCIMGATE_SSO_REDIRECT_URIS=http://127.0.0.1:9100/sso/callback

Then open http://127.0.0.1:9100/login?tenant=acme. What it shows
(docs/how-to/single-sign-on.md explains each point):

* the sign-in starts at ``{SCIMGATE_URL}/sso/{tenant}/start`` with the
  callback URI and a fresh ``state``, bound to this browser by a cookie;
* the callback checks that ``state`` came back unchanged before anything else
  (a forged callback cannot log someone into another account);
* the one-time ``code`` is exchanged server-side, with the API key, at
  ``POST /api/v1/sso/token``; it works once, for a minute;
* the profile's ``enabled`` is checked, and ``roles`` come with it: the same
  users and roles scimgate provisions by SCIM and announces by webhook.

``InMemoryStore`` stands in for your session store.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

LOGIN_COOKIE = "host_login"
SESSION_COOKIE = "host_session"


@dataclass
class InMemoryStore:
    """Sign-ins in progress (cookie -> state) and sessions (cookie -> user)."""

    logins: dict[str, str] = field(default_factory=dict)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)


def _cookie(response: Response, name: str, value: str, secure: bool) -> None:
    # Lax, not Strict: the callback is a top-level GET coming from scimgate's site.
    response.set_cookie(name, value, httponly=True, samesite="lax", secure=secure)


def create_host(
    scimgate_url: str,
    api_key: str,
    host_url: str,
    *,
    store: InMemoryStore | None = None,
    http: httpx.Client | None = None,
) -> Starlette:
    """The host app. ``http`` is the client that reaches scimgate (a default one if None)."""
    scimgate_url = scimgate_url.rstrip("/")
    callback = host_url.rstrip("/") + "/sso/callback"
    secure = host_url.startswith("https://")
    client = http or httpx.Client(timeout=10)
    kept = store if store is not None else InMemoryStore()

    async def login(request: Request) -> Response:
        tenant = request.query_params.get("tenant", "")
        if not tenant:
            return PlainTextResponse("say which organisation: /login?tenant=...", 400)
        login_id, state = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        kept.logins[login_id] = state
        query = {"redirect_uri": callback, "state": state}
        if request.query_params.get("email"):
            query["email"] = request.query_params["email"]  # picks the IdP by domain
        response = RedirectResponse(f"{scimgate_url}/sso/{tenant}/start?{urlencode(query)}", 303)
        _cookie(response, LOGIN_COOKIE, login_id, secure)
        return response

    async def sso_callback(request: Request) -> Response:
        expected = kept.logins.pop(request.cookies.get(LOGIN_COOKIE, ""), None)
        state = request.query_params.get("state", "")
        if expected is None or not secrets.compare_digest(expected, state):
            return PlainTextResponse("this sign-in was not started in this browser", 400)
        answer = client.post(
            f"{scimgate_url}/api/v1/sso/token",
            json={"code": request.query_params.get("code", "")},
            headers={"Authorization": f"Bearer {api_key}"},
        )
        if answer.status_code != 200:
            return PlainTextResponse(f"sign-in failed: {answer.json()['detail']}", 401)
        profile: dict[str, Any] = answer.json()
        if not profile["enabled"]:
            return PlainTextResponse("your account is disabled", 403)
        session_id = secrets.token_urlsafe(32)  # a new session id for the signed-in person
        kept.sessions[session_id] = {
            "id": profile["userId"],
            "tenant": profile["tenant"],
            "email": profile["email"],
            "name": profile["name"]["formatted"],
            "roles": profile["roles"],
        }
        response = RedirectResponse("/", 303)
        _cookie(response, SESSION_COOKIE, session_id, secure)
        response.delete_cookie(LOGIN_COOKIE)
        return response

    async def home(request: Request) -> Response:
        user = kept.sessions.get(request.cookies.get(SESSION_COOKIE, ""))
        if user is None:
            return PlainTextResponse("not signed in: /login?tenant=...", 401)
        return JSONResponse(user)

    async def logout(request: Request) -> Response:
        kept.sessions.pop(request.cookies.get(SESSION_COOKIE, ""), None)
        response = RedirectResponse("/", 303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    return Starlette(
        routes=[
            Route("/", home),
            Route("/login", login),
            Route("/sso/callback", sso_callback),
            Route("/logout", logout, methods=["POST"]),
        ]
    )


def app_from_environment() -> Starlette:
    return create_host(
        os.environ["SCIMGATE_URL"], os.environ["SCIMGATE_API_KEY"], os.environ["HOST_URL"]
    )
