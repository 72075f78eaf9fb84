"""single sign-on: connections, SP keys, pending sign-ins, replay cache, codes, identities

Revision ID: 0007_sso
Revises: 0006_admin_login_throttle
Create Date: 2026-12-07 01:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import scimgate.storage.types

revision = "0007_sso"
down_revision = "0006_admin_login_throttle"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sso_connections",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("protocol", sa.String(length=8), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("jit", sa.Boolean(), nullable=False),
        sa.Column("jit_requires_scim", sa.Boolean(), nullable=False),
        sa.Column("match_by", sa.String(length=16), nullable=False),
        sa.Column("allow_idp_initiated", sa.Boolean(), nullable=False),
        sa.Column("groups_to_roles", sa.Boolean(), nullable=False),
        sa.Column(
            "config",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("client_secret", sa.Text(), nullable=True),
        sa.Column("created_at", scimgate.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", scimgate.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_sso_connections_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_connections")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_sso_connections_tenant_id_name")),
    )
    op.create_table(
        "sso_seen_assertions",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("assertion_id", sa.String(length=256), nullable=False),
        sa.Column("not_after", scimgate.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_sso_seen_assertions_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "assertion_id", name=op.f("pk_sso_seen_assertions")),
    )
    with op.batch_alter_table("sso_seen_assertions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sso_seen_assertions_not_after"), ["not_after"], unique=False
        )

    op.create_table(
        "sso_sp_keys",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("private_key", sa.Text(), nullable=False),
        sa.Column("cert", sa.Text(), nullable=False),
        sa.Column("previous_cert", sa.Text(), nullable=True),
        sa.Column("created_at", scimgate.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_sso_sp_keys_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_sso_sp_keys")),
    )
    op.create_table(
        "sso_codes",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column(
            "profile",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("expires_at", scimgate.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", scimgate.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["sso_connections.id"],
            name=op.f("fk_sso_codes_connection_id_sso_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_sso_codes_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sso_codes_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_sso_codes")),
    )
    with op.batch_alter_table("sso_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sso_codes_expires_at"), ["expires_at"], unique=False)

    op.create_table(
        "sso_identities",
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=512), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", scimgate.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "last_sign_in_at", scimgate.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["sso_connections.id"],
            name=op.f("fk_sso_identities_connection_id_sso_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_sso_identities_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_sso_identities_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("connection_id", "subject", name=op.f("pk_sso_identities")),
    )
    with op.batch_alter_table("sso_identities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sso_identities_user_id"), ["user_id"], unique=False)

    op.create_table(
        "sso_pending",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("protocol_ref", sa.String(length=256), nullable=False),
        sa.Column("redirect_uri", sa.String(length=2048), nullable=False),
        sa.Column("host_state", sa.String(length=1024), nullable=True),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("expires_at", scimgate.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["sso_connections.id"],
            name=op.f("fk_sso_pending_connection_id_sso_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_sso_pending_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_pending")),
        sa.UniqueConstraint("protocol_ref", name=op.f("uq_sso_pending_protocol_ref")),
    )
    with op.batch_alter_table("sso_pending", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sso_pending_expires_at"), ["expires_at"], unique=False)

    op.create_table(
        "sso_user_groups",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("value", sa.String(length=512), nullable=False),
        sa.Column("value_lower", sa.String(length=512), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_sso_user_groups_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_sso_user_groups_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "value", name=op.f("pk_sso_user_groups")),
    )
    with op.batch_alter_table("sso_user_groups", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sso_user_groups_tenant_id_value"), ["tenant_id", "value"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sso_user_groups_tenant_id_value_lower"),
            ["tenant_id", "value_lower"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("sso_user_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sso_user_groups_tenant_id_value_lower"))
        batch_op.drop_index(batch_op.f("ix_sso_user_groups_tenant_id_value"))

    op.drop_table("sso_user_groups")
    with op.batch_alter_table("sso_pending", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sso_pending_expires_at"))

    op.drop_table("sso_pending")
    with op.batch_alter_table("sso_identities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sso_identities_user_id"))

    op.drop_table("sso_identities")
    with op.batch_alter_table("sso_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sso_codes_expires_at"))

    op.drop_table("sso_codes")
    op.drop_table("sso_sp_keys")
    with op.batch_alter_table("sso_seen_assertions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sso_seen_assertions_not_after"))

    op.drop_table("sso_seen_assertions")
    op.drop_table("sso_connections")
