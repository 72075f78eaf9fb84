"""Single sign-on: the plain types every SSO layer shares.

An identity provider vouches for a person with a SAML assertion or an OIDC ID
token; the protocol adapters (``service/saml.py``, ``service/oidc.py``) turn
either into an ``ExternalIdentity``, and ``service/sso.py`` signs that person in
on the tenant's users, roles and events. Nothing here touches a database or HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

PROTOCOL_SAML = "saml"
PROTOCOL_OIDC = "oidc"
PROTOCOLS = (PROTOCOL_SAML, PROTOCOL_OIDC)

# How a connection finds the user an identity belongs to.
MATCH_BY_SUBJECT = "subject"
MATCH_BY_EMAIL = "email"
MATCH_MODES = (MATCH_BY_SUBJECT, MATCH_BY_EMAIL)

USER_SIGNED_IN = "user.signed_in"


@dataclass(frozen=True, slots=True)
class ExternalIdentity:
    """A person as the IdP asserted them, once the adapter has verified the assertion."""

    subject: str  # SAML NameID, OIDC ``sub``
    email: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    display_name: str | None = None
    groups: tuple[str, ...] = ()
    # The raw attributes (SAML: name -> values) or claims (OIDC), JSON-able.
    claims: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Connection:
    """A tenant's link to one IdP. ``config`` holds the protocol settings, never a secret."""

    id: int
    tenant_id: int
    name: str
    protocol: str
    enabled: bool
    jit: bool
    match_by: str
    allow_idp_initiated: bool
    groups_to_roles: bool
    config: Mapping[str, object]
    created_at: datetime
    # JIT creates only users SCIM already knows of when set: see ``service.sso``.
    jit_requires_scim: bool = False
    updated_at: datetime | None = None
    has_client_secret: bool = False


@dataclass(frozen=True, slots=True)
class Pending:
    """A sign-in the SP started: where to send the person back, and the protocol's own data."""

    connection_id: int
    protocol_ref: str
    redirect_uri: str
    host_state: str | None
    data: Mapping[str, str]
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class IssuedCode:
    """What a one-time code stands for, read back when the host exchanges it."""

    user_id: str
    connection_id: int
    profile: Mapping[str, object]  # the identity's groups and claims at sign-in
    expires_at: datetime
