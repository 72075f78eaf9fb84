"""What a connection's ``config`` may hold, and whether it is enough to sign anyone in.

``known_keys`` refuses a key no part of scimgate reads, so a misspelt setting
(``want_assertions_signed``) is an error rather than a silently ignored value.
``check_complete`` runs when the host API or the CLI creates or changes a
connection: a SAML connection needs the IdP's entity id, an https SSO URL and
a certificate that parses, or a metadata URL or document to take them from;
an OIDC connection needs its issuer URL, client id and client secret. Plain
http is accepted for a loopback host in dev mode only (a local test IdP).
Every refusal is ``InvalidValue`` (400) naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509

from scimgate.errors import InvalidValue, SsoRejected
from scimgate.model.sso import PROTOCOL_OIDC, PROTOCOL_SAML
from scimgate.service import saml
from scimgate.service.saml_values import normalise_certificate

_COMMON_KEYS = frozenset({"domains"})
# What the metadata fetch writes beside the IdP values: the operator may send
# them back unchanged (a GET, edited, then a PATCH).
_SAML_KEYS = frozenset(
    {
        "idp_entity_id",
        "idp_sso_url",
        "idp_certificates",
        "idp_certificate_expiry",
        "idp_metadata_url",
        "idp_metadata_xml",
        "idp_metadata_fetched_at",
        "idp_metadata_checked_at",
        "idp_metadata_error",
        "want_response_signed",
        "want_assertion_signed",
        "want_encrypted",
        "name_id_format",
        "group_attribute",
        "email_attribute",
        "given_name_attribute",
        "family_name_attribute",
    }
)
_OIDC_KEYS = frozenset(
    {"issuer", "client_id", "token_auth_method", "groups_claim", "hosted_domain", "scopes"}
)
KEYS = {PROTOCOL_SAML: _COMMON_KEYS | _SAML_KEYS, PROTOCOL_OIDC: _COMMON_KEYS | _OIDC_KEYS}


def known_keys(protocol: str, config: Mapping[str, Any]) -> None:
    """Refuse keys a connection of ``protocol`` never reads."""
    unknown = sorted(set(config) - KEYS.get(protocol, _COMMON_KEYS))
    if unknown:
        raise InvalidValue(
            f"unknown config keys for a {protocol} connection: {', '.join(unknown)} "
            f"(known: {', '.join(sorted(KEYS.get(protocol, _COMMON_KEYS)))})"
        )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(field: str, value: Any, *, dev_mode: bool) -> str:
    """An absolute https URL (http to a loopback host in dev mode)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue(f"config.{field} is required")
    parts = urlsplit(value.strip())
    if not parts.hostname or parts.scheme not in ("https", "http"):
        raise InvalidValue(f"config.{field} must be an absolute https URL, not {value!r}")
    if parts.scheme == "http" and not (dev_mode and _is_loopback(parts.hostname)):
        raise InvalidValue(
            f"config.{field} must use https (plain http only to a loopback host in dev mode)"
        )
    return value.strip()


def _text(config: Mapping[str, Any], field: str) -> str:
    value = config.get(field)
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue(f"config.{field} is required")
    return value.strip()


def _certificates(config: Mapping[str, Any]) -> list[str]:
    raw = config.get("idp_certificates")
    listed = [raw] if isinstance(raw, str) else raw
    if not isinstance(listed, list) or not listed:
        raise InvalidValue("config.idp_certificates needs at least one certificate (PEM)")
    pems: list[str] = []
    for number, text in enumerate(listed, start=1):
        try:
            pem = normalise_certificate(str(text))
            x509.load_pem_x509_certificate(pem.encode())
        except (SsoRejected, ValueError) as exc:
            raise InvalidValue(
                f"config.idp_certificates[{number}] is not a readable X.509 certificate"
            ) from exc
        pems.append(pem)
    return pems


def config_from_metadata(
    metadata: saml.IdpMetadata, *, fetched_at: datetime | None = None
) -> dict[str, Any]:
    """The connection ``config`` keys the metadata provides."""
    config: dict[str, Any] = {
        "idp_entity_id": metadata.entity_id,
        "idp_sso_url": metadata.sso_url,
        "idp_certificates": [c.pem for c in metadata.certificates],
        "idp_certificate_expiry": [c.not_after.isoformat() for c in metadata.certificates],
    }
    if fetched_at is not None:
        config["idp_metadata_fetched_at"] = fetched_at.isoformat()
    return config


def _from_document(config: dict[str, Any]) -> dict[str, Any]:
    """A pasted metadata document (``idp_metadata_xml``) replaced by the values it gives."""
    xml = config.pop("idp_metadata_xml", None)
    if xml is None:
        return config
    if not isinstance(xml, str) or not xml.strip():
        raise InvalidValue("config.idp_metadata_xml must be the IdP's metadata document")
    try:
        metadata = saml.parse_idp_metadata(xml)
    except SsoRejected as exc:
        raise InvalidValue(f"config.idp_metadata_xml: {exc.detail}") from exc
    return {**config, **config_from_metadata(metadata)}


def _check_saml(config: dict[str, Any], dev_mode: bool) -> dict[str, Any]:
    config = _from_document(config)
    if config.get("idp_metadata_url"):
        config["idp_metadata_url"] = check_url(
            "idp_metadata_url", config["idp_metadata_url"], dev_mode=dev_mode
        )
        if not config.get("idp_entity_id"):
            return config  # fetched on first use and by the worker's schedule
    _text(config, "idp_entity_id")
    config["idp_sso_url"] = check_url("idp_sso_url", config.get("idp_sso_url"), dev_mode=dev_mode)
    config["idp_certificates"] = _certificates(config)
    return config


def _check_oidc(config: dict[str, Any], has_client_secret: bool, dev_mode: bool) -> None:
    check_url("issuer", config.get("issuer"), dev_mode=dev_mode)
    _text(config, "client_id")
    if not has_client_secret:
        raise InvalidValue("an OIDC connection needs its client secret (clientSecret)")


def check_complete(
    protocol: str, config: Mapping[str, Any], *, has_client_secret: bool, dev_mode: bool
) -> dict[str, Any]:
    """The config, checked and tidied (certificates as PEM), or ``InvalidValue``."""
    checked = dict(config)
    known_keys(protocol, checked)
    if protocol == PROTOCOL_SAML:
        return _check_saml(checked, dev_mode)
    _check_oidc(checked, has_client_secret, dev_mode)
    return checked
