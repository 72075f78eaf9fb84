"""Sealing a secret: opens with the key that sealed it, refuses anything altered."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest

from scimgate.config import Settings
from scimgate.service.sealing import WEBHOOK_SECRET, Keyring, UnsealError, is_sealed
from scimgate.service.webhooks import new_secret

KEY_A = "first-key-0123456789abcdefghijklmnop"
KEY_B = "second-key-0123456789abcdefghijklmno"


def _ring(current: str, *previous: str) -> Keyring:
    return Keyring(current, previous, purpose=WEBHOOK_SECRET)


def test_a_sealed_value_is_not_the_plaintext_and_opens_to_it() -> None:
    secret = new_secret()
    sealed = _ring(KEY_A).seal(secret)
    assert is_sealed(sealed)
    assert secret not in sealed
    assert secret.removeprefix("whsec_") not in sealed
    assert _ring(KEY_A).open(sealed) == secret


def test_sealing_twice_gives_two_values() -> None:
    """A fresh nonce each time: equal secrets do not show as equal rows."""
    ring = _ring(KEY_A)
    assert ring.seal("whsec_same") != ring.seal("whsec_same")


def test_the_stored_form_names_its_version_and_key() -> None:
    ring = _ring(KEY_A)
    version, key_id, _body = ring.seal(new_secret()).split(":")
    assert (version, key_id) == ("v1", ring.current_key_id)
    assert ring.current_key_id != _ring(KEY_B).current_key_id


def test_a_sealed_webhook_secret_fits_its_column() -> None:
    """webhooks.secret is VARCHAR(128), which PostgreSQL enforces."""
    assert len(_ring(KEY_A).seal(new_secret())) <= 128


def test_a_value_sealed_with_a_previous_key_opens_while_that_key_is_listed() -> None:
    sealed = _ring(KEY_A).seal("whsec_x")
    assert _ring(KEY_B, KEY_A).open(sealed) == "whsec_x"
    with pytest.raises(UnsealError, match="SCIMGATE_SECRET_KEY_PREVIOUS"):
        _ring(KEY_B).open(sealed)


def test_another_purpose_does_not_open_the_value() -> None:
    sealed = _ring(KEY_A).seal("whsec_x")
    with pytest.raises(UnsealError):
        Keyring(KEY_A, purpose=b"scimgate other secret v1").open(sealed)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda body: body[:-2] + ("AA" if body[-2:] != "AA" else "BB"),
        lambda body: body[:20],
        lambda body: "!!not base64!!",
        lambda body: "",
    ],
    ids=["altered", "truncated", "garbage", "empty"],
)
def test_a_tampered_value_is_refused_with_the_cause(tamper: Callable[[str], str]) -> None:
    ring = _ring(KEY_A)
    prefix, body = ring.seal("whsec_x").rsplit(":", 1)
    with pytest.raises(UnsealError, match="integrity check"):
        ring.open(f"{prefix}:{tamper(body)}")


def test_a_flipped_ciphertext_bit_is_refused() -> None:
    ring = _ring(KEY_A)
    prefix, body = ring.seal("whsec_x").rsplit(":", 1)
    raw = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    raw[15] ^= 1
    flipped = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    with pytest.raises(UnsealError, match="integrity check"):
        ring.open(f"{prefix}:{flipped}")


def test_a_legacy_plaintext_value_opens_as_itself() -> None:
    legacy = new_secret()
    assert not is_sealed(legacy)
    assert _ring(KEY_A).open(legacy) == legacy
    assert not _ring(KEY_A).is_current(legacy)


def test_the_keyring_follows_the_settings() -> None:
    settings = Settings(
        secret_key=KEY_B,
        secret_key_previous=f" {KEY_A} ,,",
        _env_file=None,  # type: ignore[call-arg]
    )
    assert settings.previous_secret_keys() == (KEY_A,)
    ring = Keyring.from_settings(settings, WEBHOOK_SECRET)
    assert ring.current_key_id == _ring(KEY_B).current_key_id
    assert ring.open(_ring(KEY_A).seal("whsec_x")) == "whsec_x"
    assert ring.is_current(ring.seal("whsec_x"))
