"""Host-app API keys: created once, shown once, stored as a SHA-256 hash like SCIM tokens.

A key bound to a tenant may act only on that tenant (403 elsewhere); an
unbound key is an operator key that may act on every tenant and list them.
SHA-256 rather than a slow hash for the reason ``scimgate.service.tokens``
gives: the secret is 256 random bits, there is nothing to brute-force.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
import uuid
from dataclasses import dataclass

from scimgate.errors import Forbidden, InvalidValue, NotFound, Unauthorized
from scimgate.model.entities import Tenant
from scimgate.service.clock import utcnow
from scimgate.service.tokens import bearer_secret, hash_secret
from scimgate.storage.api_keys import ApiKeyRow as ApiKeyRow
from scimgate.storage.database import Database

KEY_MARKER = "sgk_"  # tells an API key from a SCIM token (sgt_) at a glance
_PREFIX_LENGTH = 12


@dataclass(frozen=True, slots=True)
class IssuedApiKey:
    """A freshly created key: the only object that ever holds the secret."""

    key: ApiKeyRow
    secret: str


@dataclass(frozen=True, slots=True)
class ApiPrincipal:
    """Who a host-API request runs as: a tenant key (``tenant_id`` set) or an operator key."""

    key_id: str
    key_name: str
    tenant_id: int | None

    @property
    def is_operator(self) -> bool:
        return self.tenant_id is None

    def check_tenant(self, tenant: Tenant) -> None:
        if self.tenant_id is not None and self.tenant_id != tenant.id:
            raise Forbidden("this API key belongs to another tenant")

    def check_operator(self) -> None:
        if self.tenant_id is not None:
            raise Forbidden("only an operator key (one bound to no tenant) may do this")


def create_api_key(
    db: Database, tenant: Tenant | None = None, name: str | None = None
) -> IssuedApiKey:
    """A new key bound to ``tenant``, or an operator key when ``tenant`` is None."""
    name = (name or "API key").strip()
    if not name or len(name) > 200:
        raise InvalidValue("a key name must have 1-200 characters")
    tenant_id = tenant.id if tenant is not None else None
    secret = KEY_MARKER + secrets.token_urlsafe(32)
    with db.directory(write=True) as directory:
        key = directory.api_keys.insert(
            key_id=uuid.uuid4().hex,
            tenant_id=tenant_id,
            name=name,
            prefix=secret[:_PREFIX_LENGTH],
            secret_hash=hash_secret(secret),
            now=utcnow(),
        )
    return IssuedApiKey(key=key, secret=secret)


def list_api_keys(db: Database) -> list[ApiKeyRow]:
    with db.directory() as directory:
        return directory.api_keys.list_keys()


def revoke_api_key(db: Database, key_id: str) -> ApiKeyRow:
    with db.directory(write=True) as directory:
        key = directory.api_keys.revoke(key_id, utcnow())
    if key is None:
        raise NotFound(f"no API key {key_id!r}")
    return key


class ApiKeyAuthenticator:
    """Checks ``Authorization: Bearer sgk_...`` headers.

    Each request looks its key up by hash through the unique index, so a
    revocation takes effect on the next request in every process.
    ``last_used_at`` is written at most once per ``touch_interval`` seconds per
    key and process.
    """

    def __init__(self, db: Database, *, touch_interval: float = 60.0) -> None:
        self._db = db
        self._touch_interval = touch_interval
        self._last_touch: dict[str, float] = {}
        self._lock = threading.Lock()

    def authenticate(self, authorization: str | None) -> ApiPrincipal:
        presented_hash = hash_secret(_presented_key(authorization))
        with self._db.directory() as directory:
            found = directory.api_keys.by_hash(presented_hash)
        if found is None:
            raise Unauthorized("Invalid API key")
        key, stored_hash = found
        if not hmac.compare_digest(stored_hash, presented_hash):
            raise Unauthorized("Invalid API key")
        if key.revoked_at is not None:
            raise Unauthorized("The API key has been revoked")
        self._maybe_touch(key.id)
        return ApiPrincipal(key_id=key.id, key_name=key.name, tenant_id=key.tenant_id)

    def _maybe_touch(self, key_id: str) -> None:
        moment = time.monotonic()
        with self._lock:
            last = self._last_touch.get(key_id)
            if last is not None and moment - last < self._touch_interval:
                return
            self._last_touch[key_id] = moment
        with self._db.directory(write=True) as directory:
            directory.api_keys.touch(key_id, utcnow())


def _presented_key(authorization: str | None) -> str:
    return bearer_secret(authorization, KEY_MARKER)
