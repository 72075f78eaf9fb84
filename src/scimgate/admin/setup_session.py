"""The setup link's session: a signed cookie naming one link of one tenant, and nothing else.

Separate from the console's session (``admin/security.py``) in every way that
matters: another cookie name, another key derived from SECRET_KEY (so neither
cookie verifies as the other), path ``/setup`` (the browser never sends it to
``/admin``), ``SameSite=Strict`` and HttpOnly. It holds the link's id, its
tenant's id, a CSRF token and when it was issued; every request looks the link
up again, so a revocation or an expiry ends the session on the next request.
It lasts at most ``MAX_SECONDS``, and never past the link's own expiry.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response

from scimgate.admin.security import now, sign, unsign
from scimgate.config import Settings

COOKIE = "scimgate_setup"
PATH = "/setup"
MAX_SECONDS = 12 * 3600


@dataclass(frozen=True, slots=True)
class SetupSession:
    link_id: str
    tenant_id: int
    csrf: str
    issued_at: int


_PURPOSE = b"scimgate setup session v1"


def encode(session: SetupSession, settings: Settings) -> str:
    data = {"l": session.link_id, "n": session.tenant_id, "c": session.csrf, "t": session.issued_at}
    return sign(data, settings, _PURPOSE)


def decode(value: str | None, settings: Settings, at: float) -> SetupSession | None:
    """The session in a cookie, or None when it is missing, forged or too old."""
    data = unsign(value, settings, _PURPOSE)
    if data is None:
        return None
    try:
        session = SetupSession(
            link_id=str(data["l"]),
            tenant_id=int(data["n"]),
            csrf=str(data["c"]),
            issued_at=int(data["t"]),
        )
    except (ValueError, KeyError, TypeError):
        return None
    if not 0 <= at - session.issued_at <= MAX_SECONDS:
        return None
    return session


def current(request: Request) -> SetupSession | None:
    settings: Settings = request.app.state.settings
    return decode(request.cookies.get(COOKIE), settings, now(request))


def start(
    response: Response, link_id: str, tenant_id: int, expires_at: datetime, request: Request
) -> None:
    """Set a fresh session cookie for this link on ``response``."""
    settings: Settings = request.app.state.settings
    at = now(request)
    session = SetupSession(link_id, tenant_id, secrets.token_urlsafe(24), int(at))
    lifetime = max(0, min(MAX_SECONDS, int(expires_at.timestamp() - at)))
    response.set_cookie(
        COOKIE,
        encode(session, settings),
        max_age=lifetime,
        path=PATH,
        httponly=True,
        samesite="strict",
        secure=settings.public_url.startswith("https://"),
    )


def check_csrf(session: SetupSession, submitted: object) -> bool:
    return isinstance(submitted, str) and hmac.compare_digest(
        session.csrf.encode(), submitted.encode()
    )
