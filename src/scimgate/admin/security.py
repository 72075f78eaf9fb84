"""Console sessions and CSRF: a signed cookie holding the account id and a CSRF token.

The cookie is ``base64(json).hex(hmac-sha256)`` keyed by SECRET_KEY (derived
for this purpose, so it is never the raw key). It is HttpOnly, SameSite=Lax
and Secure when PUBLIC_URL is https. Every session, even before login, holds a
random CSRF token that each form repeats in a hidden field; a POST whose field
does not match is refused.

A signed-in session also holds a random id, drawn anew at login (so a cookie
planted before login never becomes a signed-in one), the time of the login and
the time of the last request. It ends ``admin_session_idle_minutes`` after the
last request and ``admin_session_max_hours`` after the login, whichever comes
first; each signed-in request re-signs the cookie with the new last-request
time. Time comes from ``app.state.clock`` when a test sets one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from scimgate.config import Settings
from scimgate.errors import Forbidden

COOKIE = "scimgate_admin"


@dataclass(frozen=True, slots=True)
class Session:
    csrf: str
    account_id: str | None = None
    issued_at: int = 0
    id: str = ""
    seen_at: int = 0

    def seen(self, now: float) -> Session:
        return replace(self, seen_at=int(now))


def now(request: Request) -> float:
    """Seconds since the epoch, from the app's clock when a test set one."""
    clock: Callable[[], float] | None = getattr(request.app.state, "clock", None)
    return clock() if clock is not None else time.time()


def _max_seconds(settings: Settings) -> int:
    return int(settings.admin_session_max_hours * 3600)


def _key(settings: Settings, purpose: bytes) -> bytes:
    secret = settings.secret_key.get_secret_value().encode()
    return hmac.new(secret, purpose, hashlib.sha256).digest()


def sign(data: dict[str, Any], settings: Settings, purpose: bytes) -> str:
    """``data`` as a cookie value: base64 JSON and its HMAC under a key for ``purpose``
    (a cookie signed for one purpose never passes for another)."""
    payload = base64.urlsafe_b64encode(orjson.dumps(data)).decode()
    signature = hmac.new(_key(settings, purpose), payload.encode(), hashlib.sha256).hexdigest()
    return f"{payload}.{signature}"


def unsign(value: str | None, settings: Settings, purpose: bytes) -> dict[str, Any] | None:
    """The data :func:`sign` put in ``value``; None when missing, forged or not JSON."""
    if not value or len(value) > 1000 or "." not in value:
        return None
    payload, _, signature = value.rpartition(".")
    wanted = hmac.new(_key(settings, purpose), payload.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(wanted, signature):
        return None
    try:
        data = orjson.loads(base64.urlsafe_b64decode(payload.encode()))
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


_PURPOSE = b"scimgate admin session v1"


def encode(session: Session, settings: Settings) -> str:
    data = {
        "c": session.csrf,
        "a": session.account_id,
        "t": session.issued_at,
        "i": session.id,
        "s": session.seen_at,
    }
    return sign(data, settings, _PURPOSE)


def decode(value: str | None, settings: Settings, at: float | None = None) -> Session | None:
    """The session in a cookie, or None when it is missing, forged, idle too long or too old."""
    data = unsign(value, settings, _PURPOSE)
    if data is None:
        return None
    try:
        session = Session(
            csrf=str(data["c"]),
            account_id=data["a"],
            issued_at=int(data["t"]),
            id=str(data.get("i", "")),
            seen_at=int(data.get("s", 0)),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    at = time.time() if at is None else at
    if at - session.issued_at > _max_seconds(settings):
        return None
    if session.account_id is not None and (
        not session.id or at - session.seen_at > settings.admin_session_idle_minutes * 60
    ):
        return None
    return session


def current_session(request: Request) -> Session | None:
    settings: Settings = request.app.state.settings
    return decode(request.cookies.get(COOKIE), settings, now(request))


def new_session(at: float, account_id: str | None = None) -> Session:
    """A session with fresh random id and CSRF token; ``account_id`` when it signs in."""
    return Session(
        csrf=secrets.token_urlsafe(24),
        account_id=account_id,
        issued_at=int(at),
        id=secrets.token_urlsafe(18),
        seen_at=int(at),
    )


def store(response: Response, session: Session, settings: Settings) -> None:
    response.set_cookie(
        COOKIE,
        encode(session, settings),
        max_age=_max_seconds(settings),
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


def client_ip(request: Request, settings: Settings) -> str:
    """The address that sent the request (``Settings.client_address``)."""
    peer = request.client.host if request.client else ""
    return settings.client_address(peer, request.headers.get("x-forwarded-for", ""))
