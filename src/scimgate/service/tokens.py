"""SCIM bearer tokens: generated once, shown once, stored as a SHA-256 hash.

Why SHA-256 and not argon2: the secret is 256 random bits, so there is
nothing to brute-force, and a slow hash would add its full cost to every SCIM
request (bench/README.md has the figure). argon2 is for low-entropy secrets
(admin passwords).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from scimgate.errors import InvalidValue, NotFound, TokenOfAnotherTenant, Unauthorized
from scimgate.model.entities import ScimToken, Tenant, TenantSettings
from scimgate.service.clock import utcnow
from scimgate.storage.database import Database
from scimgate.storage.directory import FoundToken
from scimgate.storage.repository import TenantRepository

TOKEN_MARKER = "sgt_"  # noqa: S105 -- not a secret; lets secret scanners and humans recognise a scimgate token
_PREFIX_LENGTH = 12  # marker + 8 characters: enough to tell tokens apart, far too few to guess
_TOKEN_ALPHABET = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
_MAX_TOKEN_LENGTH = 200
# Verified tokens kept per process; past this the cache starts over (one lookup each).
_MAX_CACHED_TOKENS = 10_000


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A freshly created token: the only object that ever holds the secret."""

    token: ScimToken
    secret: str


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a SCIM request runs as."""

    tenant: Tenant
    token_id: str
    token_name: str
    # The tenant's settings, parsed once per verification rather than on every request
    # a cached token serves.
    settings: TenantSettings = field(default_factory=TenantSettings)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(
    db: Database, tenant: Tenant, name: str | None = None, expires_in_days: int | None = None
) -> IssuedToken:
    if expires_in_days is not None and expires_in_days <= 0:
        raise InvalidValue("expires-in-days must be a positive number of days")
    name = (name or "SCIM token").strip()
    if not name or len(name) > 200:
        raise InvalidValue("a token name must have 1-200 characters")
    secret = TOKEN_MARKER + secrets.token_urlsafe(32)
    now = utcnow()
    token = ScimToken(
        id=uuid.uuid4().hex,
        tenant_id=tenant.id,
        name=name,
        prefix=secret[:_PREFIX_LENGTH],
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
        last_used_at=None,
        revoked_at=None,
    )
    with db.tenant(tenant.id, write=True) as repo:
        repo.insert_token(token, hash_secret(secret))
    return IssuedToken(token=token, secret=secret)


def list_tokens(db: Database, tenant: Tenant) -> list[ScimToken]:
    with db.tenant(tenant.id) as repo:
        return repo.list_tokens()


def revoke_token(db: Database, tenant: Tenant, token_id: str) -> ScimToken:
    with db.tenant(tenant.id, write=True) as repo:
        token = repo.revoke_token(token_id, utcnow())
    if token is None:
        raise NotFound(f"tenant {tenant.slug!r} has no token {token_id!r}")
    return token


@dataclass(frozen=True, slots=True)
class _Verified:
    """A token this process checked, and the tenant's credentials generation at the time."""

    principal: Principal
    slug: str
    expires_at: datetime | None
    generation: int


class TokenAuthenticator:
    """Checks bearer tokens against the URL's tenant.

    ``authenticate`` looks the token up by hash through a unique index on every
    call. ``authenticate_cached`` serves a token this process already verified
    from memory and hands back a ``CredentialCheck``: the request's tenant
    transactions then read the tenant's credentials generation first, in the
    same transaction as the work, and check the token again when it moved. Every
    change that can make a token stop holding (revocation, a disabled tenant,
    new tenant settings) bumps that number in its own transaction, so it holds
    on the very next request in every process. ``last_used_at`` is written at
    most once per ``touch_interval`` seconds per token and process.
    """

    def __init__(self, db: Database, *, touch_interval: float = 60.0) -> None:
        self._db = db
        self._touch_interval = touch_interval
        self._last_touch: dict[str, float] = {}
        self._lock = threading.Lock()
        self._verified: dict[str, _Verified] = {}

    def authenticate(self, tenant_slug: str, authorization: str | None) -> Principal:
        secret = bearer_secret(authorization, TOKEN_MARKER)
        presented_hash = hash_secret(secret)
        found = self._db.find_token(presented_hash)
        verified = self._check(found, presented_hash, tenant_slug)
        self._maybe_touch(verified.principal.token_id)
        return verified.principal

    def cached(self, tenant_slug: str, authorization: str | None) -> CredentialCheck | None:
        """The check of a token this process verified before; None when it must be looked up.

        No database access: safe to call on the event loop. A ``last_used_at`` write that
        is due is left to the caller (``CredentialCheck.touch_due``).
        """
        presented_hash = hash_secret(bearer_secret(authorization, TOKEN_MARKER))
        verified = self._verified.get(presented_hash)
        if verified is None or not hmac.compare_digest(
            verified.slug.encode(), tenant_slug.encode()
        ):
            return None
        if verified.expires_at is not None and verified.expires_at <= utcnow():
            return None
        check = CredentialCheck(self, presented_hash, verified)
        check.touch_due = self._touch_due(verified.principal.token_id)
        return check

    def _check(self, found: FoundToken | None, presented_hash: str, tenant_slug: str) -> _Verified:
        """Every rule a token must pass; remembers the token when it passes, forgets it if not."""
        try:
            verified = self._rules(found, presented_hash, tenant_slug)
        except Unauthorized:
            self._verified.pop(presented_hash, None)
            raise
        if len(self._verified) >= _MAX_CACHED_TOKENS:
            self._verified.clear()
        self._verified[presented_hash] = verified
        return verified

    @staticmethod
    def _rules(found: FoundToken | None, presented_hash: str, tenant_slug: str) -> _Verified:
        if found is None:
            raise Unauthorized("Invalid bearer token")
        token, tenant = found.token, found.tenant
        # The index lookup already matched; comparing again in constant time
        # keeps the decision itself free of timing differences.
        if not hmac.compare_digest(found.secret_hash, presented_hash):
            raise Unauthorized("Invalid bearer token")
        if not hmac.compare_digest(tenant.slug.encode(), tenant_slug.encode()):
            raise TokenOfAnotherTenant()
        if token.revoked_at is not None:
            raise Unauthorized("The bearer token has been revoked")
        if token.expires_at is not None and token.expires_at <= utcnow():
            raise Unauthorized("The bearer token has expired")
        if tenant.disabled:
            raise Unauthorized("The tenant is disabled")
        principal = Principal(
            tenant=tenant,
            token_id=token.id,
            token_name=token.name,
            settings=TenantSettings.from_dict(tenant.settings),
        )
        return _Verified(principal, tenant.slug, token.expires_at, found.generation)

    def touch(self, token_id: str) -> None:
        """Write the token's ``last_used_at`` (a write transaction of its own)."""
        with self._db.directory(write=True) as directory:
            directory.touch_token(token_id, utcnow())

    def _maybe_touch(self, token_id: str) -> None:
        if self._touch_due(token_id):
            self.touch(token_id)

    def _touch_due(self, token_id: str) -> bool:
        """Whether this process should write the token's ``last_used_at`` now; claims the
        interval when it should, so that one request of many does."""
        moment = time.monotonic()
        with self._lock:
            last = self._last_touch.get(token_id)
            if last is not None and moment - last < self._touch_interval:
                return False
            self._last_touch[token_id] = moment
        return True


class StaleCredentials(Exception):
    """The request began with a cached view of its token and tenant that has since moved
    (new settings, another token revoked): its transaction rolls back, and the request
    starts over with the fresh view. Never reaches a client."""


class CredentialCheck:
    """One request's token, verified from the cache: confirmed inside each tenant transaction."""

    def __init__(
        self, authenticator: TokenAuthenticator, presented_hash: str, verified: _Verified
    ) -> None:
        self._authenticator = authenticator
        self._hash = presented_hash
        self._verified = verified
        self.verified = False  # True once a transaction (or a lookup) confirmed the token
        # The token's last_used_at is due: the caller writes it (``TokenAuthenticator.touch``)
        # where it may block, as ``cached`` runs on the event loop.
        self.touch_due = False

    @property
    def principal(self) -> Principal:
        return self._verified.principal

    def confirm(self, repo: TenantRepository) -> None:
        """Raise Unauthorized, inside ``repo``'s transaction, if the token no longer holds.

        The generation moved: the token is checked again on the same transaction.
        If it still holds (another token was revoked, the settings changed), the
        cache learns the new state and, unless an earlier transaction of this
        request already confirmed it, StaleCredentials sends the request back to
        start over with that state: it must see the settings in force.
        """
        current = repo.credentials_generation()  # a counter, not a secret
        if current != self._verified.generation:
            found = repo.find_token(self._hash)
            self._verified = self._authenticator._check(found, self._hash, self._verified.slug)
            if not self.verified:
                raise StaleCredentials
        self.verified = True

    def confirm_generation(self, current: int | None) -> None:
        """``confirm`` for a single-statement read that brought the generation (None: the
        tenant is gone) in its own row: a moved generation is checked through a fresh
        lookup of the token, on its own connection."""
        if current != self._verified.generation:
            found = self._authenticator._db.find_token(self._hash)
            self._verified = self._authenticator._check(found, self._hash, self._verified.slug)
            if not self.verified:
                raise StaleCredentials
        self.verified = True

    def expect_generation(self, current: int | None) -> None:
        """``confirm_generation`` for a read awaited on the event loop, which must not block
        on a lookup: a moved generation sends the request back to start over with the
        token looked up afresh (StaleCredentials), as a moved generation is rare. Only for a
        request whose one read this is: starting over must not repeat a write."""
        if current != self._verified.generation:
            raise StaleCredentials
        self.verified = True

    def confirm_alone(self) -> None:
        """Check the token on its own (a request that opened no tenant transaction)."""
        if not self.verified:
            found = self._authenticator._db.find_token(self._hash)
            self._verified = self._authenticator._check(found, self._hash, self._verified.slug)
            self.verified = True


def bearer_secret(authorization: str | None, marker: str) -> str:
    """The secret of ``Authorization: Bearer <marker>...``; Unauthorized for anything else.

    Shared by SCIM tokens (``sgt_``) and API keys (``sgk_``): a secret of the
    other kind is refused here, before any database lookup.
    """
    if not authorization:
        raise Unauthorized("Missing Authorization header")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() != "bearer":
        raise Unauthorized("Authorization must use the Bearer scheme")
    secret = credentials.strip()
    if not secret:
        raise Unauthorized("Empty bearer token")
    if (
        len(secret) > _MAX_TOKEN_LENGTH
        or not secret.startswith(marker)
        or not _TOKEN_ALPHABET.issuperset(secret[len(marker) :])
    ):
        raise Unauthorized("Malformed bearer token")
    return secret
