"""SQLite for the one async engine, without a thread hop per statement.

SQLAlchemy's aiosqlite dialect speaks to an aiosqlite connection, which runs every call
(cursor, execute, fetch, close, commit) on a worker thread of its own. On a small machine one
hop between the event loop and that thread costs about 160 µs of CPU, and an ordinary call
makes ten or more of them, while the statements themselves take microseconds: a primary-key
read from a WAL-mode file is far cheaper than the hops around it.

So the engine keeps SQLAlchemy's aiosqlite dialect and its async adaptation, and is given this
module in place of aiosqlite (`create_async_engine(module=…)`): a connection with aiosqlite's
interface whose statements run on the event loop itself. What could stall the loop is kept off
it:

- Waiting for a lock. The connection's busy timeout is 0, so a statement that meets another
  connection's write lock fails at once with SQLITE_BUSY; it is retried after an asynchronous
  sleep (the other coroutine can then commit), up to `busy_timeout_seconds`.
- Disk syncs. A commit that has something to commit (and may fsync the WAL, or checkpoint)
  runs on a worker thread: one hop per writing transaction. Read-only transactions, rollbacks
  and statements stay on the loop.

Every call of the gateway goes through this, on the one engine and session layer
(docs/architecture.md §3); there is no second data path.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_dbapi

T = TypeVar("T")

# sqlite3's result codes (https://www.sqlite.org/rescode.html): a lock held by another
# connection, and a read snapshot that a write cannot upgrade (retrying cannot help that one).
SQLITE_BUSY = 5
SQLITE_LOCKED = 6
SQLITE_BUSY_SNAPSHOT = 517
_FIRST_PAUSE = 0.001
_LONGEST_PAUSE = 0.05

# aiosqlite's names, which SQLAlchemy's adaptation reads off the module it is given.
DatabaseError = sqlite3.DatabaseError
Error = sqlite3.Error
IntegrityError = sqlite3.IntegrityError
NotSupportedError = sqlite3.NotSupportedError
OperationalError = sqlite3.OperationalError
ProgrammingError = sqlite3.ProgrammingError
sqlite_version = sqlite3.sqlite_version
sqlite_version_info = sqlite3.sqlite_version_info


def _is_busy(error: sqlite3.OperationalError) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    return code in (SQLITE_BUSY, SQLITE_LOCKED)


async def _when_unlocked(run: Callable[[], T], budget_seconds: float) -> T:
    """`run()` now, or again after short asynchronous pauses while the database is locked."""
    deadline = time.monotonic() + budget_seconds
    pause = _FIRST_PAUSE
    while True:
        try:
            return run()
        except sqlite3.OperationalError as error:
            if not _is_busy(error) or time.monotonic() + pause > deadline:
                raise
        await asyncio.sleep(pause)
        pause = min(pause * 2, _LONGEST_PAUSE)


class Cursor:
    """aiosqlite's Cursor interface over a sqlite3 cursor, run on the calling thread."""

    __slots__ = ("_budget", "_cursor")

    def __init__(self, cursor: sqlite3.Cursor, budget_seconds: float) -> None:
        self._cursor = cursor
        self._budget = budget_seconds

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> Cursor:
        cursor = self._cursor
        if parameters is None:
            await _when_unlocked(lambda: cursor.execute(sql), self._budget)
        else:
            await _when_unlocked(lambda: cursor.execute(sql, parameters), self._budget)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> Cursor:
        rows = list(parameters)  # a retry must see the same rows
        await _when_unlocked(lambda: self._cursor.executemany(sql, rows), self._budget)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        if size is None:
            return self._cursor.fetchmany()
        return self._cursor.fetchmany(size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    def __aiter__(self) -> Cursor:
        return self

    async def __anext__(self) -> Any:
        row = self._cursor.fetchone()
        if row is None:
            raise StopAsyncIteration
        return row

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class _Inline:
    """Stands in for aiosqlite's queue to its worker thread, which SQLAlchemy's adaptation
    uses directly to set the isolation level: the function runs at once."""

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as error:
            future.set_exception(error)


class Connection:
    """aiosqlite's Connection interface over a sqlite3 connection: statements on the event
    loop, commits that write on a worker thread (see the module docstring)."""

    def __init__(self, connection: sqlite3.Connection, budget_seconds: float) -> None:
        self._connection: sqlite3.Connection | None = connection
        self._budget = budget_seconds
        self._tx = _Inline()

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._connection is None:
            raise ValueError("no active connection")
        return self._connection

    def cursor(self) -> Cursor:
        return Cursor(self._conn.cursor(), self._budget)

    async def commit(self) -> None:
        connection = self._conn
        if not connection.in_transaction:
            return  # nothing written: no disk work to keep off the loop
        await asyncio.to_thread(connection.commit)

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def stop(self) -> None:
        """Close at once (SQLAlchemy's terminate)."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction


class InlineModule:
    """What SQLAlchemy's aiosqlite adaptation reads off the aiosqlite module: its errors and
    versions (connections come from `connect`, given to the engine as its `async_creator`)."""

    Connection = Connection
    DatabaseError = DatabaseError
    Error = Error
    IntegrityError = IntegrityError
    NotSupportedError = NotSupportedError
    OperationalError = OperationalError
    ProgrammingError = ProgrammingError
    sqlite_version = sqlite_version
    sqlite_version_info = sqlite_version_info


async def connect(database: str, *, busy_timeout_seconds: float) -> Connection:
    # Lock waits happen in _when_unlocked, asynchronously, never inside sqlite3 (timeout 0).
    # A connection is used only by the coroutine that checked it out, but its commits run on
    # a worker thread: hence check_same_thread off.
    _create_owner_only(database)
    connection = sqlite3.connect(
        database, timeout=0, check_same_thread=False, cached_statements=256
    )
    return Connection(connection, busy_timeout_seconds)


def _create_owner_only(database: str) -> None:
    """Create the database file 0600 before SQLite does (SQLite would honour the umask): it
    holds tokens and personal data, and SQLite gives its -wal and -shm files the same mode."""
    if database.startswith("file:"):
        return  # a URI names its own mode and options
    try:
        descriptor = os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    try:
        os.fchmod(descriptor, 0o600)  # the mode given to open() is masked by the umask
    finally:
        os.close(descriptor)


def inline_engine_arguments(database: str, *, busy_timeout_seconds: float) -> dict[str, Any]:
    """`create_async_engine` arguments that put a sqlite+aiosqlite engine on this module."""

    async def creator() -> Connection:
        return await connect(database, busy_timeout_seconds=busy_timeout_seconds)

    module: Any = InlineModule()
    return {"module": AsyncAdapt_aiosqlite_dbapi(module, sqlite3), "async_creator": creator}
