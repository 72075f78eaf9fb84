"""The keyring the tests' settings give webhook secrets (SECRET_KEY left at its dev value)."""

from __future__ import annotations

from scimgate.config import DEV_SECRET_KEY
from scimgate.service.sealing import WEBHOOK_SECRET, Keyring

WEBHOOK_KEYRING = Keyring(DEV_SECRET_KEY, purpose=WEBHOOK_SECRET)
