"""The local blob store: round trips, key validation, atomic writes, readiness."""

from __future__ import annotations

import asyncio
import base64
import errno
import os
import threading
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from digilocker_gateway.storage.blobs import (
    BlobNotFound,
    BlobStore,
    BlobStoreUnavailable,
    InvalidBlobKey,
    LocalBlobStore,
    validate_blob_key,
)
from digilocker_gateway.storage.encryption import DEFAULT_CHUNK_SIZE, DecryptionError
from digilocker_gateway.storage.keys import Keyring

KEY = "requests/6f1c2a9e-synthetic/0a1b2c3d"


def keyring(key_id: str = "k1", seed: int = 1) -> Keyring:
    return Keyring.parse(f"{key_id}:{base64.b64encode(bytes([seed]) * 32).decode()}", None)


def make_store(root: Path, ring: Keyring | None = None) -> LocalBlobStore:
    return LocalBlobStore(root, ring or keyring())


async def feed(pieces: Iterable[bytes]) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece


async def read_all(store: BlobStore, key: str) -> bytes:
    return b"".join([chunk async for chunk in await store.open(key)])


def stored_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


async def test_put_then_open_returns_same_bytes_and_info(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    data = b"%PDF-1.7 synthetic document " + os.urandom(5000)

    info = await store.put(KEY, feed([data[:7], data[7:]]), content_type="application/pdf")

    assert (info.key, info.size, info.content_type) == (KEY, len(data), "application/pdf")
    assert await read_all(store, KEY) == data


async def test_large_blob_in_odd_chunks_round_trips(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    data = os.urandom(10 * 1024 * 1024 + 777)
    pieces = [data[i : i + 99_991] for i in range(0, len(data), 99_991)]

    info = await store.put(KEY, feed(pieces), content_type="application/xml")

    assert info.size == len(data)
    assert await read_all(store, KEY) == data


async def test_stored_file_is_encrypted_and_not_named_after_key(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    data = b"<Certificate>synthetic e-Aadhaar 999999990019</Certificate>" * 50

    await store.put(KEY, feed([data]), content_type="application/xml")

    (path,) = stored_files(tmp_path)
    raw = path.read_bytes()
    assert b"999999990019" not in raw
    assert b"synthetic" not in raw
    assert "requests" not in str(path.relative_to(tmp_path))
    assert path == store.path_for(KEY)
    assert path.parent.parent.parent == tmp_path


async def test_empty_blob_round_trips(tmp_path: Path) -> None:
    store = make_store(tmp_path)

    info = await store.put(KEY, feed([]), content_type="application/pdf")

    assert info.size == 0
    assert await read_all(store, KEY) == b""


async def test_put_over_existing_key_replaces_blob(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    await store.put(KEY, feed([b"first version"]), content_type="application/pdf")

    await store.put(KEY, feed([b"second"]), content_type="application/xml")

    assert await read_all(store, KEY) == b"second"
    assert len(stored_files(tmp_path)) == 1


async def test_open_missing_key_raises_blob_not_found(tmp_path: Path) -> None:
    store = make_store(tmp_path)

    with pytest.raises(BlobNotFound) as caught:
        await store.open("requests/none/missing")

    assert caught.value.key == "requests/none/missing"


async def test_delete_removes_blob_and_is_idempotent(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    await store.put(KEY, feed([b"data"]), content_type="application/pdf")
    assert await store.exists(KEY) is True

    await store.delete(KEY)
    await store.delete(KEY)

    assert await store.exists(KEY) is False
    assert stored_files(tmp_path) == []
    with pytest.raises(BlobNotFound):
        await store.open(KEY)


async def test_blob_deleted_after_open_raises_blob_not_found_on_read(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    await store.put(KEY, feed([b"data"]), content_type="application/pdf")
    chunks = await store.open(KEY)

    await store.delete(KEY)

    with pytest.raises(BlobNotFound):
        await anext(chunks)


async def test_failing_source_leaves_no_blob_and_no_temporary_file(tmp_path: Path) -> None:
    store = make_store(tmp_path)

    async def failing() -> AsyncIterator[bytes]:
        yield os.urandom(2 * 1024 * 1024)  # past the first write batch
        raise ConnectionError("upstream dropped mid-download")

    with pytest.raises(ConnectionError, match="mid-download"):
        await store.put(KEY, failing(), content_type="application/pdf")

    assert await store.exists(KEY) is False
    assert stored_files(tmp_path) == []


async def test_failing_replacement_keeps_previous_blob_intact(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    await store.put(KEY, feed([b"complete original"]), content_type="application/pdf")

    async def failing() -> AsyncIterator[bytes]:
        yield b"partial"
        raise ConnectionError("dropped")

    with pytest.raises(ConnectionError):
        await store.put(KEY, failing(), content_type="application/pdf")

    assert await read_all(store, KEY) == b"complete original"
    assert len(stored_files(tmp_path)) == 1


async def test_blob_moved_to_other_key_fails_to_decrypt(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    other = "requests/other/blob"
    await store.put(KEY, feed([b"user A's document"]), content_type="application/pdf")
    await store.put(other, feed([b"user B's document"]), content_type="application/pdf")

    store.path_for(KEY).replace(store.path_for(other))

    with pytest.raises(DecryptionError):
        await read_all(store, other)


async def test_truncated_blob_hands_out_whole_records_then_raises_decryption_error(
    tmp_path: Path,
) -> None:
    store = make_store(tmp_path)
    data = os.urandom(3 * DEFAULT_CHUNK_SIZE)  # three full records and an empty final one
    await store.put(KEY, feed([data]), content_type="application/pdf")
    path = store.path_for(KEY)
    path.write_bytes(path.read_bytes()[:-16])  # the final record (its tag alone) cut off

    chunks = await store.open(KEY)
    received = bytearray()

    async def drain() -> None:
        async for chunk in chunks:
            received.extend(chunk)

    with pytest.raises(DecryptionError, match="truncated"):
        await drain()
    # What was handed out before the end was authenticated, record by record.
    assert bytes(received) == data


@pytest.mark.skipif(not hasattr(os, "RWF_NOWAIT"), reason="reads always wait here")
async def test_blob_not_in_page_cache_is_read_in_worker_thread_and_round_trips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = make_store(tmp_path)
    data = os.urandom(700_001)
    await store.put(KEY, feed([data]), content_type="application/pdf")
    real_preadv = os.preadv
    loop_thread = threading.get_ident()
    blocking_reads: list[bool] = []

    def uncached_preadv(fd: int, buffers: list[memoryview], offset: int, flags: int = 0) -> int:
        if flags:
            raise BlockingIOError(errno.EAGAIN, "would wait for the disk")
        blocking_reads.append(threading.get_ident() != loop_thread)
        return real_preadv(fd, buffers, offset)

    monkeypatch.setattr(os, "preadv", uncached_preadv)

    assert await read_all(store, KEY) == data
    assert blocking_reads
    assert all(blocking_reads)  # every read that waited ran off the event loop


@pytest.mark.skipif(not hasattr(os, "RWF_NOWAIT"), reason="reads always wait here")
async def test_filesystem_without_nowait_reads_falls_back_to_worker_thread_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = make_store(tmp_path)
    data = os.urandom(700_001)
    await store.put(KEY, feed([data]), content_type="application/pdf")
    real_preadv = os.preadv
    nowait_attempts: list[int] = []

    def unsupported_preadv(fd: int, buffers: list[memoryview], offset: int, flags: int = 0) -> int:
        if flags:
            nowait_attempts.append(offset)
            raise OSError(errno.EOPNOTSUPP, "not supported")
        return real_preadv(fd, buffers, offset)

    monkeypatch.setattr(os, "preadv", unsupported_preadv)

    assert await read_all(store, KEY) == data
    assert len(nowait_attempts) == 1


async def test_blob_written_under_old_key_reads_after_rotation(tmp_path: Path) -> None:
    old_key = base64.b64encode(b"\x01" * 32).decode()
    new_key = base64.b64encode(b"\x02" * 32).decode()
    before = make_store(tmp_path, Keyring.parse(f"old:{old_key},new:{new_key}", "old"))
    await before.put(KEY, feed([b"written before rotation"]), content_type="application/pdf")

    after = make_store(tmp_path, Keyring.parse(f"old:{old_key},new:{new_key}", "new"))

    assert await read_all(after, KEY) == b"written before rotation"


@pytest.mark.parametrize(
    "key",
    [
        "",
        "../outside",
        "requests/../../etc/passwd",
        "/etc/passwd",
        "requests/",
        "requests//blob",
        "requests/./blob",
        "requests\\blob",
        "C:/Windows",
        "reqüests/blob",
        "a" * 513,
    ],
)
async def test_unsafe_key_is_refused_by_every_operation(tmp_path: Path, key: str) -> None:
    store = make_store(tmp_path / "root")

    with pytest.raises(InvalidBlobKey):
        await store.put(key, feed([b"x"]), content_type="application/pdf")
    with pytest.raises(InvalidBlobKey):
        await store.open(key)
    with pytest.raises(InvalidBlobKey):
        await store.delete(key)
    with pytest.raises(InvalidBlobKey):
        await store.exists(key)
    assert list(tmp_path.rglob("*")) == []


@pytest.mark.parametrize("key", ["a", "requests/123e4567-e89b/abc_DEF.pdf", "x.y-z/1/2/3"])
def test_safe_key_is_accepted(key: str) -> None:
    assert validate_blob_key(key) == key


async def test_non_ascii_content_type_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="content_type"):
        await make_store(tmp_path).put(KEY, feed([b"x"]), content_type="application/pdf‑")


async def test_check_on_writable_directory_passes_and_leaves_nothing(tmp_path: Path) -> None:
    store = make_store(tmp_path / "files")

    await store.check()

    assert stored_files(tmp_path) == []


async def test_check_when_root_is_a_file_raises_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "files"
    blocker.write_bytes(b"not a directory")

    with pytest.raises(BlobStoreUnavailable):
        await make_store(blocker).check()


def temporaries(root: Path) -> list[Path]:
    return [path for path in stored_files(root) if path.name.endswith(".tmp")]


async def test_stored_files_and_folders_are_owner_only_whatever_the_umask(
    tmp_path: Path,
) -> None:
    previous = os.umask(0o000)
    try:
        store = make_store(tmp_path / "files")
        await store.put(KEY, feed([b"synthetic"]), content_type="application/pdf")
    finally:
        os.umask(previous)

    path = store.path_for(KEY)
    assert path.stat().st_mode & 0o777 == 0o600
    for folder in (path.parent, path.parent.parent, tmp_path / "files"):
        assert folder.stat().st_mode & 0o777 == 0o700


async def test_sweep_removes_a_dead_writers_temporary_and_keeps_a_live_one(
    tmp_path: Path,
) -> None:
    store = make_store(tmp_path)
    await store.put(KEY, feed([b"kept"]), content_type="application/pdf")
    folder = store.path_for(KEY).parent
    # A pid far above pid_max names no process; the test process's parent is alive.
    dead = folder / f".{'a' * 64}.99999999-{'0' * 32}.tmp"
    alive = folder / f".{'b' * 64}.{os.getppid()}-{'1' * 32}.tmp"
    dead.write_bytes(b"half a download")
    alive.write_bytes(b"still being written")

    removed = await store.sweep_incomplete(started_before=datetime.now(UTC))

    assert removed == 1
    assert not dead.exists()
    assert alive.exists()
    assert await read_all(store, KEY) == b"kept"


async def test_sweep_keeps_this_processes_write_in_progress(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    release = asyncio.Event()
    started = asyncio.Event()

    async def slow() -> AsyncIterator[bytes]:
        yield b"first part"
        started.set()
        await release.wait()
        yield b" second part"

    writing = asyncio.create_task(store.put(KEY, slow(), content_type="application/pdf"))
    await started.wait()
    await asyncio.sleep(0.05)  # let the first batch reach the temporary file
    assert len(temporaries(tmp_path)) == 1

    assert await store.sweep_incomplete(started_before=datetime.now(UTC)) == 0

    release.set()
    await writing
    assert temporaries(tmp_path) == []
    assert await read_all(store, KEY) == b"first part second part"


async def test_a_same_pid_temporary_not_being_written_is_a_leftover(tmp_path: Path) -> None:
    # Containers restart the server with the same pid: a leftover of the killed process
    # carries ours.
    store = make_store(tmp_path)
    folder = tmp_path / "ab" / "cd"
    folder.mkdir(parents=True)
    leftover = folder / f".{'c' * 64}.{os.getpid()}-{'2' * 32}.tmp"
    leftover.write_bytes(b"from the killed process")

    assert await store.sweep_incomplete(started_before=datetime.now(UTC)) == 1
    assert not leftover.exists()


async def test_stored_before_names_blobs_by_locator_and_delete_located_removes_one(
    tmp_path: Path,
) -> None:
    store = make_store(tmp_path)
    other = "requests/other-synthetic/file"
    await store.put(KEY, feed([b"one"]), content_type="application/pdf")
    await store.put(other, feed([b"two"]), content_type="application/pdf")

    future = datetime.now(UTC) + timedelta(seconds=5)
    located = sorted([locator async for locator in store.stored_before(future)])
    past = datetime.now(UTC) - timedelta(hours=1)
    assert [locator async for locator in store.stored_before(past)] == []
    assert located == sorted([store.locator(KEY), store.locator(other)])

    await store.delete_located(store.locator(other))
    assert not await store.exists(other)
    assert await store.exists(KEY)
    with pytest.raises(InvalidBlobKey):
        await store.delete_located("../../etc/passwd")
