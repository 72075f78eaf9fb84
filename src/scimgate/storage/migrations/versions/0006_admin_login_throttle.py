"""console sign-in attempts: the sign-in audit trail and the per-address throttle

Revision ID: 0006_admin_login_throttle
Revises: 0005_unicode_user_names
Create Date: 2026-12-06 23:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import scimgate.storage.types

revision = "0006_admin_login_throttle"
down_revision = "0005_unicode_user_names"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "admin_login_attempts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("occurred_at", scimgate.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("client_ip", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_login_attempts")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("admin_login_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_admin_login_attempts_client_ip_occurred_at"),
            ["client_ip", "occurred_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_admin_login_attempts_email_occurred_at"),
            ["email", "occurred_at"],
            unique=False,
        )


def downgrade() -> None:
    op.drop_table("admin_login_attempts")
