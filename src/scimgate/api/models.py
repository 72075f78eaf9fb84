"""The host API's JSON shapes (and the CLI's ``--json`` shapes for the same objects).

Names are camelCase like the SCIM documents they come from; timestamps are
fixed-width ISO-8601 UTC (``2026-01-31T12:00:00.000000Z``). Request models are
strict: ``"true"`` is not a boolean and ``"30"`` is not a number.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer
from pydantic.alias_generators import to_camel

from scimgate.model.entities import ScimToken, SetupLink, Tenant, TenantSettings
from scimgate.model.sso import Connection
from scimgate.service.app_view import AppGroup, AppUser, EventPage, Page, StoredEvent
from scimgate.service.roles import RoleRow, RuleRow
from scimgate.service.sso import SpUrls


def _timestamp(value: datetime) -> str:
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


Timestamp = Annotated[datetime, PlainSerializer(_timestamp, return_type=str)]


class _Out(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class _In(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, strict=True, extra="forbid"
    )


class Problem(_Out):
    """Every error: a stable machine-readable code and a human-readable detail."""

    error: str = Field(examples=["not_found"])
    detail: str


# -- users and groups ---------------------------------------------------------------


class GroupRefOut(_Out):
    id: str
    display_name: str | None


class UserOut(_Out):
    id: str
    user_name: str
    external_id: str | None
    display_name: str | None
    name: dict[str, Any] | None
    emails: list[dict[str, Any]]
    active: bool = Field(description="Whether the host app should let the user in.")
    scim_active: bool = Field(description="The identity provider's own `active` flag.")
    deactivation_reason: str | None = Field(
        description="idp_deactivated, left_mapped_groups or deleted; null while active."
    )
    roles: list[str] = Field(description="The user's effective role keys.")
    profile: dict[str, Any] = Field(description="The tenant's attribute mapping, applied.")
    groups: list[GroupRefOut]
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def of(cls, user: AppUser) -> UserOut:
        return cls(
            id=user.id,
            user_name=user.user_name,
            external_id=user.external_id,
            display_name=user.display_name,
            name=user.name,
            emails=user.emails,
            active=user.enabled,
            scim_active=user.scim_active,
            deactivation_reason=user.deactivation_reason,
            roles=user.roles,
            profile=user.profile,
            groups=[GroupRefOut(id=g.id, display_name=g.display_name) for g in user.groups],
            created_at=user.created,
            updated_at=user.updated,
        )


class UserPage(_Out):
    items: list[UserOut]
    next: str | None = Field(description="Pass as `cursor` for the next page; null at the end.")

    @classmethod
    def of(cls, page: Page[AppUser]) -> UserPage:
        return cls(items=[UserOut.of(u) for u in page.items], next=page.next)


class GroupOut(_Out):
    id: str
    display_name: str
    external_id: str | None
    member_count: int
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def of(cls, group: AppGroup) -> GroupOut:
        return cls(
            id=group.id,
            display_name=group.display_name,
            external_id=group.external_id,
            member_count=group.member_count,
            created_at=group.created,
            updated_at=group.updated,
        )


class GroupPage(_Out):
    items: list[GroupOut]
    next: str | None

    @classmethod
    def of(cls, page: Page[AppGroup]) -> GroupPage:
        return cls(items=[GroupOut.of(g) for g in page.items], next=page.next)


# -- roles and rules -----------------------------------------------------------------


class RoleOut(_Out):
    key: str
    name: str
    created_at: Timestamp

    @classmethod
    def of(cls, role: RoleRow) -> RoleOut:
        return cls(key=role.key, name=role.name, created_at=role.created_at)


class RoleList(_Out):
    items: list[RoleOut]


class RoleIn(_In):
    key: str = Field(min_length=1, max_length=64, examples=["billing_admin"])
    name: str | None = Field(default=None, max_length=200, examples=["Billing Admin"])


MatchType = Literal["display_name", "external_id", "id"]


class RuleOut(_Out):
    id: int
    group: str
    match_type: MatchType
    role: str
    priority: int
    member_count: int = Field(description="How many users the rule matches now.")
    created_at: Timestamp

    @classmethod
    def of(cls, rule: RuleRow, member_count: int) -> RuleOut:
        return cls(
            id=rule.id,
            group=rule.match_value,
            match_type=rule.match_type,
            role=rule.role_key,
            priority=rule.priority,
            member_count=member_count,
            created_at=rule.created_at,
        )


class RuleList(_Out):
    items: list[RuleOut]


class RuleIn(_In):
    group: str = Field(min_length=1, max_length=512, examples=["Engineering"])
    role: str = Field(min_length=1, max_length=64, examples=["tenant_admin"])
    priority: int = Field(default=100, ge=0, le=1_000_000)
    match_type: MatchType = "display_name"


# -- settings ------------------------------------------------------------------------


class SettingsOut(_Out):
    default_role: str | None
    role_mode: Literal["single", "multiple"]
    deactivate_unmapped: bool
    delete_mode: Literal["soft", "hard"]
    soft_delete_days: int
    attribute_mapping: dict[str, str]
    scim_extensions: list[str]

    @classmethod
    def of(cls, settings: TenantSettings) -> SettingsOut:
        return cls.model_validate(settings.to_dict())


class SettingsPatch(_In):
    """A partial update: only the fields present change; `defaultRole: null` means none."""

    default_role: str | None = Field(default=None, min_length=1, max_length=64)
    role_mode: Literal["single", "multiple"] | None = None
    deactivate_unmapped: bool | None = None
    delete_mode: Literal["soft", "hard"] | None = None
    soft_delete_days: int | None = Field(default=None, ge=1, le=3650)
    attribute_mapping: dict[str, str] | None = None
    scim_extensions: list[str] | None = None

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, by their stored (snake_case) names."""
        sent = self.model_dump(exclude_unset=True)
        # Only default_role may be set to null; null elsewhere means "no change".
        return {k: v for k, v in sent.items() if v is not None or k == "default_role"}


# -- SCIM tokens and tenants -------------------------------------------------------------


class ScimTokenOut(_Out):
    id: str
    name: str
    prefix: str
    created_at: Timestamp
    last_used_at: Timestamp | None
    expires_at: Timestamp | None
    revoked_at: Timestamp | None

    @classmethod
    def of(cls, token: ScimToken) -> ScimTokenOut:
        return cls(
            id=token.id,
            name=token.name,
            prefix=token.prefix,
            created_at=token.created_at,
            last_used_at=token.last_used_at,
            expires_at=token.expires_at,
            revoked_at=token.revoked_at,
        )


class ScimTokenList(_Out):
    items: list[ScimTokenOut]


class ScimTokenCreated(ScimTokenOut):
    token: str = Field(description="The secret: shown in this response only.")
    scim_base_url: str


class ScimTokenIn(_In):
    name: str | None = Field(default=None, max_length=200, examples=["Okta SCIM"])
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


class TenantOut(_Out):
    slug: str
    name: str
    disabled: bool
    created_at: Timestamp
    scim_base_url: str

    @classmethod
    def of(cls, tenant: Tenant, scim_base_url: str) -> TenantOut:
        return cls(
            slug=tenant.slug,
            name=tenant.name,
            disabled=tenant.disabled,
            created_at=tenant.created_at,
            scim_base_url=scim_base_url,
        )


class TenantList(_Out):
    items: list[TenantOut]


# -- events ----------------------------------------------------------------------------


class EventOut(_Out):
    id: str = Field(description="Unique; receivers deduplicate by it.")
    seq: int = Field(description="Position in the feed; pass as `after` to read past it.")
    type: str = Field(examples=["user.roles_changed"])
    tenant: str
    occurred_at: Timestamp
    resource_type: str
    resource_id: str
    data: dict[str, Any]

    @classmethod
    def of(cls, event: StoredEvent, tenant: str) -> EventOut:
        return cls(
            id=event.id,
            seq=event.seq,
            type=event.type,
            tenant=tenant,
            occurred_at=event.occurred_at,
            resource_type=event.resource_type,
            resource_id=event.resource_id,
            data=event.data,
        )


class EventList(_Out):
    items: list[EventOut]
    next: int = Field(description="Pass as `after` to continue; unchanged when nothing is new.")

    @classmethod
    def of(cls, page: EventPage, tenant: str) -> EventList:
        return cls(items=[EventOut.of(e, tenant) for e in page.items], next=page.next)


# -- setup links -------------------------------------------------------------------------


class SetupLinkOut(_Out):
    id: str
    prefix: str
    scopes: list[str]
    state: str = Field(description="open, done, expired or revoked", examples=["open"])
    created_at: Timestamp
    expires_at: Timestamp
    revoked_at: Timestamp | None
    completed_at: Timestamp | None
    last_used_at: Timestamp | None

    @classmethod
    def of(cls, link: SetupLink, now: datetime) -> SetupLinkOut:
        return cls(
            id=link.id,
            prefix=link.prefix,
            scopes=list(link.scopes),
            state=link.state(now),
            created_at=link.created_at,
            expires_at=link.expires_at,
            revoked_at=link.revoked_at,
            completed_at=link.completed_at,
            last_used_at=link.last_used_at,
        )


class SetupLinkList(_Out):
    items: list[SetupLinkOut]


class SetupLinkCreated(SetupLinkOut):
    url: str = Field(description="The link to hand to the IT admin: in this response only.")


class SetupLinkIn(_In):
    scopes: list[Literal["scim", "sso"]] | None = Field(
        default=None, min_length=1, examples=[["scim", "sso"]]
    )
    expires_in_hours: int | None = Field(default=None, ge=1, le=30 * 24, examples=[168])


class SetupLinkUseOut(_Out):
    occurred_at: Timestamp
    action: str = Field(
        description="opened, refused_revoked, refused_expired, refused_disabled, token_generated"
    )
    client_ip: str
    user_agent: str


class SetupLinkUseList(_Out):
    items: list[SetupLinkUseOut]


# -- single sign-on ---------------------------------------------------------------------


class SpValues(_Out):
    """What the IdP's administrator copies into the IdP (the same for every connection)."""

    entity_id: str
    acs_url: str
    metadata_url: str
    oidc_callback_url: str

    @classmethod
    def of(cls, urls: SpUrls) -> SpValues:
        return cls(
            entity_id=urls.entity_id,
            acs_url=urls.acs_url,
            metadata_url=urls.metadata_url,
            oidc_callback_url=urls.oidc_callback_url,
        )


class SpKeysRotateIn(_In):
    finish: bool = Field(
        default=False,
        description="End the rotation in progress: the previous certificate is unpublished.",
    )


class SpKeysOut(_Out):
    """The tenant's SP certificate, and the previous one while a rotation is in progress."""

    certificate: str
    previous_certificate: str | None
    rotating: bool


class SsoConnectionOut(_Out):
    id: int
    name: str
    protocol: Literal["saml", "oidc"]
    enabled: bool
    jit: bool = Field(description="Create a user who signs in and matches nobody.")
    jit_requires_scim: bool = Field(
        description="Refuse people SCIM has not provisioned, even with `jit` on."
    )
    match_by: Literal["subject", "email"]
    allow_idp_initiated: bool
    groups_to_roles: bool = Field(
        description="The IdP's group values feed the tenant's role mappings."
    )
    config: dict[str, Any] = Field(
        description="Protocol settings (SAML: `idp_entity_id`, `idp_sso_url`, "
        "`idp_certificates`...; OIDC: `issuer`, `client_id`, `scopes`, `groups_claim`)."
    )
    has_client_secret: bool
    created_at: Timestamp
    updated_at: Timestamp | None
    sp: SpValues

    @classmethod
    def of(cls, connection: Connection, urls: SpUrls) -> SsoConnectionOut:
        return cls(
            id=connection.id,
            name=connection.name,
            protocol=connection.protocol,
            enabled=connection.enabled,
            jit=connection.jit,
            jit_requires_scim=connection.jit_requires_scim,
            match_by=connection.match_by,
            allow_idp_initiated=connection.allow_idp_initiated,
            groups_to_roles=connection.groups_to_roles,
            config=dict(connection.config),
            has_client_secret=connection.has_client_secret,
            created_at=connection.created_at,
            updated_at=connection.updated_at,
            sp=SpValues.of(urls),
        )


class SsoConnectionList(_Out):
    items: list[SsoConnectionOut]


class SsoConnectionPatch(_In):
    """Only the fields sent change."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    enabled: bool | None = None
    jit: bool | None = None
    jit_requires_scim: bool | None = None
    match_by: Literal["subject", "email"] | None = None
    allow_idp_initiated: bool | None = None
    groups_to_roles: bool | None = None
    config: dict[str, Any] | None = None
    client_secret: str | None = Field(
        default=None, min_length=1, max_length=4096, description="OIDC; stored sealed."
    )

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True, exclude={"client_secret"}, by_alias=False)


class SsoConnectionIn(SsoConnectionPatch):
    name: str = Field(min_length=1, max_length=200, examples=["Okta"])
    protocol: Literal["saml", "oidc"]


class SsoTokenIn(_In):
    code: str = Field(min_length=1, max_length=200, description="The `code` of the redirect.")


class SsoNameOut(_Out):
    given_name: str | None
    family_name: str | None
    formatted: str | None


class SsoConnectionRef(_Out):
    id: int
    name: str
    protocol: str


class SsoProfile(_Out):
    """Who signed in: the scimgate user, as the host app should let them in."""

    user_id: str
    tenant: str
    email: str | None
    user_name: str
    name: SsoNameOut
    enabled: bool
    roles: list[str]
    groups: list[str] = Field(description="The group values the IdP asserted.")
    connection: SsoConnectionRef
    claims: dict[str, Any] = Field(description="The attributes or claims the IdP sent.")
