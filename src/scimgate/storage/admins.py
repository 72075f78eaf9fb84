"""Admin console accounts, across tenants.

Cross-tenant on purpose: an account is looked up by email before anyone
knows which tenant it may manage, and an operator account (``tenant_id``
NULL) manages every tenant, so accounts belong to no tenant's repository.
The ``tenant_id`` stored here is the one tenant an account may manage, set by
the operator; this module never uses it to reach that tenant's rows.
Sign-in attempts are kept here too, by email and client address: they are
counted before anyone knows which account, if any, an email names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from scimgate.storage.tables import admin_accounts, admin_login_attempts

if TYPE_CHECKING:
    from scimgate.storage.database import Database


@dataclass(frozen=True, slots=True)
class AdminAccount:
    id: str
    email: str
    password_hash: str
    tenant_id: int | None
    created_at: datetime
    failed_logins: int
    locked_until: datetime | None
    last_login_at: datetime | None

    @property
    def is_operator(self) -> bool:
        return self.tenant_id is None


def _account(row: Any) -> AdminAccount:
    return AdminAccount(
        id=row.id,
        email=row.email,
        password_hash=row.password_hash,
        tenant_id=row.tenant_id,
        created_at=row.created_at,
        failed_logins=row.failed_logins,
        locked_until=row.locked_until,
        last_login_at=row.last_login_at,
    )


def insert_account(db: Database, account: AdminAccount) -> bool:
    """False when the email is taken."""
    with db.engine.begin() as conn:
        taken = conn.execute(
            sa.select(admin_accounts.c.id).where(admin_accounts.c.email == account.email)
        ).first()
        if taken:
            return False
        conn.execute(
            admin_accounts.insert().values(
                id=account.id,
                email=account.email,
                password_hash=account.password_hash,
                tenant_id=account.tenant_id,
                created_at=account.created_at,
                failed_logins=0,
                locked_until=None,
                last_login_at=None,
            )
        )
        return True


def account_by_email(db: Database, email: str) -> AdminAccount | None:
    with db.engine.connect() as conn:
        row = conn.execute(sa.select(admin_accounts).where(admin_accounts.c.email == email)).first()
    return _account(row) if row else None


def account_by_id(db: Database, account_id: str) -> AdminAccount | None:
    with db.engine.connect() as conn:
        row = conn.execute(
            sa.select(admin_accounts).where(admin_accounts.c.id == account_id)
        ).first()
    return _account(row) if row else None


def note_login(
    db: Database,
    account_id: str,
    *,
    failed_logins: int,
    locked_until: datetime | None,
    logged_in_at: datetime | None = None,
    password_hash: str | None = None,
) -> None:
    values: dict[str, Any] = {"failed_logins": failed_logins, "locked_until": locked_until}
    if logged_in_at is not None:
        values["last_login_at"] = logged_in_at
    if password_hash is not None:
        values["password_hash"] = password_hash
    with db.engine.begin() as conn:
        conn.execute(
            admin_accounts.update().where(admin_accounts.c.id == account_id).values(**values)
        )


@dataclass(frozen=True, slots=True)
class LoginAttempt:
    occurred_at: datetime
    email: str
    client_ip: str
    account_id: str | None
    outcome: str


def record_attempt(db: Database, attempt: LoginAttempt) -> None:
    with db.engine.begin() as conn:
        conn.execute(
            admin_login_attempts.insert().values(
                occurred_at=attempt.occurred_at,
                email=attempt.email,
                client_ip=attempt.client_ip,
                account_id=attempt.account_id,
                outcome=attempt.outcome,
            )
        )


def failures_since(
    db: Database,
    since: datetime,
    outcomes: tuple[str, ...],
    *,
    email: str | None = None,
    client_ip: str | None = None,
) -> tuple[int, datetime | None]:
    """How many attempts with one of ``outcomes`` came from ``email`` or ``client_ip``
    since ``since``, and when the oldest of them was."""
    t = admin_login_attempts
    column, value = (t.c.email, email) if email is not None else (t.c.client_ip, client_ip)
    query = sa.select(sa.func.count(), sa.func.min(t.c.occurred_at)).where(
        column == value, t.c.occurred_at > since, t.c.outcome.in_(outcomes)
    )
    with db.engine.connect() as conn:
        count, oldest = conn.execute(query).one()
    return int(count), oldest


def recent_attempts(db: Database, limit: int) -> list[LoginAttempt]:
    t = admin_login_attempts
    query = sa.select(t).order_by(t.c.id.desc()).limit(limit)
    with db.engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        LoginAttempt(
            occurred_at=row.occurred_at,
            email=row.email,
            client_ip=row.client_ip,
            account_id=row.account_id,
            outcome=row.outcome,
        )
        for row in rows
    ]
