"""Admin console accounts, across tenants.

Cross-tenant on purpose: an account is looked up by email before anyone
knows which tenant it may manage, and an operator account (``tenant_id``
NULL) manages every tenant, so accounts belong to no tenant's repository.
The ``tenant_id`` stored here is the one tenant an account may manage, set by
the operator; this module never uses it to reach that tenant's rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from scimgate.storage.tables import admin_accounts

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
