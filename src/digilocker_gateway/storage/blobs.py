"""Blob stores: where fetched documents and Aadhaar XML live, encrypted, until their request is
purged. `BlobStore` is what the domains depend on; `LocalBlobStore` keeps blobs on local disk
(the embedded default, under `data_dir`), `S3BlobStore` (s3.py) in an S3-compatible bucket.

Blobs can be large (10 MB and more), so they are written and read as streams and never held
whole in memory.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import re
import struct
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from datetime import datetime
from io import FileIO
from pathlib import Path
from typing import BinaryIO, Final, Protocol

from digilocker_gateway.kit.private_files import create_private_file, private_directory
from digilocker_gateway.storage.encryption import StreamOpener, encrypt_stream
from digilocker_gateway.storage.keys import Keyring

MAX_KEY_LENGTH: Final = 512
_KEY_PATTERN: Final = re.compile(r"[A-Za-z0-9/_.-]+")

# Local file layout: a small plaintext header, then the encrypted stream (encryption.py).
# The size slot is written as zero and filled in once the whole stream is on disk.
_FILE_MAGIC: Final = b"DLGF"
_FILE_VERSION: Final = 1
_FILE_PREFIX: Final = struct.Struct(">4sBB")  # magic, version, content-type length
_FILE_SIZE: Final = struct.Struct(">Q")
# Ciphertext read, and plaintext handed on, at once: each open blob holds about twice this in
# memory (the read buffer and the plaintext chunk on its way out).
_READ_SIZE: Final = 256 * 1024
# Linux can say whether a read would wait for the disk (preadv2 with RWF_NOWAIT): a blob still
# in the page cache, as a file fetched moments ago nearly always is, is then read and opened on
# the event loop; one that is not is read and opened in a worker thread.
_READ_NOWAIT: Final[int | None] = getattr(os, "RWF_NOWAIT", None)
# Encrypted records are gathered into batches this big before one thread hop writes them.
_WRITE_BATCH: Final = 512 * 1024
_TEMPORARY_SUFFIX: Final = ".tmp"
_TEMPORARY_PID: Final = re.compile(r"\.(\d+)-[0-9a-f]{32}\.tmp$")
_LOCATOR_PATTERN: Final = re.compile(r"[0-9a-f]{64}")


class BlobStoreError(Exception):
    """Base of the blob store errors."""


class BlobNotFound(BlobStoreError):
    """No blob is stored under this key (never stored, deleted, or purged)."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"no blob under key {key!r}")


class InvalidBlobKey(BlobStoreError, ValueError):
    """The key is not one a blob store accepts."""


class BlobStoreUnavailable(BlobStoreError):
    """The store cannot be used (readiness check failed)."""


@dataclass(frozen=True, slots=True)
class BlobInfo:
    key: str
    size: int  # plaintext bytes
    content_type: str


class BlobStore(Protocol):
    """Encrypted blob storage. Keys are `/`-separated paths of `[A-Za-z0-9_.-]` segments."""

    async def put(self, key: str, chunks: AsyncIterator[bytes], *, content_type: str) -> BlobInfo:
        """Store the stream under `key`, replacing any blob there. Either the whole blob is
        stored or, if `chunks` fails part-way, nothing is."""
        ...

    async def open(self, key: str) -> AsyncIterator[bytes]:
        """The blob's plaintext, as chunks. Raises `BlobNotFound` here, not while iterating."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the blob; deleting a missing blob is not an error."""
        ...

    async def exists(self, key: str) -> bool: ...

    def locator(self, key: str) -> str:
        """The name `stored_before` gives the blob under `key` (stores may not keep keys)."""
        ...

    def stored_before(self, moment: datetime) -> AsyncIterator[str]:
        """Locators of every complete blob written before `moment`: the purge job compares
        them with the rows to find blobs a crash left without one."""
        ...

    async def delete_located(self, locator: str) -> None:
        """Remove the blob `stored_before` named; a missing one is not an error."""
        ...

    async def sweep_incomplete(self, *, started_before: datetime) -> int:
        """Remove writes that never finished (a process killed mid-download): those whose writer
        is known to be gone, and, where the store cannot know, those started before
        `started_before`. Returns how many were removed."""
        ...

    async def check(self) -> None:
        """Readiness: raise `BlobStoreUnavailable` if blobs cannot be stored."""
        ...

    async def presigned_url(
        self, key: str, *, expires_at: datetime, filename: str, content_type: str
    ) -> str | None:
        """A URL that downloads the blob straight from the store, without the gateway, until
        `expires_at`, served as `content_type` under `filename`; None when this store does not
        hand out such URLs (the file is then served through the gateway's own signed URL)."""
        ...


def validate_blob_key(key: str) -> str:
    """Return `key` if it is acceptable, else raise `InvalidBlobKey`.

    Keys come from our own code, but a key that escaped the store's root (`..`, an absolute
    path) would read or delete files outside it, so every store refuses them the same way."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidBlobKey(f"blob key must be 1-{MAX_KEY_LENGTH} characters")
    if _KEY_PATTERN.fullmatch(key) is None:
        raise InvalidBlobKey("blob key may only contain A-Z a-z 0-9 / _ . -")
    if key.startswith("/") or key.endswith("/"):
        raise InvalidBlobKey("blob key must not start or end with '/'")
    if ".." in key:
        raise InvalidBlobKey("blob key must not contain '..'")
    if any(segment in ("", ".") for segment in key.split("/")):
        raise InvalidBlobKey("blob key must not have empty or '.' segments")
    return key


def _encode_file_header(content_type: str) -> bytes:
    encoded = content_type.encode("ascii")
    return _FILE_PREFIX.pack(_FILE_MAGIC, _FILE_VERSION, len(encoded)) + encoded


def _read_file_header(handle: BinaryIO) -> tuple[str, int]:
    """Content type and plaintext size; leaves `handle` at the start of the encrypted stream."""
    prefix = handle.read(_FILE_PREFIX.size)
    if len(prefix) != _FILE_PREFIX.size:
        raise BlobStoreError("blob file is truncated")
    magic, version, type_length = _FILE_PREFIX.unpack(prefix)
    if magic != _FILE_MAGIC or version != _FILE_VERSION:
        raise BlobStoreError("not a blob file of a known version")
    rest = handle.read(type_length + _FILE_SIZE.size)
    if len(rest) != type_length + _FILE_SIZE.size:
        raise BlobStoreError("blob file is truncated")
    (size,) = _FILE_SIZE.unpack_from(rest, type_length)
    try:
        return rest[:type_length].decode("ascii"), size
    except UnicodeDecodeError:
        raise BlobStoreError("blob file header is corrupt") from None


class _PlaintextReader:
    """Reads a blob file and opens its records, a batch of whole records at a time, so the event
    loop sees one chunk per batch rather than one per record. `start` runs in a worker thread;
    `read` where it is called (a worker thread, or the event loop without `wait`); one call at
    a time."""

    def __init__(self, handle: FileIO, opener: StreamOpener) -> None:
        self._handle = handle
        self._opener = opener
        self._buffer = bytearray()
        self._offset = 0
        self._nowait = _READ_NOWAIT is not None
        self._done = False

    def start(self) -> None:
        """Read the file header and the stream header, the latter in small reads so that the
        batches after it are whole records."""
        _read_file_header(self._handle)
        opener = self._opener
        while (record_size := opener.record_size) is None:
            data = self._handle.read(opener.missing)
            if not data:
                opener.finish()  # raises: the stream ends inside its header
            opener.feed(data)
        self._offset = self._handle.tell()
        self._buffer = bytearray(record_size * -(-_READ_SIZE // record_size))

    def read(self, *, wait: bool) -> bytes | None:
        """The plaintext of the next batch (empty when it completed no record), or None once the
        stream has been opened to its end. Without `wait`, raises BlockingIOError rather than
        wait for the disk."""
        if self._done:
            return None
        with memoryview(self._buffer) as view:
            size = self._read_into(view, wait=wait)
            if not size:
                self._done = True
                return self._opener.finish()
            self._offset += size
            return b"".join(self._opener.feed(view[:size]))

    def _read_into(self, view: memoryview, *, wait: bool) -> int:
        if _READ_NOWAIT is None:
            if not wait:
                raise BlockingIOError
            return self._handle.readinto(view) or 0
        fd = self._handle.fileno()
        if wait:
            return os.preadv(fd, [view], self._offset)
        if not self._nowait:
            raise BlockingIOError
        try:
            return os.preadv(fd, [view], self._offset, _READ_NOWAIT)
        except BlockingIOError:
            raise
        except OSError as exc:
            if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
                raise
            self._nowait = False  # this filesystem cannot say; every read waits, in a thread
            raise BlockingIOError from None


def _subdirectories(folder: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as entries:
            return [entry for entry in entries if entry.is_dir(follow_symlinks=False)]
    except FileNotFoundError:
        return []


def _writer_alive(temporary_name: str) -> bool:
    """Whether the process that named this temporary file still runs. Local files are written
    by processes on this machine only, so a pid that is gone means the write never finishes."""
    match = _TEMPORARY_PID.search(temporary_name)
    if match is None:
        return False
    pid = int(match.group(1))
    if pid == os.getpid():
        # Ours are tracked by the store itself; this one is from an earlier process that had
        # the same pid (containers restart their server as pid 1 every time).
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, run by another user
    return True


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable. Not every platform can open a directory (Windows).
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class LocalBlobStore:
    """Blobs as files under `root`, encrypted with the keyring's active key.

    A blob's file name is the SHA-256 of its key, under two levels of subdirectories taken from
    that hash: directories stay small, nothing derived from a key can point outside `root`, and
    deleting a blob never leaves empty per-request directories behind. Each file starts with
    the content type and plaintext size, then the encrypted stream, whose associated data is the
    blob key, so a file copied or renamed to another key does not decrypt."""

    def __init__(self, root: Path, keyring: Keyring) -> None:
        self._root = root
        self._keyring = keyring
        self._writing: set[str] = set()  # this process's temporary files still being written

    @property
    def root(self) -> Path:
        return self._root

    def path_for(self, key: str) -> Path:
        digest = hashlib.sha256(validate_blob_key(key).encode("ascii")).hexdigest()
        return self._root / digest[:2] / digest[2:4] / digest

    async def put(self, key: str, chunks: AsyncIterator[bytes], *, content_type: str) -> BlobInfo:
        final_path = self.path_for(key)
        if not content_type.isascii() or not 0 < len(content_type) < 256:
            raise ValueError("content_type must be 1-255 ASCII characters")
        # The temporary file sits next to the final one so os.replace is an atomic rename on
        # the same filesystem: readers see the old blob or the whole new one, never a part.
        # Its name carries the writer's pid, so a sweep knows a dead writer's leftovers.
        temporary = final_path.with_name(
            f".{final_path.name}.{os.getpid()}-{uuid.uuid4().hex}{_TEMPORARY_SUFFIX}"
        )
        size = 0

        async def counted() -> AsyncGenerator[bytes, None]:
            nonlocal size
            async for chunk in chunks:
                size += len(chunk)
                yield chunk

        self._writing.add(temporary.name)
        try:
            handle = await asyncio.to_thread(self._create, temporary)
        except BaseException:
            self._writing.discard(temporary.name)
            raise
        try:
            header = _encode_file_header(content_type)
            batch = bytearray(header + _FILE_SIZE.pack(0))
            sealed = encrypt_stream(self._keyring, counted(), associated_data=key.encode("ascii"))
            async with aclosing(sealed):
                async for record in sealed:
                    batch += record
                    if len(batch) >= _WRITE_BATCH:
                        await asyncio.to_thread(handle.write, bytes(batch))
                        batch.clear()
            await asyncio.to_thread(
                self._finish, handle, bytes(batch), len(header), size, temporary, final_path
            )
        except BaseException:
            # Closing waits for a write still running in a worker thread (buffered files hold a
            # lock), so the descriptor is never closed under it.
            handle.close()
            temporary.unlink(missing_ok=True)
            raise
        finally:
            self._writing.discard(temporary.name)
        return BlobInfo(key=key, size=size, content_type=content_type)

    def _create(self, temporary: Path) -> BinaryIO:
        private_directory(temporary.parent)
        return create_private_file(temporary)

    @staticmethod
    def _finish(
        handle: BinaryIO,
        tail: bytes,
        size_offset: int,
        size: int,
        temporary: Path,
        final_path: Path,
    ) -> None:
        with handle:
            handle.write(tail)
            handle.seek(size_offset)
            handle.write(_FILE_SIZE.pack(size))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, final_path)
        _fsync_directory(final_path.parent)

    async def open(self, key: str) -> AsyncIterator[bytes]:
        path = self.path_for(key)
        if not await asyncio.to_thread(path.is_file):
            raise BlobNotFound(key)
        return self._plaintext(key, path)

    async def _plaintext(self, key: str, path: Path) -> AsyncGenerator[bytes, None]:
        try:
            handle = await asyncio.to_thread(path.open, "rb", buffering=0)
        except FileNotFoundError:
            # Deleted between open() and the first read.
            raise BlobNotFound(key) from None
        try:
            reader = _PlaintextReader(
                handle, StreamOpener(self._keyring, associated_data=key.encode("ascii"))
            )
            await asyncio.to_thread(reader.start)
            while True:
                try:
                    # In the page cache: read and opened here, without a thread hop, whose
                    # hand-offs cost more CPU than the read and the decryption together
                    # (bench/download_stream.py).
                    batch = reader.read(wait=False)
                except BlockingIOError:
                    batch = await asyncio.to_thread(reader.read, wait=True)
                else:
                    # A cached blob would otherwise be read to its end before any other task
                    # runs, if the consumer never waits (a socket that always has room).
                    await asyncio.sleep(0)
                if batch is None:
                    break
                if batch:
                    yield batch
        finally:
            handle.close()

    async def delete(self, key: str) -> None:
        path = self.path_for(key)
        await asyncio.to_thread(path.unlink, missing_ok=True)

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self.path_for(key).is_file)

    def locator(self, key: str) -> str:
        return self.path_for(key).name

    async def stored_before(self, moment: datetime) -> AsyncGenerator[str, None]:
        for entry in await asyncio.to_thread(self._files, moment.timestamp()):
            if not entry.name.startswith("."):
                yield entry.name

    async def delete_located(self, locator: str) -> None:
        if _LOCATOR_PATTERN.fullmatch(locator) is None:
            raise InvalidBlobKey("not a locator this store gave out")
        path = self._root / locator[:2] / locator[2:4] / locator
        await asyncio.to_thread(path.unlink, missing_ok=True)

    async def sweep_incomplete(
        self,
        *,
        started_before: datetime,  # noqa: ARG002 - a local writer's pid says whether it is gone
    ) -> int:
        def sweep() -> int:
            removed = 0
            for entry in self._files(float("inf")):
                if (
                    entry.name.endswith(_TEMPORARY_SUFFIX)
                    and entry.name not in self._writing
                    and not _writer_alive(entry.name)
                ):
                    Path(entry.path).unlink(missing_ok=True)
                    removed += 1
            return removed

        return await asyncio.to_thread(sweep)

    def _files(self, modified_before: float) -> list[os.DirEntry[str]]:
        """Files two levels under the root (the layout path_for makes), older than given."""
        found: list[os.DirEntry[str]] = []
        for level_one in _subdirectories(self._root):
            for level_two in _subdirectories(Path(level_one.path)):
                with os.scandir(level_two.path) as entries:
                    for entry in entries:
                        try:
                            if entry.is_file() and entry.stat().st_mtime < modified_before:
                                found.append(entry)
                        except FileNotFoundError:
                            continue  # renamed or deleted while we looked
        return found

    async def presigned_url(
        self,
        key: str,
        *,
        expires_at: datetime,  # noqa: ARG002 - part of the protocol
        filename: str,  # noqa: ARG002
        content_type: str,  # noqa: ARG002
    ) -> str | None:
        # Local files are only reachable through the gateway.
        validate_blob_key(key)
        return None

    async def check(self) -> None:
        def probe() -> None:
            private_directory(self._root)
            probe_path = self._root / f".ready-{uuid.uuid4().hex}"
            probe_path.write_bytes(b"ok")
            probe_path.unlink()

        try:
            await asyncio.to_thread(probe)
        except OSError as exc:
            raise BlobStoreUnavailable(
                f"blob directory {self._root} is not writable: {exc.strerror}"
            ) from None
