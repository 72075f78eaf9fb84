"""SP key rotation: the previous private key is kept until the rotation is finished

Revision ID: 0011_sso_sp_previous_key
Revises: 0010_credentials_generation
Create Date: 2026-12-07 02:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_sso_sp_previous_key"
down_revision = "0010_credentials_generation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sso_sp_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("previous_private_key", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sso_sp_keys", schema=None) as batch_op:
        batch_op.drop_column("previous_private_key")
