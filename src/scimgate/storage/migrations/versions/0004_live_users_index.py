"""index of live users by tenant and id, for list pages

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 22:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_LIVE = sa.text("deleted_at IS NULL")


def upgrade() -> None:
    op.create_index(
        "ix_users_live_tenant_id_id",
        "users",
        ["tenant_id", "id"],
        unique=False,
        sqlite_where=_LIVE,
        postgresql_where=_LIVE,
    )


def downgrade() -> None:
    op.drop_index("ix_users_live_tenant_id_id", table_name="users")
