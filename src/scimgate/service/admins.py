"""Admin console accounts: argon2id password hashes, lockout with backoff, tenant reach.

A password is a low-entropy secret, unlike a SCIM token, so it gets a slow
hash (argon2id). After ``LOCK_AFTER`` consecutive failures an account is
locked for 30 s, doubling with each further failure up to 15 minutes; the
state lives in the database so that every server process sees it.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from scimgate.errors import Conflict, InvalidValue, Unauthorized
from scimgate.model.entities import Tenant
from scimgate.service.clock import utcnow
from scimgate.storage.admins import AdminAccount as AdminAccount
from scimgate.storage.admins import (
    account_by_email,
    account_by_id,
    insert_account,
    note_login,
)
from scimgate.storage.database import Database

LOCK_AFTER = 5
_FIRST_LOCK = timedelta(seconds=30)
_LONGEST_LOCK = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHasher()
# Verified against when the email is unknown, so that a miss costs as long as a hit.
_DUMMY_HASH = _hasher.hash("scimgate-no-such-account")


class LoginRefused(Unauthorized):
    default_detail = "Wrong email or password"


def normalize_email(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email or len(email) > 320 or any(c.isspace() for c in email):
        raise InvalidValue("an email address looks like name@example.com")
    return email


def create_admin(
    db: Database, email: str, password: str, tenant: Tenant | None = None
) -> AdminAccount:
    """A console account limited to ``tenant``, or an operator's when ``tenant`` is None."""
    email = normalize_email(email)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidValue(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    tenant_id = tenant.id if tenant is not None else None
    account = AdminAccount(
        id=uuid.uuid4().hex,
        email=email,
        password_hash=_hasher.hash(password),
        tenant_id=tenant_id,
        created_at=utcnow(),
        failed_logins=0,
        locked_until=None,
        last_login_at=None,
    )
    if not insert_account(db, account):
        raise Conflict(f"an admin {email!r} already exists")
    return account


def authenticate(
    db: Database, email: str, password: str, now: datetime | None = None
) -> AdminAccount:
    """The account, or LoginRefused (the same message whatever was wrong)."""
    now = now or utcnow()
    try:
        account = account_by_email(db, normalize_email(email))
    except InvalidValue:
        account = None
    if account is None:
        _verify(_DUMMY_HASH, password)
        raise LoginRefused()
    if account.locked_until is not None and account.locked_until > now:
        raise LoginRefused("Too many failed attempts; try again in a few minutes")
    if not _verify(account.password_hash, password):
        failures = account.failed_logins + 1
        locked = None
        if failures >= LOCK_AFTER:
            locked = now + min(_FIRST_LOCK * 2 ** (failures - LOCK_AFTER), _LONGEST_LOCK)
        note_login(db, account.id, failed_logins=failures, locked_until=locked)
        raise LoginRefused()
    rehash = _hasher.hash(password) if _hasher.check_needs_rehash(account.password_hash) else None
    note_login(
        db, account.id, failed_logins=0, locked_until=None, logged_in_at=now, password_hash=rehash
    )
    return account


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def get_admin(db: Database, account_id: str) -> AdminAccount | None:
    return account_by_id(db, account_id)


def may_manage(account: AdminAccount, tenant: Tenant) -> bool:
    """Operators manage every tenant; a tenant admin only its own."""
    return account.tenant_id is None or account.tenant_id == tenant.id
