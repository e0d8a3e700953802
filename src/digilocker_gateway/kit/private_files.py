"""Files and folders only their owner can read: the data directory, SQLite's files and stored
blobs hold tokens and personal data, so they are made 0700 / 0600 whatever the umask is."""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO, Final

PRIVATE_DIRECTORY_MODE: Final = 0o700
PRIVATE_FILE_MODE: Final = 0o600


def private_directory(path: Path) -> Path:
    """Create `path` (and missing parents) owner-only. Folders that already exist keep their
    mode: an operator may have chosen a shared parent on purpose; only ones made here are set."""
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_DIRECTORY_MODE)
        except FileExistsError:
            continue  # another process made it at the same moment
        # mkdir's mode is masked by the umask; chmod is not.
        os.chmod(folder, PRIVATE_DIRECTORY_MODE)
    return path


def create_private_file(path: Path) -> BinaryIO:
    """Open a new file for writing, owner-only from its first byte; fails if it exists."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(descriptor, PRIVATE_FILE_MODE)
        return os.fdopen(descriptor, "wb")
    except BaseException:
        os.close(descriptor)
        raise


def touch_private_file(path: Path) -> bool:
    """Make sure `path` exists, creating it empty and owner-only if not; True if created.
    SQLite gives its -wal and -shm files the database file's mode, so creating the database
    file this way before SQLite opens it keeps all three private."""
    try:
        create_private_file(path).close()
    except FileExistsError:
        return False
    return True
