"""Stored secrets as a whole: moving every one of them to the current key.

After ``SCIMGATE_SECRET_KEY`` changes (the old value kept in
``SCIMGATE_SECRET_KEY_PREVIOUS``), ``reseal`` opens each stored secret with
whichever key sealed it and seals it again with the current one; a legacy
plaintext value is sealed for the first time. Once it reports nothing left
behind, the previous keys can be dropped (docs/how-to/rotate-secret-key.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from scimgate.config import Settings
from scimgate.service.sealing import (
    SSO_CLIENT_SECRET,
    SSO_SP_KEY,
    WEBHOOK_SECRET,
    Keyring,
    UnsealError,
    is_sealed,
)
from scimgate.storage.database import Database
from scimgate.storage.directory import Directory

__all__ = ["ResealReport", "Unopened", "reseal"]

DEFAULT_BATCH = 200


@dataclass(frozen=True, slots=True)
class Unopened:
    """A stored secret that no configured key opens; it is left as it was."""

    kind: str
    id: str
    reason: str


@dataclass(slots=True)
class ResealReport:
    """What one pass did: counts per outcome, and each value it could not open."""

    resealed: int = 0  # sealed with a previous key, now with the current one
    sealed: int = 0  # legacy plaintext, now sealed
    current: int = 0  # already sealed with the current key
    unopened: list[Unopened] = field(default_factory=list)


def reseal(db: Database, settings: Settings, *, batch: int = DEFAULT_BATCH) -> ResealReport:
    """Seal every stored secret with the current key, ``batch`` rows per transaction.

    Each kind of secret has its own keyring (its own purpose label): the
    webhooks' signing secrets, the SSO connections' client secrets and the
    tenants' SAML SP private keys.

    Idempotent: a second run finds every value current and writes nothing. A
    row changed by someone else between the read and the write is left to them.
    """
    if batch < 1:
        raise ValueError("batch must be at least 1")
    report = ResealReport()
    _reseal_kind(db, settings, batch, report, _WEBHOOKS)
    _reseal_kind(db, settings, batch, report, _SSO_CLIENT_SECRETS)
    _reseal_kind(db, settings, batch, report, _SSO_SP_KEYS)
    return report


@dataclass(frozen=True, slots=True)
class _Kind:
    name: str
    purpose: bytes
    start: Any  # the id before the first
    page: Callable[[Directory, Any, int], list[tuple[Any, str]]]
    replace: Callable[[Directory, Any, str, str], bool]


_WEBHOOKS = _Kind(
    "webhook",
    WEBHOOK_SECRET,
    "",
    lambda d, after, n: d.webhook_secrets.page(after, n),
    lambda d, item, old, new: d.webhook_secrets.replace(item, old, new),
)
_SSO_CLIENT_SECRETS = _Kind(
    "sso_connection",
    SSO_CLIENT_SECRET,
    0,
    lambda d, after, n: d.sso_secrets.client_secrets(after, n),
    lambda d, item, old, new: d.sso_secrets.replace_client_secret(item, old, new),
)
_SSO_SP_KEYS = _Kind(
    "sso_sp_key",
    SSO_SP_KEY,
    0,
    lambda d, after, n: d.sso_secrets.sp_keys(after, n),
    lambda d, item, old, new: d.sso_secrets.replace_sp_key(item, old, new),
)


def _reseal_kind(
    db: Database, settings: Settings, batch: int, report: ResealReport, kind: _Kind
) -> None:
    keyring = Keyring.from_settings(settings, kind.purpose)
    after = kind.start
    while True:
        with db.directory(write=True) as directory:
            page = kind.page(directory, after, batch)
            for item_id, stored in page:
                fresh = _reseal_one(keyring, kind.name, str(item_id), stored, report)
                if fresh is not None:
                    kind.replace(directory, item_id, stored, fresh)
        if len(page) < batch:
            return
        after = page[-1][0]


def _reseal_one(
    keyring: Keyring, kind: str, item_id: str, stored: str, report: ResealReport
) -> str | None:
    """The value to store instead of ``stored``, or None to leave it as it is."""
    if keyring.is_current(stored):
        report.current += 1
        return None
    try:
        plaintext = keyring.open(stored)
    except UnsealError as exc:
        report.unopened.append(Unopened(kind=kind, id=item_id, reason=str(exc)))
        return None
    if is_sealed(stored):
        report.resealed += 1
    else:
        report.sealed += 1
    return keyring.seal(plaintext)
