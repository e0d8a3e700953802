"""Signed, expiring tokens for file URLs (`/files/{token}`).

The `fileUrl` the gateway hands out (docs/reference/setu-api.md §4.4, §4.5, §7) must work
without credentials, for a limited time, for one blob only. The token carries the blob key, the
expiry and an optional download filename, authenticated with HMAC-SHA256 under the keyring's
url-signing subkey. It is not encrypted: it names a blob, it does not contain the document.
Revocation is not the token's job: purging or revoking a request deletes its blobs.

Token = urlsafe base64 (no padding) of::

    version (1) | kid length (1) | kid | expires, unix seconds (8) |
    blob key length (2) | blob key | has filename (1) | [filename length (2) | filename] | mac (32)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from digilocker_gateway.storage.keys import URL_SIGNING, Keyring, UnknownKeyId, is_valid_key_id

TOKEN_VERSION: Final = 1
# Longer tokens are refused before any parsing or hashing.
MAX_TOKEN_LENGTH: Final = 4096
_MAC_BYTES: Final = 32
_MAC_DOMAIN: Final = b"digilocker-gateway/file-url/v1\x00"
_U8: Final = struct.Struct(">B")
_U16: Final = struct.Struct(">H")
_U64: Final = struct.Struct(">Q")


class SignedUrlError(Exception):
    """Base of the signed URL errors."""


class InvalidSignedUrl(SignedUrlError):
    """The token is malformed, forged, altered, or signed with a key no longer held."""


class ExpiredSignedUrl(SignedUrlError):
    """The token is genuine but its expiry has passed."""


@dataclass(frozen=True, slots=True)
class SignedFile:
    blob_key: str
    expires_at: datetime
    filename: str | None


def _mac(keyring: Keyring, key_id: str, payload: bytes) -> bytes:
    return hmac.new(
        keyring.subkey(URL_SIGNING, key_id), _MAC_DOMAIN + payload, hashlib.sha256
    ).digest()


def _length_prefixed(value: bytes) -> bytes:
    if len(value) > 0xFFFF:
        raise ValueError("value is too long for a signed URL")
    return _U16.pack(len(value)) + value


def sign_file_token(
    keyring: Keyring, *, blob_key: str, expires_at: datetime, filename: str | None = None
) -> str:
    """A URL-safe token granting access to `blob_key` until `expires_at` (aware datetime;
    sub-second precision is dropped, so the token expires up to a second early, never late)."""
    if expires_at.tzinfo is None:
        raise ValueError("expires_at must be timezone-aware")
    key_id = keyring.active_id
    kid = key_id.encode("ascii")
    payload = b"".join(
        (
            _U8.pack(TOKEN_VERSION),
            _U8.pack(len(kid)),
            kid,
            _U64.pack(max(0, int(expires_at.timestamp()))),
            _length_prefixed(blob_key.encode("utf-8")),
            _U8.pack(0) if filename is None else _U8.pack(1),
            b"" if filename is None else _length_prefixed(filename.encode("utf-8")),
        )
    )
    token = payload + _mac(keyring, key_id, payload)
    return base64.urlsafe_b64encode(token).rstrip(b"=").decode("ascii")


class _Reader:
    """Bounds-checked reads from a payload; any overrun means a malformed token."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._offset = 0

    def take(self, size: int) -> bytes:
        end = self._offset + size
        if end > len(self._data):
            raise InvalidSignedUrl("file token is malformed")
        chunk = self._data[self._offset : end]
        self._offset = end
        return chunk

    def u8(self) -> int:
        (value,) = _U8.unpack(self.take(_U8.size))
        return int(value)

    def u64(self) -> int:
        (value,) = _U64.unpack(self.take(_U64.size))
        return int(value)

    def prefixed_text(self) -> str:
        (length,) = _U16.unpack(self.take(_U16.size))
        try:
            return self.take(int(length)).decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidSignedUrl("file token is malformed") from None

    def at_end(self) -> bool:
        return self._offset == len(self._data)


def verify_file_token(keyring: Keyring, token: str, *, now: datetime) -> SignedFile:
    """The blob a token grants, if the token is genuine and `now` is before its expiry.

    Raises `InvalidSignedUrl` (malformed, forged, unknown key) or `ExpiredSignedUrl`."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if not token or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        raise InvalidSignedUrl("file token is malformed")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise InvalidSignedUrl("file token is malformed") from None
    if len(raw) <= _MAC_BYTES:
        raise InvalidSignedUrl("file token is malformed")
    payload, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
    reader = _Reader(payload)
    if reader.u8() != TOKEN_VERSION:
        raise InvalidSignedUrl("file token has an unknown version")
    try:
        key_id = reader.take(reader.u8()).decode("ascii")
    except UnicodeDecodeError:
        raise InvalidSignedUrl("file token is malformed") from None
    if not is_valid_key_id(key_id):
        raise InvalidSignedUrl("file token is malformed")
    try:
        expected = _mac(keyring, key_id, payload)
    except UnknownKeyId:
        raise InvalidSignedUrl("file token was signed with a key no longer held") from None
    # Nothing beyond the key id is trusted (or even parsed) before the MAC is checked, and the
    # check takes the same time wherever the first differing byte is.
    if not hmac.compare_digest(mac, expected):
        raise InvalidSignedUrl("file token signature does not match")
    expires_at = datetime.fromtimestamp(reader.u64(), tz=UTC)
    blob_key = reader.prefixed_text()
    has_filename = reader.u8()
    filename = reader.prefixed_text() if has_filename else None
    if not reader.at_end():
        raise InvalidSignedUrl("file token is malformed")
    if now >= expires_at:
        raise ExpiredSignedUrl("file link has expired")
    return SignedFile(blob_key=blob_key, expires_at=expires_at, filename=filename)
