"""The parts of SAML sign-in that need no XML library: certificates and attribute mapping.

``service/saml.py`` (the adapter over python3-saml) uses these; they live apart
so that module stays about the XML work.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from scimgate.errors import SsoRejected
from scimgate.model.sso import ExternalIdentity

NAMEID_EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
NAMEID_UNSPECIFIED = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"

# Attribute names the common IdPs use, tried when a connection names none.
EMAIL_ATTRIBUTES = (
    "email",
    "mail",
    "emailaddress",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
    "urn:oid:0.9.2342.19200300.100.1.3",
)
GIVEN_NAME_ATTRIBUTES = (
    "givenName",
    "firstName",
    "first_name",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
    "urn:oid:2.5.4.42",
)
FAMILY_NAME_ATTRIBUTES = (
    "sn",
    "surname",
    "lastName",
    "last_name",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
    "urn:oid:2.5.4.4",
)
DISPLAY_NAME_ATTRIBUTES = (
    "displayName",
    "http://schemas.microsoft.com/identity/claims/displayname",
    "urn:oid:2.16.840.1.113730.3.1.241",
)


@dataclass(frozen=True, slots=True)
class Certificate:
    """An X.509 certificate as the console shows it."""

    pem: str
    subject: str
    not_before: dt.datetime
    not_after: dt.datetime
    sha256: str

    def expires_within(self, days: int, *, now: dt.datetime | None = None) -> bool:
        moment = now or dt.datetime.now(dt.UTC)
        return self.not_after <= moment + dt.timedelta(days=days)


@dataclass(frozen=True, slots=True)
class AttributeNames:
    groups: str = "groups"
    email: str | None = None
    given_name: str | None = None
    family_name: str | None = None


def certificate(text: str) -> Certificate:
    """Read a certificate given as PEM or as the base64 body metadata carries."""
    pem = normalise_certificate(text)
    try:
        cert = x509.load_pem_x509_certificate(pem.encode())
    except ValueError as exc:
        raise SsoRejected("metadata", "a certificate could not be read") from exc
    return Certificate(
        pem=pem,
        subject=cert.subject.rfc4514_string(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        sha256=cert.fingerprint(hashes.SHA256()).hex(":").upper(),
    )


def normalise_certificate(text: str) -> str:
    body = "".join(
        line.strip() for line in text.strip().splitlines() if "-----" not in line
    ).replace(" ", "")
    if not body:
        raise SsoRejected("metadata", "an empty certificate was given")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


def identity_from_attributes(
    names: AttributeNames,
    subject: str | None,
    name_id_format: str | None,
    attributes: Mapping[str, list[str]],
) -> ExternalIdentity:
    if not subject:
        raise SsoRejected("subject", "the assertion names no subject (NameID)")
    email = _first(attributes, (names.email,) if names.email else EMAIL_ATTRIBUTES)
    if email is None and _nameid_is_email(name_id_format, subject):
        email = subject
    given = _first(attributes, (names.given_name,) if names.given_name else GIVEN_NAME_ATTRIBUTES)
    family = _first(
        attributes, (names.family_name,) if names.family_name else FAMILY_NAME_ATTRIBUTES
    )
    display = _first(attributes, DISPLAY_NAME_ATTRIBUTES)
    if display is None and (given or family):
        display = " ".join(part for part in (given, family) if part)
    groups = tuple(dict.fromkeys(v for v in attributes.get(names.groups, []) if v))
    return ExternalIdentity(
        subject=subject,
        email=email,
        given_name=given,
        family_name=family,
        display_name=display,
        groups=groups,
        claims=dict(attributes),
    )


def _nameid_is_email(name_id_format: str | None, subject: str) -> bool:
    """Whether the NameID may stand for the person's email: its format says so, or it
    says nothing (unspecified) and the value looks like one. A persistent, transient,
    Kerberos or other NameID is an identifier, whatever characters it holds: an IdP
    that lets people choose theirs would otherwise let them choose an email too."""
    if name_id_format == NAMEID_EMAIL:
        return True
    return name_id_format in (None, "", NAMEID_UNSPECIFIED) and "@" in subject


def _first(attributes: Mapping[str, list[str]], names: Sequence[str]) -> str | None:
    folded = {key.lower(): values for key, values in attributes.items()}
    for name in names:
        values = attributes.get(name) or folded.get(name.lower())
        if values and values[0]:
            return values[0]
    return None
