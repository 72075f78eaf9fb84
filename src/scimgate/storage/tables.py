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
    # Bumped by every change that can make a verified SCIM token stop holding (a token
    # revoked, the tenant disabled, its settings changed): a process that cached its check
    # of a token re-checks it when the number it reads in the request's transaction moved.
    credentials_generation: Mapped[int] = mapped_column(sa.BigInteger, server_default="0")


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
        sa.Index(None, "tenant_id", "deleted_at"),
        # The users SCIM can see, in list order: a page deep into a 100k-user
        # tenant skips index entries instead of table rows (bench/README.md
        # has the deep-page figures).
        sa.Index(
            "ix_users_live_tenant_id_id",
            "tenant_id",
            "id",
            sqlite_where=sa.text("deleted_at IS NULL"),
            postgresql_where=sa.text("deleted_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    user_name: Mapped[str] = mapped_column(sa.String(512))
    # userName is case-insensitive (RFC 7643 §4.1.1): its fold (model/identity.py)
    # carries the index.
    user_name_lower: Mapped[str] = mapped_column(sa.String(512))
    external_id: Mapped[str | None] = mapped_column(sa.String(512))
    display_name: Mapped[str | None] = mapped_column(sa.String(512))
    # ``active`` is the SCIM attribute as the IdP set it.
    active: Mapped[bool]
    created: Mapped[datetime]
    last_modified: Mapped[datetime]
    version: Mapped[int]
    # Every other SCIM attribute, keyed by its canonical name.
    doc: Mapped[dict[str, Any]]
    # Whether the host app should let the user in: the IdP's ``active`` and the
    # tenant's lifecycle rules together; the reason when not.
    enabled: Mapped[bool] = mapped_column(server_default=sa.true())
    deactivation_reason: Mapped[str | None] = mapped_column(sa.String(32))
    # Soft-deleted users are gone for SCIM (404) and purged after the tenant's grace period.
    deleted_at: Mapped[datetime | None]


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
class RoleRecord(Base):
    """An application role of a tenant (``tenant_admin``, ``member``, ...)."""

    __tablename__ = "roles"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime]


class RoleMappingRecord(Base):
    """A rule: members of the IdP group matched by (match_type, match_value) get role_key."""

    __tablename__ = "role_mappings"
    __table_args__ = (sa.Index(None, "tenant_id", "match_type", "match_value_lower"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    match_type: Mapped[str] = mapped_column(sa.String(16))  # display_name, external_id, id
    match_value: Mapped[str] = mapped_column(sa.String(512))
    match_value_lower: Mapped[str] = mapped_column(sa.String(512))
    role_key: Mapped[str] = mapped_column(sa.String(64))
    # Smaller numbers win in single-role mode; ties go to the older rule.
    priority: Mapped[int]
    created_at: Mapped[datetime]


class UserRoleRecord(Base):
    """A user's effective role, recomputed from memberships, rules and state."""

    __tablename__ = "user_roles"
    # (tenant, role, user): "users with role X" pages by user id straight off the index.
    __table_args__ = (sa.Index(None, "tenant_id", "role_key", "user_id"),)

    user_id: Mapped[str] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role_key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))


class EventRecord(Base):
    """The outbox: one row per change, written in the change's own transaction."""

    __tablename__ = "events"
    # AUTOINCREMENT on SQLite: a seq is never reused, even after the newest events go.
    __table_args__ = (sa.Index(None, "tenant_id", "seq"), {"sqlite_autoincrement": True})

    # A global, increasing sequence: the order of the feed and of webhook delivery.
    seq: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    id: Mapped[str] = mapped_column(sa.String(36), unique=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(sa.String(40))
    occurred_at: Mapped[datetime]
    resource_type: Mapped[str] = mapped_column(sa.String(16))
    resource_id: Mapped[str] = mapped_column(sa.String(36))
    data: Mapped[dict[str, Any]]


class WebhookRecord(Base):
    """A receiver of events; ``tenant_id`` None receives every tenant's events."""

    __tablename__ = "webhooks"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(sa.String(2048))
    # Sealed (service/sealing.py): signing needs it back, so it cannot be hashed;
    # shown once at creation. Older rows may still hold it in clear.
    secret: Mapped[str] = mapped_column(sa.String(128))
    event_types: Mapped[dict[str, Any]]  # {"types": [...]}; empty list = every type
    enabled: Mapped[bool]
    created_at: Mapped[datetime]
    # Delivery state: events up to cursor_seq are done (delivered or given up).
    cursor_seq: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer(), "sqlite"))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    # A worker holds a lease so that two workers never deliver to one receiver at once.
    lease_owner: Mapped[str | None] = mapped_column(sa.String(64))
    lease_until: Mapped[datetime | None]


class WebhookDeliveryRecord(Base):
    """What happened to one event at one webhook: delivered, failed, or queued for redelivery."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (sa.Index(None, "webhook_id", "status", "event_seq"),)

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    webhook_id: Mapped[str] = mapped_column(sa.ForeignKey("webhooks.id", ondelete="CASCADE"))
    event_seq: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        sa.ForeignKey("events.seq", ondelete="CASCADE"),
    )
    status: Mapped[str] = mapped_column(sa.String(16))  # delivered, failed, pending
    attempts: Mapped[int]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    updated_at: Mapped[datetime]


class ApiKeyRecord(Base):
    """A host-app API key; ``tenant_id`` None may act on every tenant."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(200))
    prefix: Mapped[str] = mapped_column(sa.String(16))
    secret_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class AuditRecord(Base):
    """One SCIM request, as the audit log keeps it: append-only, purged only by age."""

    __tablename__ = "audit_log"
    __table_args__ = (
        sa.Index(None, "tenant_id", "id"),
        sa.Index(None, "occurred_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    occurred_at: Mapped[datetime]
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    # No foreign key: the entry outlives nothing, but names the token as it was called then.
    token_id: Mapped[str | None] = mapped_column(sa.String(32))
    token_name: Mapped[str | None] = mapped_column(sa.String(200))
    idp: Mapped[str] = mapped_column(sa.String(32))
    method: Mapped[str] = mapped_column(sa.String(8))
    path: Mapped[str] = mapped_column(sa.String(512))
    resource_type: Mapped[str | None] = mapped_column(sa.String(32))
    resource_id: Mapped[str | None] = mapped_column(sa.String(64))
    status: Mapped[int]
    scim_type: Mapped[str | None] = mapped_column(sa.String(32))
    detail: Mapped[str | None] = mapped_column(sa.String(300))
    duration_ms: Mapped[float]
    change: Mapped[str | None] = mapped_column(sa.String(500))


class AdminAccountRecord(Base):
    """A console login; ``tenant_id`` None is an operator who sees every tenant."""

    __tablename__ = "admin_accounts"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)  # lower-cased
    password_hash: Mapped[str] = mapped_column(sa.String(200))  # argon2id
    tenant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]
    # Lockout state: consecutive failures and until when logins are refused.
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]


class AdminLoginAttemptRecord(Base):
    """One console sign-in attempt: the sign-in audit trail and the throttle's counter.

    No foreign key to the account: an attempt names an email that may belong to
    no account, and the row outlives an account that is removed.
    """

    __tablename__ = "admin_login_attempts"
    __table_args__ = (
        sa.Index(None, "client_ip", "occurred_at"),
        sa.Index(None, "email", "occurred_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    occurred_at: Mapped[datetime]
    email: Mapped[str] = mapped_column(sa.String(320))
    client_ip: Mapped[str] = mapped_column(sa.String(64))
    account_id: Mapped[str | None] = mapped_column(sa.String(32))
    # succeeded, failed (wrong email or password), locked (account lockout), throttled
    outcome: Mapped[str] = mapped_column(sa.String(16))


class SetupLinkRecord(Base):
    """A link handed to a customer's IT admin to connect the tenant's IdP (SCIM, SSO or both)."""

    __tablename__ = "setup_links"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    prefix: Mapped[str] = mapped_column(sa.String(16))
    # SHA-256 of the whole secret, as for SCIM tokens; the secret itself is never stored.
    secret_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    scopes: Mapped[str] = mapped_column(sa.String(32))  # "scim", "sso" or "scim,sso"
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    # Set once, when every live check first passed (and connection.activated was written).
    completed_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class SetupLinkUseRecord(Base):
    """One use of a setup link (opened, refused, a token generated), with who asked."""

    __tablename__ = "setup_link_uses"
    __table_args__ = (sa.Index(None, "tenant_id", "link_id", "id"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    link_id: Mapped[str] = mapped_column(sa.ForeignKey("setup_links.id", ondelete="CASCADE"))
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    occurred_at: Mapped[datetime]
    # opened, refused_expired, refused_revoked, refused_disabled, token_generated
    action: Mapped[str] = mapped_column(sa.String(32))
    client_ip: Mapped[str] = mapped_column(sa.String(64))
    user_agent: Mapped[str] = mapped_column(sa.String(300))


class ConnectionStateRecord(Base):
    """Whether a tenant's SCIM connection is degraded, as the connection check last found.

    One row per tenant that has ever been found degraded; it is what keeps the
    check from writing ``connection.degraded`` again before a recovery.
    """

    __tablename__ = "connection_states"

    tenant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str] = mapped_column(sa.String(16), index=True)  # degraded, recovered
    changed_at: Mapped[datetime]


class SsoConnectionRecord(Base):
    """A tenant's single sign-on connection to one IdP (SAML or OIDC)."""

    __tablename__ = "sso_connections"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(200))
    protocol: Mapped[str] = mapped_column(sa.String(8))  # saml, oidc
    enabled: Mapped[bool]
    jit: Mapped[bool]
    jit_requires_scim: Mapped[bool]
    match_by: Mapped[str] = mapped_column(sa.String(16))  # subject, email
    allow_idp_initiated: Mapped[bool]
    groups_to_roles: Mapped[bool]
    # Protocol settings (IdP entity id, certificates, issuer, client id...): no secrets.
    config: Mapped[dict[str, Any]]
    # The OIDC client secret, sealed (service/sealing.py); None for SAML.
    client_secret: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class SsoSpKeyRecord(Base):
    """A tenant's SAML service-provider key pair; the previous certificate stays
    published, and its key still decrypts, during a rotation."""

    __tablename__ = "sso_sp_keys"

    tenant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    private_key: Mapped[str] = mapped_column(sa.Text)  # sealed PEM
    cert: Mapped[str] = mapped_column(sa.Text)
    previous_cert: Mapped[str | None] = mapped_column(sa.Text)
    previous_private_key: Mapped[str | None] = mapped_column(sa.Text)  # sealed PEM
    created_at: Mapped[datetime]


class SsoPendingRecord(Base):
    """A sign-in the SP started, keyed by the AuthnRequest ID or the OIDC state; used once."""

    __tablename__ = "sso_pending"
    __table_args__ = (sa.Index(None, "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    connection_id: Mapped[int] = mapped_column(
        sa.ForeignKey("sso_connections.id", ondelete="CASCADE")
    )
    protocol_ref: Mapped[str] = mapped_column(sa.String(256), unique=True)
    redirect_uri: Mapped[str] = mapped_column(sa.String(2048))
    host_state: Mapped[str | None] = mapped_column(sa.String(1024))
    data: Mapped[dict[str, Any]]
    expires_at: Mapped[datetime]


class SsoSeenAssertionRecord(Base):
    """The replay cache: an assertion id seen once is refused until it has expired."""

    __tablename__ = "sso_seen_assertions"
    __table_args__ = (sa.Index(None, "not_after"),)

    tenant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    assertion_id: Mapped[str] = mapped_column(sa.String(256), primary_key=True)
    not_after: Mapped[datetime]


class SsoCodeRecord(Base):
    """A one-time code handed to the host app; only its SHA-256 is stored."""

    __tablename__ = "sso_codes"
    __table_args__ = (sa.Index(None, "expires_at"),)

    code_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    connection_id: Mapped[int] = mapped_column(
        sa.ForeignKey("sso_connections.id", ondelete="CASCADE")
    )
    # The identity's groups and claims as the IdP sent them, for the profile.
    profile: Mapped[dict[str, Any]]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class SsoIdentityRecord(Base):
    """Which user an IdP subject (NameID, ``sub``) is, per connection."""

    __tablename__ = "sso_identities"
    __table_args__ = (sa.Index(None, "user_id"),)

    connection_id: Mapped[int] = mapped_column(
        sa.ForeignKey("sso_connections.id", ondelete="CASCADE"), primary_key=True
    )
    subject: Mapped[str] = mapped_column(sa.String(512), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]
    last_sign_in_at: Mapped[datetime]


class SsoUserGroupRecord(Base):
    """A group value the IdP asserted for a user at their last sign-in.

    Role rules read these beside SCIM memberships (``storage/lifecycle_sql.py``),
    matching a value as they match a group's displayName, externalId or id.
    """

    __tablename__ = "sso_user_groups"
    __table_args__ = (
        sa.Index(None, "tenant_id", "value_lower"),
        sa.Index(None, "tenant_id", "value"),
    )

    user_id: Mapped[str] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    value: Mapped[str] = mapped_column(sa.String(512), primary_key=True)
    value_lower: Mapped[str] = mapped_column(sa.String(512))
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))


tenants = cast(sa.Table, TenantRecord.__table__)
scim_tokens = cast(sa.Table, ScimTokenRecord.__table__)
users = cast(sa.Table, UserRecord.__table__)
groups = cast(sa.Table, GroupRecord.__table__)
group_members = cast(sa.Table, GroupMemberRecord.__table__)
roles = cast(sa.Table, RoleRecord.__table__)
role_mappings = cast(sa.Table, RoleMappingRecord.__table__)
user_roles = cast(sa.Table, UserRoleRecord.__table__)
events = cast(sa.Table, EventRecord.__table__)
webhooks = cast(sa.Table, WebhookRecord.__table__)
webhook_deliveries = cast(sa.Table, WebhookDeliveryRecord.__table__)
api_keys = cast(sa.Table, ApiKeyRecord.__table__)
audit_log = cast(sa.Table, AuditRecord.__table__)
connection_states = cast(sa.Table, ConnectionStateRecord.__table__)
admin_accounts = cast(sa.Table, AdminAccountRecord.__table__)
admin_login_attempts = cast(sa.Table, AdminLoginAttemptRecord.__table__)
setup_links = cast(sa.Table, SetupLinkRecord.__table__)
setup_link_uses = cast(sa.Table, SetupLinkUseRecord.__table__)
sso_connections = cast(sa.Table, SsoConnectionRecord.__table__)
sso_sp_keys = cast(sa.Table, SsoSpKeyRecord.__table__)
sso_pending = cast(sa.Table, SsoPendingRecord.__table__)
sso_seen_assertions = cast(sa.Table, SsoSeenAssertionRecord.__table__)
sso_codes = cast(sa.Table, SsoCodeRecord.__table__)
sso_identities = cast(sa.Table, SsoIdentityRecord.__table__)
sso_user_groups = cast(sa.Table, SsoUserGroupRecord.__table__)
