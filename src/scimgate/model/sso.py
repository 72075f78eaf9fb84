"""Single sign-on: the identity an IdP vouches for, whatever the protocol."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

PROTOCOL_SAML = "saml"
PROTOCOL_OIDC = "oidc"


@dataclass(frozen=True, slots=True)
class ExternalIdentity:
    subject: str
    email: str | None
    given_name: str | None
    family_name: str | None
    display_name: str | None
    groups: tuple[str, ...]
    claims: Mapping[str, object] = field(default_factory=dict)
