"""Encryption at rest with AES-256-GCM: short strings (DigiLocker tokens, partner secrets) and
streams of any length (stored documents, Aadhaar XML).

docs/architecture.md §4: values carry the id of the key that sealed them, so keys can rotate. Old
keys stay in the keyring to decrypt; new data always uses the active key. Because everything we
encrypt dies with its request after `validUpto`, the usual rotation is lazy: switch the active
key, wait out the longest request lifetime, drop the old key. `keys rewrap` moves data sooner
(storage/rewrap.py): it finds old values with `text_key_id` and reseals them with
`rewrap_text`, and reseals stored files through the blob store.

Text format: ``v1.<kid>.<b64url nonce>.<b64url ciphertext+tag>``.

Stream format (all integers big-endian)::

    header = "DLGB" | version (1) | kid length (1) | kid | chunk size (4) | salt (16) | prefix (8)
    body   = record*   where record = AES-GCM(chunk) = ciphertext | tag (16)

Every record but the last holds exactly `chunk size` plaintext bytes; the last holds fewer (it may
be empty), so a reader knows which record is last without looking ahead. Record i is sealed with
nonce = prefix | i (4 bytes) and associated data = header | final flag | caller's associated
data: reordering changes the nonce, truncation at a record boundary leaves no final record,
appending after the final record breaks its tag, and the header cannot be edited. This is the
STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár, 2015) also used by Tink and age.
"""

from __future__ import annotations

import base64
import binascii
import os
import struct
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from digilocker_gateway.storage.keys import BLOBS, TOKENS, Keyring, UnknownKeyId, is_valid_key_id

TEXT_VERSION: Final = "v1"
STREAM_MAGIC: Final = b"DLGB"
STREAM_VERSION: Final = 1
DEFAULT_CHUNK_SIZE: Final = 64 * 1024
# A tampered header could otherwise make a reader buffer gigabytes before the first tag check.
MAX_CHUNK_SIZE: Final = 4 * 1024 * 1024

_NONCE_BYTES: Final = 12
_TAG_BYTES: Final = 16
_SALT_BYTES: Final = 16
_PREFIX_BYTES: Final = 8
_MAX_RECORDS: Final = 2**32
_FIXED_HEADER: Final = struct.Struct(">4sBB")  # magic, version, kid length
_HEADER_TAIL: Final = struct.Struct(f">I{_SALT_BYTES}s{_PREFIX_BYTES}s")
_NOT_FINAL: Final = b"\x00"
_FINAL: Final = b"\x01"


class DecryptionError(Exception):
    """The value or stream cannot be decrypted: malformed, sealed for other associated data,
    tampered with, truncated, or under a key the keyring no longer holds. Messages never carry
    any of the content."""


class UnknownEncryptionKey(DecryptionError):
    """Sealed under a key id the keyring does not hold (removed too early after a rotation?)."""

    def __init__(self, key_id: str) -> None:
        self.key_id = key_id
        super().__init__(f"encrypted under key id {key_id!r}, which is not in the keyring")


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _subkey(keyring: Keyring, purpose: str, key_id: str) -> bytes:
    try:
        return keyring.subkey(purpose, key_id)
    except UnknownKeyId:
        raise UnknownEncryptionKey(key_id) from None


# --- short values -------------------------------------------------------------------------


def _text_associated_data(key_id: str, associated_data: bytes) -> bytes:
    # The version and key id are authenticated too, so no part of the string can be edited.
    return f"{TEXT_VERSION}.{key_id}.".encode("ascii") + associated_data


def encrypt_text(keyring: Keyring, plaintext: str, *, associated_data: bytes) -> str:
    """Seal `plaintext` under the active key. `associated_data` binds it to where it is stored
    (e.g. request id + column name) so it cannot be moved to another row or field."""
    key_id = keyring.active_id
    # A random 96-bit nonce is safe for far more values than a gateway will ever store under
    # one key (NIST SP 800-38D, 8.3: up to 2**32 random nonces per key).
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(keyring.subkey(TOKENS, key_id)).encrypt(
        nonce, plaintext.encode("utf-8"), _text_associated_data(key_id, associated_data)
    )
    return f"{TEXT_VERSION}.{key_id}.{_b64encode(nonce)}.{_b64encode(sealed)}"


def text_key_id(token: str) -> str:
    """The id of the key that sealed `token`, for finding values still under an old key."""
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != TEXT_VERSION or not is_valid_key_id(parts[1]):
        raise DecryptionError("not an encrypted value in a known format")
    return parts[1]


def decrypt_text(keyring: Keyring, token: str, *, associated_data: bytes) -> str:
    """Open a value sealed by `encrypt_text` with the same associated data."""
    key_id = text_key_id(token)
    _, _, encoded_nonce, encoded_sealed = token.split(".")
    try:
        nonce = _b64decode(encoded_nonce)
        sealed = _b64decode(encoded_sealed)
    except (binascii.Error, ValueError):
        raise DecryptionError("encrypted value is not valid base64") from None
    if len(nonce) != _NONCE_BYTES or len(sealed) < _TAG_BYTES:
        raise DecryptionError("encrypted value is malformed")
    cipher = AESGCM(_subkey(keyring, TOKENS, key_id))
    try:
        plaintext = cipher.decrypt(nonce, sealed, _text_associated_data(key_id, associated_data))
    except InvalidTag:
        raise DecryptionError(
            "encrypted value failed authentication (tampered, or sealed for other associated data)"
        ) from None
    try:
        return plaintext.decode("utf-8")
    except UnicodeDecodeError:
        raise DecryptionError("decrypted value is not UTF-8") from None


def rewrap_text(keyring: Keyring, token: str, *, associated_data: bytes) -> str:
    """Reseal `token` under the active key (unchanged if it already is)."""
    if text_key_id(token) == keyring.active_id:
        return token
    plaintext = decrypt_text(keyring, token, associated_data=associated_data)
    return encrypt_text(keyring, plaintext, associated_data=associated_data)


# --- streams ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _StreamHeader:
    key_id: str
    chunk_size: int
    salt: bytes
    prefix: bytes

    def encode(self) -> bytes:
        kid = self.key_id.encode("ascii")
        return (
            _FIXED_HEADER.pack(STREAM_MAGIC, STREAM_VERSION, len(kid))
            + kid
            + _HEADER_TAIL.pack(self.chunk_size, self.salt, self.prefix)
        )

    def cipher(self, keyring: Keyring) -> AESGCM:
        # Each blob gets its own key, derived from the blobs subkey and a random salt. With a
        # single key, random 64-bit nonce prefixes would collide after ~2**32 blobs; per-blob
        # keys take nonce reuse across blobs off the table (the AES-GCM-HKDF streaming design).
        blob_key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=self.salt, info=b"blob-stream-v1"
        ).derive(_subkey(keyring, BLOBS, self.key_id))
        return AESGCM(blob_key)


class _Sealer:
    """Seals the records of one stream in order."""

    def __init__(self, cipher: AESGCM, header: _StreamHeader, associated_data: bytes) -> None:
        self._cipher = cipher
        self._prefix = header.prefix
        self._header_bytes = header.encode()
        self._associated_data = associated_data
        self._counter = 0

    def _next(self) -> tuple[bytes, int]:
        if self._counter >= _MAX_RECORDS:
            # The 32-bit counter would wrap and repeat a nonce.
            raise OverflowError("stream has more records than the format allows")
        nonce = self._prefix + self._counter.to_bytes(4, "big")
        self._counter += 1
        return nonce, self._counter

    def _aad(self, flag: bytes) -> bytes:
        return self._header_bytes + flag + self._associated_data

    def seal(self, chunk: bytes | memoryview, *, final: bool) -> bytes:
        nonce, _ = self._next()
        return self._cipher.encrypt(nonce, chunk, self._aad(_FINAL if final else _NOT_FINAL))

    def open(self, record: bytes | bytearray | memoryview, *, final: bool) -> bytes:
        nonce, number = self._next()
        try:
            return self._cipher.decrypt(nonce, record, self._aad(_FINAL if final else _NOT_FINAL))
        except InvalidTag:
            raise DecryptionError(
                f"stream record {number} failed authentication "
                "(tampered, reordered, truncated, or other associated data)"
            ) from None


async def encrypt_stream(
    keyring: Keyring,
    chunks: AsyncIterator[bytes],
    *,
    associated_data: bytes,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> AsyncGenerator[bytes, None]:
    """Seal a stream of any length under the active key. Input chunk boundaries are arbitrary;
    memory use stays around `chunk_size` plus the largest input chunk."""
    if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
        raise ValueError(f"chunk_size must be between 1 and {MAX_CHUNK_SIZE}")
    header = _StreamHeader(
        key_id=keyring.active_id,
        chunk_size=chunk_size,
        salt=os.urandom(_SALT_BYTES),
        prefix=os.urandom(_PREFIX_BYTES),
    )
    sealer = _Sealer(header.cipher(keyring), header, associated_data)
    yield header.encode()
    buffer = bytearray()
    async for piece in chunks:
        buffer += piece
        if len(buffer) < chunk_size:
            continue
        sealed: list[bytes] = []
        with memoryview(buffer) as view:
            start = 0
            # A full record is never the final one: the final record is always short, so a
            # stream whose length is a multiple of chunk_size ends with an empty final record.
            while len(buffer) - start >= chunk_size:
                sealed.append(sealer.seal(view[start : start + chunk_size], final=False))
                start += chunk_size
        del buffer[:start]
        for record in sealed:
            yield record
    yield sealer.seal(bytes(buffer), final=True)


def _header_size(fixed: bytes | bytearray) -> int:
    """The whole header's length, from its fixed part (checked here)."""
    magic, version, kid_length = _FIXED_HEADER.unpack_from(fixed)
    if magic != STREAM_MAGIC:
        raise DecryptionError("not an encrypted stream")
    if version != STREAM_VERSION:
        raise DecryptionError(f"unsupported encrypted stream version {version}")
    return int(_FIXED_HEADER.size + kid_length + _HEADER_TAIL.size)


def _parse_header(raw: bytes | bytearray) -> _StreamHeader:
    kid_length = len(raw) - _FIXED_HEADER.size - _HEADER_TAIL.size
    try:
        key_id = bytes(raw[_FIXED_HEADER.size : _FIXED_HEADER.size + kid_length]).decode("ascii")
    except UnicodeDecodeError:
        raise DecryptionError("stream header has an invalid key id") from None
    if not is_valid_key_id(key_id):
        raise DecryptionError("stream header has an invalid key id")
    chunk_size, salt, prefix = _HEADER_TAIL.unpack_from(raw, _FIXED_HEADER.size + kid_length)
    if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
        raise DecryptionError("stream header has an invalid chunk size")
    return _StreamHeader(key_id, chunk_size, salt, prefix)


class StreamOpener:
    """Opens a stream sealed by `encrypt_stream` as its bytes arrive, with any boundaries, and
    does no I/O, so a caller can run it wherever its bytes are read (on the event loop, or in
    the worker thread that read them). `feed` returns the plaintext of every record completed
    so far, each authenticated before it is returned; `finish` opens the final record and
    raises `DecryptionError` if the stream was cut short, so nothing proves the stream whole
    before `finish` returns.

    Only the header and a record split across two feeds are copied: whole records are opened
    where they lie in the fed buffer, which the caller may reuse once `feed` returns."""

    def __init__(self, keyring: Keyring, *, associated_data: bytes) -> None:
        self._keyring = keyring
        self._associated_data = associated_data
        self._pending = bytearray()  # the header so far, then a partial record
        self._wanted = _FIXED_HEADER.size  # header bytes needed before the next check
        self._sealer: _Sealer | None = None
        self._record_size = 0

    @property
    def record_size(self) -> int | None:
        """Bytes per full record (chunk size + tag), once the header has been read."""
        return self._record_size if self._sealer is not None else None

    @property
    def missing(self) -> int:
        """Bytes that would complete the header, or the record begun: a reader that feeds this
        many next keeps later reads aligned to whole records."""
        if self._sealer is None:
            return self._wanted - len(self._pending)
        return (self._record_size - len(self._pending)) % self._record_size

    def feed(self, data: bytes | bytearray | memoryview) -> list[bytes]:
        with memoryview(data) as view:
            used = 0 if self._sealer is not None else self._take_header(view)
            if self._sealer is None:
                return []
            return self._open_records(self._sealer, view, used)

    def finish(self) -> bytes:
        """The final record's plaintext (possibly empty): the stream is whole."""
        if self._sealer is None:
            raise DecryptionError("stream ends inside its header")
        if len(self._pending) < _TAG_BYTES:
            raise DecryptionError("stream is truncated: its final record is missing")
        last = self._sealer.open(bytes(self._pending), final=True)
        self._pending.clear()
        return last

    def _take_header(self, view: memoryview) -> int:
        pending = self._pending
        used = 0
        while True:
            take = min(self._wanted - len(pending), len(view) - used)
            pending += view[used : used + take]
            used += take
            if len(pending) < self._wanted:
                return used
            if self._wanted > _FIXED_HEADER.size:
                break
            # The fixed part says how long the rest is; a huge chunk size is refused in
            # _parse_header, before any record is buffered.
            self._wanted = _header_size(pending)
        header = _parse_header(pending)
        self._sealer = _Sealer(header.cipher(self._keyring), header, self._associated_data)
        self._record_size = header.chunk_size + _TAG_BYTES
        pending.clear()
        return used

    def _open_records(self, sealer: _Sealer, view: memoryview, start: int) -> list[bytes]:
        # A full-size record is never the final one (the final record is always short), so it
        # can be opened at once; whether the stream was cut after it shows in `finish`.
        record_size = self._record_size
        pending = self._pending
        opened: list[bytes] = []
        if pending:
            take = min(record_size - len(pending), len(view) - start)
            pending += view[start : start + take]
            start += take
            if len(pending) < record_size:
                return opened
            opened.append(sealer.open(pending, final=False))
            pending.clear()
        end = len(view)
        while end - start >= record_size:
            opened.append(sealer.open(view[start : start + record_size], final=False))
            start += record_size
        pending += view[start:]
        return opened


async def decrypt_stream(
    keyring: Keyring, chunks: AsyncIterator[bytes], *, associated_data: bytes
) -> AsyncGenerator[bytes, None]:
    """Open a stream sealed by `encrypt_stream`, with any input chunk boundaries.

    Each record is authenticated before its plaintext is yielded, but the end of the stream is
    only proven at the final record: a consumer that must not act on a truncated stream has to
    wait for this iterator to finish without `DecryptionError`."""
    opener = StreamOpener(keyring, associated_data=associated_data)
    async for piece in chunks:
        for plaintext in opener.feed(piece):
            yield plaintext
    last = opener.finish()
    if last:
        yield last
