"""connection states: what keeps connection.degraded from being written twice

Revision ID: 0009_doctor
Revises: 0008_setup_links
Create Date: 2026-12-07 01:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import scimgate.storage.types

revision = "0009_doctor"
down_revision = "0008_setup_links"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "connection_states",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("changed_at", scimgate.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_connection_states_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_connection_states")),
    )
    with op.batch_alter_table("connection_states", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_connection_states_state"), ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("connection_states", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_connection_states_state"))
    op.drop_table("connection_states")
