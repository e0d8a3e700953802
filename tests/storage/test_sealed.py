"""Sealed fields: bound to their row and field, resealable, and readable from older data."""

from __future__ import annotations

import base64
import hashlib

import pytest

from digilocker_gateway.storage.encryption import DecryptionError, encrypt_text, text_key_id
from digilocker_gateway.storage.keys import Keyring
from digilocker_gateway.storage.sealed import (
    ACCESS_TOKEN,
    PARTNER_SECRET,
    REFRESH_TOKEN,
    SealedValues,
)


def keyring(*ids: str, active: str) -> Keyring:
    # Distinct synthetic 256-bit keys, one per id.
    spec = ",".join(
        f"{key_id}:{base64.b64encode(hashlib.sha256(key_id.encode()).digest()).decode()}"
        for key_id in ids
    )
    return Keyring.parse(spec, active)


def test_a_sealed_value_opens_only_for_its_own_row_and_field() -> None:
    sealed = SealedValues(keyring("k1", active="k1"))
    value = sealed.seal(ACCESS_TOKEN, "request-1", "token-value")
    assert "token-value" not in value
    assert sealed.open(ACCESS_TOKEN, "request-1", value) == "token-value"
    with pytest.raises(DecryptionError):
        sealed.open(ACCESS_TOKEN, "request-2", value)
    with pytest.raises(DecryptionError):
        sealed.open(REFRESH_TOKEN, "request-1", value)


def test_values_sealed_before_this_module_still_open() -> None:
    # The contexts are the associated data of data already at rest: they must never change.
    ring = keyring("k1", active="k1")
    old_token = encrypt_text(ring, "t", associated_data=b"digilocker_request:r-1:access_token")
    old_secret = encrypt_text(
        ring, "s", associated_data=b"product_instance:p-1:digilocker_client_secret"
    )
    sealed = SealedValues(ring)
    assert sealed.open(ACCESS_TOKEN, "r-1", old_token) == "t"
    assert sealed.open(PARTNER_SECRET, "p-1", old_secret) == "s"


def test_reseal_moves_a_value_to_the_active_key() -> None:
    old = SealedValues(keyring("old", active="old")).seal(PARTNER_SECRET, "p-1", "secret")
    both = SealedValues(keyring("old", "new", active="new"))
    moved = both.reseal(PARTNER_SECRET, "p-1", old)
    assert text_key_id(moved) == "new"
    assert both.reseal(PARTNER_SECRET, "p-1", moved) == moved
    assert SealedValues(keyring("new", active="new")).open(PARTNER_SECRET, "p-1", moved) == "secret"
