"""Signed, expiring file tokens."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from digilocker_gateway.storage.keys import Keyring
from digilocker_gateway.storage.signed_urls import (
    ExpiredSignedUrl,
    InvalidSignedUrl,
    SignedFile,
    sign_file_token,
    verify_file_token,
)

NOW = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
BLOB = "requests/0f8e3c1a-synthetic/5d41402abc4b"


def keyring(*ids: str, active: str | None = None) -> Keyring:
    spec = ",".join(
        f"{key_id}:{base64.b64encode(key_id.encode().ljust(32, b'.')).decode()}" for key_id in ids
    )
    return Keyring.parse(spec, active)


def decode(token: str) -> bytearray:
    return bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))


def encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_valid_token_returns_signed_file() -> None:
    ring = keyring("k1")
    expires = NOW + timedelta(minutes=10)

    token = sign_file_token(ring, blob_key=BLOB, expires_at=expires, filename="PANCR-001.pdf")

    assert verify_file_token(ring, token, now=NOW) == SignedFile(
        blob_key=BLOB, expires_at=expires, filename="PANCR-001.pdf"
    )


def test_token_without_filename_returns_none_filename() -> None:
    ring = keyring("k1")
    token = sign_file_token(ring, blob_key=BLOB, expires_at=NOW + timedelta(minutes=1))

    assert verify_file_token(ring, token, now=NOW).filename is None


def test_token_is_url_safe_and_compact() -> None:
    token = sign_file_token(
        keyring("k1"), blob_key=BLOB, expires_at=NOW + timedelta(hours=1), filename="a b/c.pdf"
    )

    assert re.fullmatch(r"[A-Za-z0-9_-]+", token)
    assert len(token) < 160


def test_expiry_in_other_timezone_is_same_instant() -> None:
    ring = keyring("k1")
    ist = timezone(timedelta(hours=5, minutes=30))
    expires = datetime(2025, 3, 1, 15, 40, tzinfo=ist)  # 10:10 UTC

    signed = verify_file_token(
        ring, sign_file_token(ring, blob_key=BLOB, expires_at=expires), now=NOW
    )

    assert signed.expires_at == expires


def test_subsecond_expiry_is_rounded_down() -> None:
    ring = keyring("k1")
    expires = NOW + timedelta(seconds=5, microseconds=900_000)

    signed = verify_file_token(
        ring, sign_file_token(ring, blob_key=BLOB, expires_at=expires), now=NOW
    )

    assert signed.expires_at == NOW + timedelta(seconds=5)


def test_token_at_or_after_expiry_raises_expired() -> None:
    ring = keyring("k1")
    expires = NOW + timedelta(minutes=10)
    token = sign_file_token(ring, blob_key=BLOB, expires_at=expires)

    assert verify_file_token(ring, token, now=expires - timedelta(seconds=1)).blob_key == BLOB
    with pytest.raises(ExpiredSignedUrl):
        verify_file_token(ring, token, now=expires)
    with pytest.raises(ExpiredSignedUrl):
        verify_file_token(ring, token, now=expires + timedelta(days=1))


@pytest.mark.parametrize("position", [0, 1, 5, 12, 20, 40, -33, -1])
def test_token_with_any_flipped_byte_raises_invalid(position: int) -> None:
    ring = keyring("k1")
    raw = decode(sign_file_token(ring, blob_key=BLOB, expires_at=NOW + timedelta(hours=1)))
    raw[position] ^= 0x04

    with pytest.raises(InvalidSignedUrl):
        verify_file_token(ring, encode(bytes(raw)), now=NOW)


def test_token_with_extended_expiry_raises_invalid() -> None:
    ring = keyring("k1")
    raw = decode(sign_file_token(ring, blob_key=BLOB, expires_at=NOW - timedelta(hours=1)))
    expiry_offset = 2 + len("k1")
    raw[expiry_offset : expiry_offset + 8] = int((NOW + timedelta(days=365)).timestamp()).to_bytes(
        8, "big"
    )

    with pytest.raises(InvalidSignedUrl):
        verify_file_token(ring, encode(bytes(raw)), now=NOW)


def test_token_with_other_blob_key_raises_invalid() -> None:
    ring = keyring("k1")
    token = sign_file_token(ring, blob_key="requests/aaaa/1111", expires_at=NOW + timedelta(1))
    raw = bytes(decode(token)).replace(b"requests/aaaa/1111", b"requests/bbbb/2222")

    with pytest.raises(InvalidSignedUrl):
        verify_file_token(ring, encode(raw), now=NOW)


def test_token_signed_by_other_keyring_with_same_key_id_raises_invalid() -> None:
    forged = sign_file_token(
        Keyring.parse(f"k1:{base64.b64encode(b'x' * 32).decode()}", None),
        blob_key=BLOB,
        expires_at=NOW + timedelta(hours=1),
    )

    with pytest.raises(InvalidSignedUrl, match="signature"):
        verify_file_token(keyring("k1"), forged, now=NOW)


def test_token_from_old_active_key_verifies_after_rotation() -> None:
    token = sign_file_token(
        keyring("old", "new", active="old"), blob_key=BLOB, expires_at=NOW + timedelta(hours=1)
    )

    assert verify_file_token(keyring("old", "new", active="new"), token, now=NOW).blob_key == BLOB


def test_token_under_removed_key_raises_invalid() -> None:
    token = sign_file_token(keyring("old"), blob_key=BLOB, expires_at=NOW + timedelta(hours=1))

    with pytest.raises(InvalidSignedUrl, match="no longer held"):
        verify_file_token(keyring("new"), token, now=NOW)


def test_truncated_or_extended_token_raises_invalid() -> None:
    ring = keyring("k1")
    token = sign_file_token(ring, blob_key=BLOB, expires_at=NOW + timedelta(hours=1))

    for altered in (token[:-4], token + "AAAA", token[:20]):
        with pytest.raises(InvalidSignedUrl):
            verify_file_token(ring, altered, now=NOW)


@pytest.mark.parametrize("token", ["", "!!!!", "a", "AAAA", "x" * 5000, "é" * 10])
def test_garbage_token_raises_invalid(token: str) -> None:
    with pytest.raises(InvalidSignedUrl):
        verify_file_token(keyring("k1"), token, now=NOW)


def test_naive_datetimes_are_refused() -> None:
    ring = keyring("k1")
    with pytest.raises(ValueError, match="timezone-aware"):
        sign_file_token(ring, blob_key=BLOB, expires_at=datetime(2025, 3, 1, 12, 0))
    token = sign_file_token(ring, blob_key=BLOB, expires_at=NOW + timedelta(hours=1))
    with pytest.raises(ValueError, match="timezone-aware"):
        verify_file_token(ring, token, now=datetime(2025, 3, 1, 10, 0))
