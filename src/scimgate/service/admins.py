"""Admin console accounts: argon2id password hashes, lockout with backoff, tenant reach.

A password is a low-entropy secret, unlike a SCIM token, so it gets a slow
hash (argon2id). After ``LOCK_AFTER`` consecutive failures an account is
locked for 30 s, doubling with each further failure up to 15 minutes; the
state lives in the database so that every server process sees it.

Every attempt is also written to ``admin_login_attempts``, the sign-in audit
trail, and two throttles count its rows: ``LOCK_AFTER`` failures for one
email within the window, whether or not an account has that email (so the
answer never tells which emails exist), and ``failures_per_ip`` failures from
one client address. A throttled attempt is refused before the password is
checked, with 429 and the minutes until the oldest counted failure leaves the
window.
"""

from __future__ import annotations

import logging
import math
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from scimgate.errors import Conflict, InvalidValue, RateLimited, Unauthorized
from scimgate.model.entities import Tenant
from scimgate.service.clock import utcnow
from scimgate.storage.admins import AdminAccount as AdminAccount
from scimgate.storage.admins import LoginAttempt as LoginAttempt
from scimgate.storage.admins import (
    account_by_email,
    account_by_id,
    failures_since,
    insert_account,
    note_login,
    recent_attempts,
    record_attempt,
)
from scimgate.storage.database import Database

LOCK_AFTER = 5
_FIRST_LOCK = timedelta(seconds=30)
_LONGEST_LOCK = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHasher()
# Verified against when the email is unknown, so that a miss costs as long as a hit.
_DUMMY_HASH = _hasher.hash("scimgate-no-such-account")


logger = logging.getLogger("scimgate.admin")

_FAILED = "failed"
_LOCKED = "locked"
_THROTTLED = "throttled"
_SUCCEEDED = "succeeded"
_COUNTED = (_FAILED, _LOCKED)


class LoginRefused(Unauthorized):
    default_detail = "Wrong email or password"


class LoginThrottled(RateLimited):
    default_detail = "Too many sign-in attempts; try again later"


@dataclass(frozen=True, slots=True)
class Throttle:
    """Failures allowed per client address within ``window``."""

    failures_per_ip: int = 20
    window: timedelta = timedelta(minutes=15)


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
    db: Database,
    email: str,
    password: str,
    client_ip: str = "",
    now: datetime | None = None,
    throttle: Throttle = Throttle(),
) -> AdminAccount:
    """The account, or LoginRefused (the same message whatever was wrong), or
    LoginThrottled; each attempt leaves a row in the sign-in audit trail."""
    now = now or utcnow()
    try:
        email = normalize_email(email)
    except InvalidValue:
        email = email.strip().lower()[:320]
    attempt = LoginAttempt(now, email, client_ip[:64], None, _FAILED)
    _refuse_when_throttled(db, attempt, throttle)
    account = account_by_email(db, email)
    if account is None:
        _verify(_DUMMY_HASH, password)
        record_attempt(db, attempt)
        raise LoginRefused()
    attempt = replace(attempt, account_id=account.id)
    if account.locked_until is not None and account.locked_until > now:
        record_attempt(db, _as(attempt, _LOCKED))
        raise _throttled(_ACCOUNT_MESSAGE, account.locked_until - now)
    if not _verify(account.password_hash, password):
        failures = account.failed_logins + 1
        locked = None
        if failures >= LOCK_AFTER:
            locked = now + min(_FIRST_LOCK * 2 ** (failures - LOCK_AFTER), _LONGEST_LOCK)
        note_login(db, account.id, failed_logins=failures, locked_until=locked)
        record_attempt(db, attempt)
        raise LoginRefused()
    rehash = _hasher.hash(password) if _hasher.check_needs_rehash(account.password_hash) else None
    note_login(
        db, account.id, failed_logins=0, locked_until=None, logged_in_at=now, password_hash=rehash
    )
    record_attempt(db, _as(attempt, _SUCCEEDED))
    return account


_IP_MESSAGE = "Too many sign-in attempts from this address; try again in {}"
_ACCOUNT_MESSAGE = "Too many sign-in attempts for this account; try again in {}"


def _refuse_when_throttled(db: Database, attempt: LoginAttempt, throttle: Throttle) -> None:
    since = attempt.occurred_at - throttle.window
    count, oldest = failures_since(db, since, _COUNTED, client_ip=attempt.client_ip)
    message = _IP_MESSAGE
    if count < throttle.failures_per_ip:
        count, oldest = failures_since(db, since, _COUNTED, email=attempt.email)
        message = _ACCOUNT_MESSAGE
        if count < LOCK_AFTER:
            return
    assert oldest is not None
    record_attempt(db, _as(attempt, _THROTTLED))
    logger.warning(
        "console sign-in throttled",
        extra={"client_ip": attempt.client_ip, "reason": message.split(";")[0]},
    )
    raise _throttled(message, oldest + throttle.window - attempt.occurred_at)


def _throttled(message: str, wait: timedelta) -> LoginThrottled:
    seconds = max(1, math.ceil(wait.total_seconds()))
    minutes = math.ceil(seconds / 60)
    return LoginThrottled(seconds, message.format(f"{minutes} minute{'s' * (minutes != 1)}"))


def _as(attempt: LoginAttempt, outcome: str) -> LoginAttempt:
    return replace(attempt, outcome=outcome)


def login_attempts(db: Database, limit: int = 100) -> list[LoginAttempt]:
    """The newest sign-in attempts first: the console's sign-in audit trail."""
    return recent_attempts(db, limit)


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
