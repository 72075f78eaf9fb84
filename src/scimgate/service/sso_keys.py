"""A tenant's SAML service-provider key pair: made on first use, sealed at rest, rotatable.

The SP signs its AuthnRequests and receives encrypted assertions with this
pair. It is an RSA-2048 key and a self-signed certificate (IdPs pin the
certificate from the SP metadata; no CA is involved). A rotation keeps the old
certificate published beside the new one, so an IdP that has not refreshed
the metadata yet still trusts what the SP signs; ``finish_rotation`` stops
publishing it once every IdP has the new metadata. One rotation at a time: a
second one before the first is finished would unpublish a certificate some
IdP may still pin, so it is refused.

The previous private key is kept (sealed) until the rotation is finished, so
an assertion an IdP still encrypts with the previous certificate is decrypted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from scimgate.errors import Conflict
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
    previous_key_pem: str | None = None


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
    previous_key = stored.previous_private_key
    return SpKeys(
        stored.cert,
        keyring.open(stored.private_key),
        stored.previous_cert,
        keyring.open(previous_key) if previous_key else None,
    )


def sp_certificates(db: Database, tenant: Tenant) -> tuple[str, str | None] | None:
    """(certificate, previous certificate) if the tenant has a key pair yet; makes none."""
    with db.tenant(tenant.id) as repo:
        stored = repo.sso.sp_keys()
    return None if stored is None else (stored.cert, stored.previous_cert)


def rotate_sp_keys(db: Database, tenant: Tenant, keyring: Keyring) -> SpKeys:
    """A new key pair; the current certificate stays published as the previous one.

    ``Conflict`` while a rotation is in progress (``finish_rotation`` ends it).
    """
    current = sp_keys(db, tenant, keyring)
    if current.previous_cert_pem is not None:
        raise Conflict(
            f"tenant {tenant.slug!r} is rotating its SP keys already; "
            "finish that rotation first (once every IdP has the new SP metadata)"
        )
    key_pem, cert_pem = _new_pair(tenant)
    with db.tenant(tenant.id, write=True) as repo:
        done = repo.sso.replace_sp_keys(
            keyring.seal(key_pem),
            cert_pem,
            current.cert_pem,
            utcnow(),
            previous_private_key=keyring.seal(current.key_pem),
        )
    if not done:
        raise Conflict(f"the SP keys of tenant {tenant.slug!r} changed meanwhile; try again")
    return SpKeys(cert_pem, key_pem, current.cert_pem, current.key_pem)


def finish_rotation(db: Database, tenant: Tenant, keyring: Keyring) -> SpKeys:
    """Stop publishing the previous certificate; ``Conflict`` when no rotation is in progress."""
    with db.tenant(tenant.id, write=True) as repo:
        done = repo.sso.drop_previous_cert()
    if not done:
        raise Conflict(f"tenant {tenant.slug!r} has no SP key rotation in progress")
    return sp_keys(db, tenant, keyring)
