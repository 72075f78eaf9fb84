"""Secrets at rest: sealed with a key derived from ``SCIMGATE_SECRET_KEY``.

A secret scimgate must use again later (a webhook's signing secret, a single
sign-on client secret, a tenant's SAML SP private key) cannot be hashed like a
token, so it is encrypted before it reaches the database. Each kind of secret
has its own *purpose* label, and the key is derived from ``SECRET_KEY`` and
that label with HKDF-SHA256, so one kind's ciphertext never opens as another.

The stored form is one line of text::

    v1:<key id>:<base64url of nonce + AES-256-GCM ciphertext and tag>

The key id is a short fingerprint of the derived key, so a value names the key
that sealed it: after a rotation (``SCIMGATE_SECRET_KEY_PREVIOUS``) the keyring
tries that key only, and ``scimgate secrets reseal`` can tell which values
still need the current one. A value without the ``v1:`` prefix is a plaintext
written before sealing existed; it opens as itself until it is resealed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from scimgate.config import Settings

__all__ = [
    "SSO_CLIENT_SECRET",
    "SSO_SP_KEY",
    "WEBHOOK_SECRET",
    "Keyring",
    "UnsealError",
    "is_sealed",
]

WEBHOOK_SECRET = b"scimgate webhook secret v1"
SSO_CLIENT_SECRET = b"scimgate sso client secret v1"
SSO_SP_KEY = b"scimgate sso sp private key v1"

_VERSION = "v1"
_PREFIX = _VERSION + ":"
_NONCE_BYTES = 12
_KEY_ID_BYTES = 4


class UnsealError(ValueError):
    """A stored value that the keyring cannot open: unknown key, tampered or malformed."""


def is_sealed(stored: str) -> bool:
    """Whether ``stored`` is in the sealed form (otherwise it is a legacy plaintext)."""
    return stored.startswith(_PREFIX)


@dataclass(frozen=True, slots=True)
class _Key:
    key_id: str
    aead: AESGCM


def _derive(secret_key: str, purpose: bytes) -> _Key:
    material = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        secret_key.encode()
    )
    # A hash of the derived key, never of SECRET_KEY itself: the id names the key, it does not
    # help anyone guess it.
    fingerprint = hashlib.sha256(b"scimgate key id\x00" + material).digest()[:_KEY_ID_BYTES]
    return _Key(key_id=fingerprint.hex(), aead=AESGCM(material))


class Keyring:
    """Seals with the current key and opens with the current or a previous one."""

    def __init__(self, current: str, previous: Iterable[str] = (), *, purpose: bytes) -> None:
        if not current:
            raise ValueError("the secret key is empty")
        self.purpose = purpose
        self._current = _derive(current, purpose)
        self._keys = {self._current.key_id: self._current}
        for old in previous:
            if old:
                key = _derive(old, purpose)
                self._keys.setdefault(key.key_id, key)

    @classmethod
    def from_settings(cls, settings: Settings, purpose: bytes) -> Keyring:
        return cls(
            settings.secret_key.get_secret_value(),
            settings.previous_secret_keys(),
            purpose=purpose,
        )

    @property
    def current_key_id(self) -> str:
        return self._current.key_id

    def seal(self, plaintext: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._current.aead.encrypt(nonce, plaintext.encode(), self.purpose)
        body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{_PREFIX}{self._current.key_id}:{body}"

    def open(self, stored: str) -> str:
        """The plaintext of ``stored``; a legacy plaintext value is returned as it is.

        Raises UnsealError, naming the cause, when the value cannot be opened.
        """
        if not is_sealed(stored):
            return stored
        key_id, _, body = stored.removeprefix(_PREFIX).partition(":")
        key = self._keys.get(key_id)
        if key is None:
            raise UnsealError(
                f"sealed with key {key_id!r}, which is neither SCIMGATE_SECRET_KEY nor "
                "one of SCIMGATE_SECRET_KEY_PREVIOUS"
            )
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            return key.aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], self.purpose).decode()
        except (InvalidTag, binascii.Error, ValueError) as exc:
            raise UnsealError(
                f"the value sealed with key {key_id!r} fails its integrity check "
                "(altered or truncated)"
            ) from exc

    def is_current(self, stored: str) -> bool:
        """Whether ``stored`` is already sealed with the current key (reseal leaves it alone)."""
        return stored.startswith(f"{_PREFIX}{self._current.key_id}:")
