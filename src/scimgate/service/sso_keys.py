"""A tenant's SAML service-provider key pair: made on first use, sealed at rest, rotatable.

The SP signs its AuthnRequests and receives encrypted assertions with this
pair. It is an RSA-2048 key and a self-signed certificate (IdPs pin the
certificate from the SP metadata; no CA is involved). A rotation keeps the old
certificate published beside the new one, so an IdP that has not refreshed
the metadata yet still trusts what the SP signs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from scimgate.model.entities import Tenant
from scimgate.service.clock import utcnow
from scimgate.service.sealing import Keyring
from scimgate.storage.database import Database

CERT_LIFETIME = timedelta(days=3650)


@dataclass(frozen=True, slots=True)
class SpKeys:
    cert_pem: str
    key_pem: str
    previous_cert_pem: str | None


def _new_pair(tenant: Tenant) -> tuple[str, str]:
    """(private key PEM, certificate PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"scimgate sso {tenant.slug}")])
    now = utcnow()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + CERT_LIFETIME)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return key_pem, cert.public_bytes(serialization.Encoding.PEM).decode()


def sp_keys(db: Database, tenant: Tenant, keyring: Keyring) -> SpKeys:
    """The tenant's key pair, made on first use (``keyring`` of purpose ``SSO_SP_KEY``)."""
    with db.tenant(tenant.id) as repo:
        stored = repo.sso.sp_keys()
    if stored is None:
        key_pem, cert_pem = _new_pair(tenant)
        with db.tenant(tenant.id, write=True) as repo:
            # Two first uses at once: the first insert wins, both read it back.
            repo.sso.add_sp_keys(keyring.seal(key_pem), cert_pem, utcnow())
            stored = repo.sso.sp_keys()
    assert stored is not None
    return SpKeys(stored.cert, keyring.open(stored.private_key), stored.previous_cert)


def rotate_sp_keys(db: Database, tenant: Tenant, keyring: Keyring) -> SpKeys:
    """A new key pair; the current certificate stays published as the previous one."""
    current = sp_keys(db, tenant, keyring)
    key_pem, cert_pem = _new_pair(tenant)
    with db.tenant(tenant.id, write=True) as repo:
        repo.sso.replace_sp_keys(keyring.seal(key_pem), cert_pem, current.cert_pem, utcnow())
    return SpKeys(cert_pem, key_pem, current.cert_pem)
