"""setup links and their uses

Revision ID: 0008_setup_links
Revises: 0007_sso
Create Date: 2026-12-07 01:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import scimgate.storage.types

revision = "0008_setup_links"
down_revision = "0007_sso"
branch_labels = None
depends_on = None


def _moment(name: str, *, nullable: bool) -> sa.Column[object]:
    return sa.Column(name, scimgate.storage.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "setup_links",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.String(length=32), nullable=False),
        _moment("created_at", nullable=False),
        _moment("expires_at", nullable=False),
        _moment("revoked_at", nullable=True),
        _moment("completed_at", nullable=True),
        _moment("last_used_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_setup_links_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_setup_links")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_setup_links_secret_hash")),
    )
    with op.batch_alter_table("setup_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_setup_links_tenant_id"), ["tenant_id"], unique=False)
    op.create_table(
        "setup_link_uses",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("link_id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        _moment("occurred_at", nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("client_ip", sa.String(length=64), nullable=False),
        sa.Column("user_agent", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["link_id"],
            ["setup_links.id"],
            name=op.f("fk_setup_link_uses_link_id_setup_links"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_setup_link_uses_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_setup_link_uses")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("setup_link_uses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_setup_link_uses_tenant_id_link_id_id"),
            ["tenant_id", "link_id", "id"],
            unique=False,
        )


def downgrade() -> None:
    op.drop_table("setup_link_uses")
    op.drop_table("setup_links")
