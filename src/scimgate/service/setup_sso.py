"""Single sign-on from a setup link: the IT admin's connection, and the wizard's test sign-in.

The wizard keeps one connection per IdP, named after it ("Okta"): saving the
form again updates that connection (its protocol too) instead of adding a
second one, which would make the host app's sign-ins ambiguous. Every value
is checked before anything is written, and each refusal says in words what
to change (``InvalidValue`` or ``SsoRejected``, both shown on the page).

The test sign-in is a real one: the wizard starts it with this tenant's own
setup page as the redirect URI (``service.sign_in.setup_return_uri``, accepted
for this tenant only), and the page exchanges the one-time code itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from scimgate.config import Settings
from scimgate.errors import Forbidden, InvalidValue
from scimgate.model.entities import SetupLink, Tenant
from scimgate.model.sso import PROTOCOL_OIDC, PROTOCOL_SAML, Connection
from scimgate.service import saml, saml_metadata, sso
from scimgate.service.clock import utcnow
from scimgate.service.egress import EgressPolicy
from scimgate.service.sealing import Keyring
from scimgate.service.setup_links import Visitor
from scimgate.service.sign_in import setup_return_uri
from scimgate.storage.database import Database

__all__ = [
    "OidcSettings",
    "SamlSettings",
    "configure_oidc",
    "configure_saml",
    "setup_return_uri",
    "tested_profile",
    "wizard_connection",
]

_MAX_FIELD = 2000


@dataclass(frozen=True, slots=True)
class SamlSettings:
    """What the wizard's SAML form gives: the IdP metadata (XML or URL) and the choices."""

    metadata_xml: str = ""
    metadata_url: str = ""
    group_attribute: str = "groups"
    jit: bool = False


@dataclass(frozen=True, slots=True)
class OidcSettings:
    issuer: str = ""
    client_id: str = ""
    client_secret: str = ""
    groups_claim: str = "groups"
    scopes: str = "openid email profile"
    jit: bool = False


def _may_configure(link: SetupLink) -> None:
    if "sso" not in link.scopes:
        raise Forbidden("This setup link does not cover single sign-on.")


def _text(value: str, label: str, *, required: bool = True) -> str:
    text = value.strip()
    if required and not text:
        raise InvalidValue(f"{label} is empty: paste it from your identity provider")
    if len(text) > _MAX_FIELD:
        raise InvalidValue(f"{label} is longer than {_MAX_FIELD} characters")
    return text


def _url(value: str, label: str) -> str:
    text = _text(value, label)
    parts = urlsplit(text)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidValue(f"{label} must be an https:// address, not {text!r}")
    return text


def wizard_connection(db: Database, tenant: Tenant, name: str) -> Connection | None:
    """The connection the wizard keeps for the IdP called ``name``, if there is one."""
    return next((c for c in sso.list_connections(db, tenant) if c.name == name), None)


def _save(
    db: Database,
    tenant: Tenant,
    link: SetupLink,
    visitor: Visitor,
    fields: dict[str, Any],
    *,
    client_secret: str | None = None,
    keyring: Keyring | None = None,
) -> Connection:
    existing = wizard_connection(db, tenant, fields["name"])
    if existing is None:
        saved = sso.create_connection(
            db, tenant, fields, client_secret=client_secret, keyring=keyring
        )
    else:
        changes = {k: v for k, v in fields.items() if k != "name"}
        saved = sso.update_connection(
            db, tenant, existing.id, changes, client_secret=client_secret, keyring=keyring
        )
    with db.tenant(tenant.id, write=True) as repo:
        repo.setup_links.record_use(
            link.id, "sso_configured", visitor.client_ip, visitor.user_agent, utcnow()
        )
    return saved


def configure_saml(
    db: Database,
    tenant: Tenant,
    link: SetupLink,
    name: str,
    given: SamlSettings,
    *,
    settings: Settings,
    visitor: Visitor,
) -> Connection:
    """Create or update the SAML connection ``name`` from the IdP's metadata.

    An uploaded document wins over a URL; a URL is fetched now (under the
    egress rule), so a wrong one is refused here rather than at the first sign-in.
    """
    _may_configure(link)
    group_attribute = _text(given.group_attribute or "groups", "The group attribute")
    if given.metadata_xml.strip():
        metadata = saml.parse_idp_metadata(given.metadata_xml)
        config = saml_metadata.config_from_metadata(metadata)
    elif given.metadata_url.strip():
        url = _url(given.metadata_url, "The IdP metadata URL")
        metadata = saml_metadata.fetch_idp_metadata(
            url, EgressPolicy.from_settings(settings), timeout=settings.webhook_timeout_seconds
        )
        config = saml_metadata.config_from_metadata(metadata, fetched_at=utcnow())
        config["idp_metadata_url"] = url
    else:
        raise InvalidValue("Upload the IdP's metadata XML file, or give its metadata URL")
    config["group_attribute"] = group_attribute
    fields = {
        "name": name,
        "protocol": PROTOCOL_SAML,
        "config": config,
        "jit": given.jit,
        "enabled": True,
    }
    return _save(db, tenant, link, visitor, fields)


def configure_oidc(
    db: Database,
    tenant: Tenant,
    link: SetupLink,
    name: str,
    given: OidcSettings,
    *,
    keyring: Keyring,
    visitor: Visitor,
) -> Connection:
    """Create or update the OIDC connection ``name``; an empty secret keeps the stored one."""
    _may_configure(link)
    existing = wizard_connection(db, tenant, name)
    issuer = _url(given.issuer, "The issuer")
    client_id = _text(given.client_id, "The client ID")
    secret = given.client_secret.strip()
    keeps_secret = existing is not None and existing.protocol == PROTOCOL_OIDC
    if not secret and not keeps_secret:
        raise InvalidValue("The client secret is empty: paste it from your identity provider")
    config = {
        "issuer": issuer,
        "client_id": client_id,
        "groups_claim": _text(given.groups_claim or "groups", "The groups claim"),
        "scopes": _text(given.scopes, "The scopes", required=False).split() or ["openid"],
    }
    fields = {
        "name": name,
        "protocol": PROTOCOL_OIDC,
        "config": config,
        "jit": given.jit,
        "enabled": True,
    }
    return _save(db, tenant, link, visitor, fields, client_secret=secret or None, keyring=keyring)


def tested_profile(db: Database, tenant: Tenant, link: SetupLink, code: str) -> dict[str, Any]:
    """The profile of the wizard's own test sign-in; its one-time code is used up."""
    _may_configure(link)
    return sso.exchange_code(db, code, caller_tenant_id=tenant.id)
