"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-28 18:40:09.714232
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import scimgate.storage.types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("slug", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", scimgate.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column(
            "settings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
        sa.UniqueConstraint("slug", name=op.f("uq_tenants_slug")),
    )
    op.create_table(
        "groups",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("display_name", sa.String(length=512), nullable=False),
        sa.Column("display_name_lower", sa.String(length=512), nullable=False),
        sa.Column("external_id", sa.String(length=512), nullable=True),
        sa.Column("created", scimgate.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "last_modified", scimgate.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "doc",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_groups_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_groups")),
        sa.UniqueConstraint(
            "tenant_id", "display_name_lower", name=op.f("uq_groups_tenant_id_display_name_lower")
        ),
    )
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_groups_tenant_id_external_id"),
            ["tenant_id", "external_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_groups_tenant_id_id"), ["tenant_id", "id"], unique=False
        )

    op.create_table(
        "scim_tokens",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", scimgate.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", scimgate.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", scimgate.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", scimgate.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_scim_tokens_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scim_tokens")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_scim_tokens_secret_hash")),
    )
    with op.batch_alter_table("scim_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scim_tokens_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("user_name", sa.String(length=512), nullable=False),
        sa.Column("user_name_lower", sa.String(length=512), nullable=False),
        sa.Column("external_id", sa.String(length=512), nullable=True),
        sa.Column("display_name", sa.String(length=512), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created", scimgate.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "last_modified", scimgate.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "doc",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_users_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint(
            "tenant_id", "user_name_lower", name=op.f("uq_users_tenant_id_user_name_lower")
        ),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_users_tenant_id_external_id"), ["tenant_id", "external_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_users_tenant_id_id"), ["tenant_id", "id"], unique=False
        )

    op.create_table(
        "group_members",
        sa.Column("group_id", sa.String(length=36), nullable=False),
        sa.Column("member_id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_group_members_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["users.id"],
            name=op.f("fk_group_members_member_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_group_members_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "member_id", name=op.f("pk_group_members")),
    )
    with op.batch_alter_table("group_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_group_members_member_id_group_id"),
            ["member_id", "group_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("group_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_group_members_member_id_group_id"))

    op.drop_table("group_members")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_tenant_id_id"))
        batch_op.drop_index(batch_op.f("ix_users_tenant_id_external_id"))

    op.drop_table("users")
    with op.batch_alter_table("scim_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scim_tokens_tenant_id"))

    op.drop_table("scim_tokens")
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_groups_tenant_id_id"))
        batch_op.drop_index(batch_op.f("ix_groups_tenant_id_external_id"))

    op.drop_table("groups")
    op.drop_table("tenants")
