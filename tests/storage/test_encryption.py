"""Encryption at rest: text values and chunked streams, tampering, rotation."""

from __future__ import annotations

import base64
import hashlib
import os
import struct
from collections.abc import AsyncIterator, Iterable

import pytest

from digilocker_gateway.storage.encryption import (
    DEFAULT_CHUNK_SIZE,
    DecryptionError,
    StreamOpener,
    UnknownEncryptionKey,
    decrypt_stream,
    decrypt_text,
    encrypt_stream,
    encrypt_text,
    rewrap_text,
    text_key_id,
)
from digilocker_gateway.storage.keys import Keyring

AD = b"request-1/access_token"


def keyring(*ids: str, active: str | None = None) -> Keyring:
    # Deterministic, distinct synthetic keys per id.
    spec = ",".join(
        f"{key_id}:{base64.b64encode(hashlib.sha256(key_id.encode()).digest()).decode()}"
        for key_id in ids
    )
    return Keyring.parse(spec, active)


async def feed(pieces: Iterable[bytes]) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece


async def collect(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in chunks])


def split_odd(
    data: bytes, sizes: tuple[int, ...] = (1, 7, 4093, 65537, 13, 100_003)
) -> list[bytes]:
    pieces: list[bytes] = []
    offset = 0
    index = 0
    while offset < len(data):
        size = sizes[index % len(sizes)]
        pieces.append(data[offset : offset + size])
        offset += size
        index += 1
    return pieces


async def sealed_bytes(
    ring: Keyring, data: bytes, *, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> bytes:
    return await collect(
        encrypt_stream(ring, feed([data]), associated_data=AD, chunk_size=chunk_size)
    )


async def open_bytes(ring: Keyring, sealed: bytes, *, associated_data: bytes = AD) -> bytes:
    return await collect(decrypt_stream(ring, feed([sealed]), associated_data=associated_data))


def header_size(key_id: str) -> int:
    return 6 + len(key_id) + 4 + 16 + 8


# --- text -----------------------------------------------------------------------------------


def test_text_round_trip_returns_plaintext() -> None:
    ring = keyring("k1")

    token = encrypt_text(ring, "eyJhbGciOi…synthetic-access-token", associated_data=AD)

    assert token.startswith("v1.k1.")
    assert "synthetic" not in token
    assert decrypt_text(ring, token, associated_data=AD) == "eyJhbGciOi…synthetic-access-token"


def test_same_plaintext_encrypts_differently_each_time() -> None:
    ring = keyring("k1")

    assert encrypt_text(ring, "same", associated_data=AD) != encrypt_text(
        ring, "same", associated_data=AD
    )


def test_text_with_other_associated_data_raises_decryption_error() -> None:
    ring = keyring("k1")
    token = encrypt_text(ring, "secret-value", associated_data=b"request-1/access_token")

    with pytest.raises(DecryptionError) as caught:
        decrypt_text(ring, token, associated_data=b"request-2/access_token")

    assert "secret-value" not in str(caught.value)


def test_tampered_text_ciphertext_raises_decryption_error() -> None:
    ring = keyring("k1")
    version, key_id, nonce, sealed = encrypt_text(ring, "value", associated_data=AD).split(".")
    flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]

    with pytest.raises(DecryptionError, match="authentication"):
        decrypt_text(ring, f"{version}.{key_id}.{nonce}.{flipped}", associated_data=AD)


def test_text_relabelled_with_other_key_id_raises_decryption_error() -> None:
    ring = keyring("k1", "k2")
    token = encrypt_text(ring, "value", associated_data=AD)

    with pytest.raises(DecryptionError):
        decrypt_text(ring, token.replace("v1.k1.", "v1.k2.", 1), associated_data=AD)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "plain-text",
        "v2.k1.AAAA.AAAA",
        "v1.k1.AAAA",
        "v1.bad!id.AAAA.AAAA",
        "v1.k1.@@.@@",
        "v1.k1.AAAAAAAAAAAAAAAA.AAAA",
    ],
)
def test_malformed_text_raises_decryption_error(token: str) -> None:
    with pytest.raises(DecryptionError):
        decrypt_text(keyring("k1"), token, associated_data=AD)


def test_text_from_old_active_key_decrypts_after_rotation() -> None:
    before = keyring("old", "new", active="old")
    token = encrypt_text(before, "value", associated_data=AD)
    after = keyring("old", "new", active="new")

    assert decrypt_text(after, token, associated_data=AD) == "value"
    assert encrypt_text(after, "value", associated_data=AD).startswith("v1.new.")


def test_text_under_removed_key_raises_unknown_encryption_key() -> None:
    token = encrypt_text(keyring("old"), "value", associated_data=AD)

    with pytest.raises(UnknownEncryptionKey, match="'old'") as caught:
        decrypt_text(keyring("new"), token, associated_data=AD)

    assert caught.value.key_id == "old"


def test_rewrap_text_moves_value_to_active_key() -> None:
    token = encrypt_text(keyring("old", "new", active="old"), "value", associated_data=AD)
    after = keyring("old", "new", active="new")

    rewrapped = rewrap_text(after, token, associated_data=AD)

    assert text_key_id(token) == "old"
    assert text_key_id(rewrapped) == "new"
    assert decrypt_text(keyring("new"), rewrapped, associated_data=AD) == "value"


# --- streams --------------------------------------------------------------------------------


@pytest.mark.parametrize("length", [0, 1, 100, 255, 256, 257, 1024, 3000])
async def test_stream_round_trip_at_chunk_boundaries(length: int) -> None:
    ring = keyring("k1")
    data = os.urandom(length)

    sealed = await sealed_bytes(ring, data, chunk_size=256)

    assert await open_bytes(ring, sealed) == data


async def test_large_stream_in_odd_chunks_round_trips() -> None:
    ring = keyring("k1")
    data = os.urandom(10 * 1024 * 1024 + 12345)

    sealed_pieces = [
        piece async for piece in encrypt_stream(ring, feed(split_odd(data)), associated_data=AD)
    ]
    sealed = b"".join(sealed_pieces)
    opened = decrypt_stream(
        ring, feed(split_odd(sealed, (3, 65_551, 1, 999_999))), associated_data=AD
    )
    plaintext_pieces = [piece async for piece in opened]

    assert b"".join(plaintext_pieces) == data
    # Streamed, not produced in one piece at the end.
    assert max(len(piece) for piece in sealed_pieces) <= DEFAULT_CHUNK_SIZE + 16
    assert max(len(piece) for piece in plaintext_pieces) <= 999_999 + DEFAULT_CHUNK_SIZE


async def test_stream_opener_fed_byte_by_byte_returns_each_record_once() -> None:
    ring = keyring("k1")
    data = os.urandom(3 * 256 + 100)
    sealed = await sealed_bytes(ring, data, chunk_size=256)
    opener = StreamOpener(ring, associated_data=AD)

    records = [
        record for index in range(len(sealed)) for record in opener.feed(sealed[index : index + 1])
    ]

    assert [len(record) for record in records] == [256, 256, 256]
    assert b"".join(records) + opener.finish() == data


async def test_stream_opener_reading_what_it_misses_feeds_whole_records() -> None:
    ring = keyring("k1")
    data = os.urandom(4 * 256)
    sealed = await sealed_bytes(ring, data, chunk_size=256)
    opener = StreamOpener(ring, associated_data=AD)
    position = 0
    while opener.record_size is None:
        wanted = opener.missing
        assert opener.feed(sealed[position : position + wanted]) == []
        position += wanted
    record_size = opener.record_size

    opened = opener.feed(sealed[position : position + 2 * record_size])

    assert record_size == 256 + 16
    assert position == header_size("k1")
    assert opened == [data[:256], data[256:512]]
    assert opener.missing == 0


async def test_stream_opener_keeps_nothing_of_a_fed_buffer_the_caller_reuses() -> None:
    ring = keyring("k1")
    data = os.urandom(5 * 256 + 9)
    sealed = await sealed_bytes(ring, data, chunk_size=256)
    opener = StreamOpener(ring, associated_data=AD)
    buffer = bytearray(300)
    opened: list[bytes] = []

    for start in range(0, len(sealed), len(buffer)):
        piece = sealed[start : start + len(buffer)]
        buffer[: len(piece)] = piece
        opened += opener.feed(memoryview(buffer)[: len(piece)])
        buffer[:] = bytes(len(buffer))  # overwritten before the next read, as a reader does

    assert b"".join(opened) + opener.finish() == data


async def test_stream_opener_finish_before_the_final_record_raises_truncated() -> None:
    ring = keyring("k1")
    sealed = await sealed_bytes(ring, os.urandom(512), chunk_size=256)
    opener = StreamOpener(ring, associated_data=AD)

    opened = opener.feed(sealed[:-16])

    assert len(opened) == 2
    with pytest.raises(DecryptionError, match="truncated"):
        opener.finish()


async def test_stream_with_other_associated_data_raises_decryption_error() -> None:
    ring = keyring("k1")
    sealed = await sealed_bytes(ring, b"document bytes")

    with pytest.raises(DecryptionError):
        await open_bytes(ring, sealed, associated_data=b"other-blob")


async def test_stream_with_flipped_body_byte_raises_decryption_error() -> None:
    ring = keyring("k1")
    sealed = bytearray(await sealed_bytes(ring, os.urandom(1000), chunk_size=256))
    sealed[header_size("k1") + 300] ^= 0x01

    with pytest.raises(DecryptionError, match="record 2"):
        await open_bytes(ring, bytes(sealed))


async def test_stream_with_edited_header_raises_decryption_error() -> None:
    ring = keyring("k1")
    sealed = bytearray(await sealed_bytes(ring, os.urandom(600), chunk_size=256))
    sealed[header_size("k1") - 1] ^= 0x01  # last byte of the nonce prefix

    with pytest.raises(DecryptionError):
        await open_bytes(ring, bytes(sealed))


async def test_stream_truncated_at_record_boundary_raises_decryption_error() -> None:
    ring = keyring("k1")
    sealed = await sealed_bytes(ring, os.urandom(1000), chunk_size=256)
    record = 256 + 16

    with pytest.raises(DecryptionError, match="truncated"):
        await open_bytes(ring, sealed[: header_size("k1") + 2 * record])


async def test_stream_truncated_inside_final_record_raises_decryption_error() -> None:
    ring = keyring("k1")
    sealed = await sealed_bytes(ring, os.urandom(1000), chunk_size=256)

    with pytest.raises(DecryptionError):
        await open_bytes(ring, sealed[:-1])


async def test_stream_truncated_inside_header_raises_decryption_error() -> None:
    ring = keyring("k1")
    sealed = await sealed_bytes(ring, b"data")

    with pytest.raises(DecryptionError, match="header"):
        await open_bytes(ring, sealed[:10])


async def test_stream_with_reordered_records_raises_decryption_error() -> None:
    ring = keyring("k1")
    sealed = await sealed_bytes(ring, os.urandom(1000), chunk_size=256)
    start = header_size("k1")
    record = 256 + 16
    first, second = sealed[start : start + record], sealed[start + record : start + 2 * record]
    swapped = sealed[:start] + second + first + sealed[start + 2 * record :]

    with pytest.raises(DecryptionError, match="record 1"):
        await open_bytes(ring, swapped)


async def test_stream_with_appended_bytes_raises_decryption_error() -> None:
    ring = keyring("k1")
    sealed = await sealed_bytes(ring, os.urandom(1000), chunk_size=256)

    with pytest.raises(DecryptionError):
        await open_bytes(ring, sealed + b"\x00")


async def test_stream_with_appended_record_from_other_stream_raises_decryption_error() -> None:
    ring = keyring("k1")
    data = os.urandom(512)
    # 512 bytes at chunk size 256: two full records and an empty final one.
    sealed = await sealed_bytes(ring, data, chunk_size=256)
    other = await sealed_bytes(ring, os.urandom(100), chunk_size=256)

    with pytest.raises(DecryptionError):
        await open_bytes(ring, sealed + other[header_size("k1") :])


async def test_stream_with_final_record_dropped_after_full_records_raises() -> None:
    ring = keyring("k1")
    sealed = await sealed_bytes(ring, os.urandom(512), chunk_size=256)

    # The empty final record is 16 bytes (the tag alone).
    with pytest.raises(DecryptionError, match="truncated"):
        await open_bytes(ring, sealed[:-16])


async def test_non_stream_input_raises_decryption_error() -> None:
    with pytest.raises(DecryptionError, match="not an encrypted stream"):
        await open_bytes(keyring("k1"), b"%PDF-1.7 plain file, not encrypted at all")


async def test_stream_header_with_huge_chunk_size_is_refused_before_buffering() -> None:
    ring = keyring("k1")
    sealed = bytearray(await sealed_bytes(ring, b"data"))
    struct.pack_into(">I", sealed, 6 + 2, 0xFFFFFFFF)

    with pytest.raises(DecryptionError, match="chunk size"):
        await open_bytes(ring, bytes(sealed))


async def test_stream_from_old_active_key_decrypts_after_rotation() -> None:
    data = os.urandom(5000)
    sealed = await sealed_bytes(keyring("old", "new", active="old"), data)
    after = keyring("old", "new", active="new")

    assert await open_bytes(after, sealed) == data


async def test_stream_under_removed_key_raises_unknown_encryption_key() -> None:
    sealed = await sealed_bytes(keyring("old"), b"data")

    with pytest.raises(UnknownEncryptionKey, match="'old'"):
        await open_bytes(keyring("new"), sealed)


async def test_encrypt_stream_rejects_out_of_range_chunk_size() -> None:
    with pytest.raises(ValueError, match="chunk_size"):
        await sealed_bytes(keyring("k1"), b"data", chunk_size=0)
