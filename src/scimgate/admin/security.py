"""Console sessions and CSRF: a signed cookie holding the account id and a CSRF token.

The cookie is ``base64(json).hex(hmac-sha256)`` keyed by SECRET_KEY (derived
for this purpose, so it is never the raw key). It is HttpOnly, SameSite=Lax
and Secure when PUBLIC_URL is https. Every session, even before login, holds a
random CSRF token that each form repeats in a hidden field; a POST whose field
does not match is refused. Sessions end after ``SESSION_SECONDS``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import orjson
from starlette.requests import Request
from starlette.responses import Response

from scimgate.config import Settings
from scimgate.errors import Forbidden

COOKIE = "scimgate_admin"
SESSION_SECONDS = 12 * 3600


@dataclass(frozen=True, slots=True)
class Session:
    csrf: str
    account_id: str | None = None
    issued_at: int = 0


def _key(settings: Settings) -> bytes:
    secret = settings.secret_key.get_secret_value().encode()
    return hmac.new(secret, b"scimgate admin session v1", hashlib.sha256).digest()


def encode(session: Session, settings: Settings) -> str:
    payload = base64.urlsafe_b64encode(
        orjson.dumps({"c": session.csrf, "a": session.account_id, "t": session.issued_at})
    ).decode()
    signature = hmac.new(_key(settings), payload.encode(), hashlib.sha256).hexdigest()
    return f"{payload}.{signature}"


def decode(value: str | None, settings: Settings, now: float | None = None) -> Session | None:
    """The session in a cookie, or None when it is missing, forged or too old."""
    if not value or len(value) > 1000 or "." not in value:
        return None
    payload, _, signature = value.rpartition(".")
    wanted = hmac.new(_key(settings), payload.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(wanted, signature):
        return None
    try:
        data = orjson.loads(base64.urlsafe_b64decode(payload.encode()))
        session = Session(csrf=str(data["c"]), account_id=data["a"], issued_at=int(data["t"]))
    except (ValueError, KeyError, TypeError):
        return None
    if (now or time.time()) - session.issued_at > SESSION_SECONDS:
        return None
    return session


def current_session(request: Request) -> Session | None:
    settings: Settings = request.app.state.settings
    return decode(request.cookies.get(COOKIE), settings)


def new_session(account_id: str | None = None) -> Session:
    return Session(
        csrf=secrets.token_urlsafe(24), account_id=account_id, issued_at=int(time.time())
    )


def store(response: Response, session: Session, settings: Settings) -> None:
    response.set_cookie(
        COOKIE,
        encode(session, settings),
        max_age=SESSION_SECONDS,
        path="/admin",
        httponly=True,
        samesite="lax",
        secure=settings.public_url.startswith("https://"),
    )


def forget(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        COOKIE,
        path="/admin",
        httponly=True,
        samesite="lax",
        secure=settings.public_url.startswith("https://"),
    )


def check_csrf(session: Session | None, submitted: object) -> None:
    if (
        session is None
        or not isinstance(submitted, str)
        or not hmac.compare_digest(session.csrf.encode(), submitted.encode())
    ):
        raise Forbidden("The form expired or did not come from this console; reload and retry")
