"""Database tables. Classes end in ``Record`` so they never clash with SCIM models.

Storage shape (see docs/explanation/architecture.md):

* a resource is a row with the columns people filter, sort and join on
  (``user_name_lower``, ``external_id``, ``active``, timestamps, ``version``)
  plus the rest of the SCIM document as JSON (JSONB on PostgreSQL);
* group membership is one row per (group, member), never a JSON list, so
  adding or removing a member costs the same at 10 or 100,000 members;
* every tenant-owned row carries ``tenant_id``; only ``TenantRepository``
  reads or writes them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from scimgate.storage.types import JSONDocument, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONDocument}


class TenantRecord(Base):
    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    slug: Mapped[str] = mapped_column(sa.String(63), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime]
    disabled: Mapped[bool] = mapped_column(default=False)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ScimTokenRecord(Base):
    __tablename__ = "scim_tokens"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(200))
    # The first characters of the secret, shown in lists so admins can tell tokens apart.
    prefix: Mapped[str] = mapped_column(sa.String(16))
    # SHA-256 of the whole token; the secret itself is never stored.
    secret_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class UserRecord(Base):
    __tablename__ = "users"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "user_name_lower"),
        sa.Index(None, "tenant_id", "external_id"),
        sa.Index(None, "tenant_id", "id"),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    user_name: Mapped[str] = mapped_column(sa.String(512))
    # userName is case-insensitive (RFC 7643 §4.1.1): the lowered copy carries the index.
    user_name_lower: Mapped[str] = mapped_column(sa.String(512))
    external_id: Mapped[str | None] = mapped_column(sa.String(512))
    display_name: Mapped[str | None] = mapped_column(sa.String(512))
    active: Mapped[bool]
    created: Mapped[datetime]
    last_modified: Mapped[datetime]
    version: Mapped[int]
    # Every other SCIM attribute, keyed by its canonical name.
    doc: Mapped[dict[str, Any]]


class GroupRecord(Base):
    __tablename__ = "groups"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "display_name_lower"),
        sa.Index(None, "tenant_id", "external_id"),
        sa.Index(None, "tenant_id", "id"),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    display_name: Mapped[str] = mapped_column(sa.String(512))
    display_name_lower: Mapped[str] = mapped_column(sa.String(512))
    external_id: Mapped[str | None] = mapped_column(sa.String(512))
    created: Mapped[datetime]
    last_modified: Mapped[datetime]
    version: Mapped[int]
    doc: Mapped[dict[str, Any]]


class GroupMemberRecord(Base):
    __tablename__ = "group_members"
    # (group_id, member_id) leads the primary key and member_id has its own index:
    # both cascades (delete group, delete user) and both directions of the join
    # (Group.members, User.groups) are index lookups.
    __table_args__ = (sa.Index(None, "member_id", "group_id"),)

    group_id: Mapped[str] = mapped_column(
        sa.ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[str] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))


# Core tables, for the SQLAlchemy Core statements on the hot path.
tenants = cast(sa.Table, TenantRecord.__table__)
scim_tokens = cast(sa.Table, ScimTokenRecord.__table__)
users = cast(sa.Table, UserRecord.__table__)
groups = cast(sa.Table, GroupRecord.__table__)
group_members = cast(sa.Table, GroupMemberRecord.__table__)
