"""Setup links: what the host app hands a customer's IT admin to connect the tenant's IdP.

A link carries a secret of 256 random bits, shown once and stored as its
SHA-256 hash, the way SCIM tokens are (``service/tokens.py`` says why a fast
hash is right for a high-entropy secret). It is scoped to one tenant and to
``scim``, ``sso`` or both; it expires (7 days unless asked otherwise, 30 at
most) and can be revoked. Every use, refused ones included, is kept with the
visitor's address and User-Agent in ``setup_link_uses``.

The live checks read the tenant's audit log from the moment the link was
created. The first time they all pass, the link is marked done and one
``connection.activated`` event goes to the outbox in the same transaction;
the conditional update that marks it lets only one caller write the event.
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from scimgate.errors import Forbidden, Gone, InvalidValue, NotFound, Unauthorized
from scimgate.model.entities import SetupLink, Tenant
from scimgate.model.lifecycle import CONNECTION_ACTIVATED
from scimgate.service import tokens
from scimgate.service.clock import utcnow
from scimgate.storage.database import Database
from scimgate.storage.events import NewEvent
from scimgate.storage.setup_links import SetupLinkUse

__all__ = [
    "DEFAULT_EXPIRY_HOURS",
    "LINK_MARKER",
    "MAX_EXPIRY_HOURS",
    "SCOPES",
    "Check",
    "IssuedLink",
    "LinkExpired",
    "LinkRevoked",
    "Progress",
    "SetupLinkUse",
    "Visitor",
    "create_link",
    "issue_token",
    "link_url",
    "link_uses",
    "list_links",
    "open_link",
    "parse_scopes",
    "progress",
    "revoke_link",
    "session_link",
]

LINK_MARKER = "sgl_"
SCOPES = ("scim", "sso")
DEFAULT_EXPIRY_HOURS = 7 * 24
MAX_EXPIRY_HOURS = 30 * 24
_PREFIX_LENGTH = 12

# (key, label, scope that needs it), in the order the wizard shows them.
_CHECKS = (
    ("token_accepted", "Token accepted", "scim"),
    ("user_created", "First user created", "scim"),
    ("group_pushed", "First group pushed", "scim"),
    ("member_added", "First member added", "scim"),
    ("sso_signin", "Test sign-in", "sso"),
)


class LinkExpired(Gone):
    default_detail = "This setup link has expired. Ask for a new one."


class LinkRevoked(Forbidden):
    default_detail = "This setup link has been revoked. Ask for a new one."


@dataclass(frozen=True, slots=True)
class IssuedLink:
    """A freshly created link: the only object that ever holds its secret."""

    link: SetupLink
    secret: str


@dataclass(frozen=True, slots=True)
class Visitor:
    """Who used a link, as the HTTP layer saw them."""

    client_ip: str
    user_agent: str


@dataclass(frozen=True, slots=True)
class Check:
    key: str
    label: str
    done: bool


@dataclass(frozen=True, slots=True)
class Progress:
    checks: tuple[Check, ...]
    done: bool


def parse_scopes(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """``"scim,sso"`` or ``["sso"]`` as the canonical tuple; both when nothing is given."""
    if value is None:
        return SCOPES
    parts = value.split(",") if isinstance(value, str) else list(value)
    wanted = {p.strip().lower() for p in parts if p.strip()}
    unknown = wanted - set(SCOPES)
    if unknown or not wanted:
        raise InvalidValue(f"a setup link's scope is one or more of: {', '.join(SCOPES)}")
    return tuple(s for s in SCOPES if s in wanted)


def create_link(
    db: Database,
    tenant: Tenant,
    scopes: str | Iterable[str] | None = None,
    expires_in_hours: int | None = None,
) -> IssuedLink:
    hours = DEFAULT_EXPIRY_HOURS if expires_in_hours is None else expires_in_hours
    if not 1 <= hours <= MAX_EXPIRY_HOURS:
        raise InvalidValue(f"a setup link expires after 1 to {MAX_EXPIRY_HOURS} hours")
    secret = LINK_MARKER + secrets.token_urlsafe(32)
    now = utcnow()
    link = SetupLink(
        id=uuid.uuid4().hex,
        tenant_id=tenant.id,
        prefix=secret[:_PREFIX_LENGTH],
        scopes=parse_scopes(scopes),
        created_at=now,
        expires_at=now + timedelta(hours=hours),
        revoked_at=None,
        completed_at=None,
        last_used_at=None,
    )
    with db.tenant(tenant.id, write=True) as repo:
        repo.setup_links.insert(link, tokens.hash_secret(secret))
    return IssuedLink(link=link, secret=secret)


def list_links(db: Database, tenant: Tenant) -> list[SetupLink]:
    with db.tenant(tenant.id) as repo:
        return repo.setup_links.all()


def revoke_link(db: Database, tenant: Tenant, link_id: str) -> SetupLink:
    with db.tenant(tenant.id, write=True) as repo:
        link = repo.setup_links.revoke(link_id, utcnow())
    if link is None:
        raise NotFound(f"tenant {tenant.slug!r} has no setup link {link_id!r}")
    return link


def link_uses(db: Database, tenant: Tenant, link_id: str) -> list[SetupLinkUse]:
    """Every recorded use of one of the tenant's links, oldest first."""
    with db.tenant(tenant.id) as repo:
        if repo.setup_links.get(link_id) is None:
            raise NotFound(f"tenant {tenant.slug!r} has no setup link {link_id!r}")
        return repo.setup_links.uses(link_id)


def _refusal(link: SetupLink, tenant: Tenant, now: datetime) -> tuple[str, Exception] | None:
    if link.revoked_at is not None:
        return "refused_revoked", LinkRevoked()
    if link.expires_at <= now:
        return "refused_expired", LinkExpired()
    if tenant.disabled:
        return "refused_disabled", Forbidden("This tenant is disabled.")
    return None


def open_link(db: Database, secret: str, visitor: Visitor) -> tuple[SetupLink, Tenant]:
    """The link and tenant a secret opens; the use (or the refusal) is recorded.

    NotFound for a secret that opens nothing (nothing is recorded: there is no
    tenant to record it for), LinkRevoked (403) or LinkExpired (410) otherwise.
    """
    try:
        tokens.bearer_secret(f"Bearer {secret}", LINK_MARKER)
    except Unauthorized:
        raise NotFound("This setup link is not valid.") from None
    presented = tokens.hash_secret(secret)
    with db.directory() as directory:
        found = directory.find_setup_link(presented)
    if found is None or not hmac.compare_digest(found[2], presented):
        raise NotFound("This setup link is not valid.")
    link, tenant, _ = found
    now = utcnow()
    refusal = _refusal(link, tenant, now)
    with db.tenant(tenant.id, write=True) as repo:
        action = refusal[0] if refusal else "opened"
        repo.setup_links.record_use(link.id, action, visitor.client_ip, visitor.user_agent, now)
    if refusal:
        raise refusal[1]
    return link, tenant


def session_link(db: Database, tenant: Tenant, link_id: str) -> SetupLink:
    """The link a setup session holds, checked again on every request."""
    with db.tenant(tenant.id) as repo:
        link = repo.setup_links.get(link_id)
    if link is None:
        raise NotFound("No such setup link")
    refusal = _refusal(link, tenant, utcnow())
    if refusal:
        raise refusal[1]
    return link


def issue_token(
    db: Database, tenant: Tenant, link: SetupLink, visitor: Visitor
) -> tokens.IssuedToken:
    """A SCIM token for the IdP, made from the wizard (scope ``scim`` only)."""
    if "scim" not in link.scopes:
        raise Forbidden("This setup link does not cover SCIM provisioning.")
    issued = tokens.create_token(db, tenant, f"Setup link {link.prefix}")
    with db.tenant(tenant.id, write=True) as repo:
        repo.setup_links.record_use(
            link.id, "token_generated", visitor.client_ip, visitor.user_agent, utcnow()
        )
    return issued


def progress(db: Database, tenant: Tenant, link: SetupLink) -> Progress:
    """The live checks for this link's scopes; the first all-green call marks it done.

    A link that is done stays done, with every check green, even once the audit
    log entries that made it so have aged out.
    """
    with db.tenant(tenant.id) as repo:
        seen = repo.setup_links.progress(link.created_at)
    finished = link.completed_at is not None
    checks = tuple(
        Check(key, label, finished or seen[key])
        for key, label, scope in _CHECKS
        if scope in link.scopes
    )
    done = all(check.done for check in checks)
    if done and link.completed_at is None:
        _complete(db, tenant, link, checks)
    return Progress(checks=checks, done=done)


def _complete(db: Database, tenant: Tenant, link: SetupLink, checks: tuple[Check, ...]) -> None:
    now = utcnow()
    with db.tenant(tenant.id, write=True) as repo:
        if not repo.setup_links.complete(link.id, now):
            return  # another request got there first and wrote the event
        event = NewEvent(
            type=CONNECTION_ACTIVATED,
            resource_type="SetupLink",
            resource_id=link.id,
            data={
                "setupLink": {"id": link.id, "prefix": link.prefix, "scopes": list(link.scopes)},
                "checks": [check.key for check in checks],
            },
        )
        repo.events.add([event], now)


def link_url(public_base: str, secret: str) -> str:
    """The address the IT admin opens: ``{PUBLIC_URL}/setup/{secret}``."""
    return f"{public_base}/setup/{secret}"
