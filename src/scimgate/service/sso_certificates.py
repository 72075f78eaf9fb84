"""How long the certificates single sign-on relies on stay valid, for the console's warnings.

An IdP signing certificate that expires stops every SAML sign-in through its
connection; the SP certificate that expires makes IdPs refuse the signed
AuthnRequests. Under ``RED`` days left the console shows the warning in red,
under ``AMBER`` in amber.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509

from scimgate.errors import SsoRejected
from scimgate.model.sso import PROTOCOL_SAML, Connection
from scimgate.service.clock import utcnow
from scimgate.service.saml_values import normalise_certificate

RED = timedelta(days=30)
AMBER = timedelta(days=60)


@dataclass(frozen=True, slots=True)
class CertificateExpiry:
    owner: str  # "SP" or the connection's name
    subject: str
    not_after: datetime | None  # None: the certificate could not be read
    level: str  # "red", "amber" or "ok"
    words: str


def _level(left: timedelta) -> str:
    if left < RED:
        return "red"
    return "amber" if left < AMBER else "ok"


def _days(left: timedelta) -> str:
    if left.total_seconds() <= 0:
        return "has expired"
    days = left.days
    return f"expires in {days} day{'s' if days != 1 else ''}"


def expiry_of(owner: str, pem: str, now: datetime | None = None) -> CertificateExpiry:
    """The expiry of one PEM (or bare base64) certificate, in words."""
    try:
        cert = x509.load_pem_x509_certificate(normalise_certificate(pem).encode())
    except (ValueError, SsoRejected):
        return CertificateExpiry(owner, "", None, "red", "the certificate cannot be read")
    not_after = cert.not_valid_after_utc
    left = not_after - (now or utcnow())
    words = f"{_days(left)} ({not_after:%Y-%m-%d})"
    return CertificateExpiry(owner, cert.subject.rfc4514_string(), not_after, _level(left), words)


def _idp_certificates(connection: Connection) -> list[str]:
    raw = connection.config.get("idp_certificates") or []
    if isinstance(raw, str):
        return [raw]
    return [str(c) for c in raw] if isinstance(raw, list) else []


def expiries(
    connections: Sequence[Connection],
    sp_certificates: Sequence[str | None],
    now: datetime | None = None,
) -> list[CertificateExpiry]:
    """The SP's certificates and each SAML connection's IdP certificates, soonest first."""
    found = [expiry_of("SP", pem, now) for pem in sp_certificates if pem]
    for connection in connections:
        if connection.protocol == PROTOCOL_SAML:
            found += [expiry_of(connection.name, pem, now) for pem in _idp_certificates(connection)]
    return sorted(found, key=lambda e: (e.not_after is not None, e.not_after or utcnow()))
