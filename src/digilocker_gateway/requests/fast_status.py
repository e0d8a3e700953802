"""The status call's read, without the async driver, on the embedded SQLite default.

aiosqlite runs every statement on a worker thread, and on a small machine the hand-offs
between that thread and the event loop cost more than the query itself: the status call —
the one clients poll — spent most of its time waiting for its turn on the GIL. A primary-key
read from a WAL-mode SQLite file takes tens of microseconds, so this does it inline, on a
read-only connection of its own. PostgreSQL (asyncpg, no threads) reads through the engine,
in autocommit.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.engine import make_url

from digilocker_gateway.db.models import DigilockerRequest, ProductInstance
from digilocker_gateway.errors import RequestNotFound
from digilocker_gateway.requests.service import is_uuid

if TYPE_CHECKING:
    from digilocker_gateway.runtime import Runtime


@dataclass(frozen=True, slots=True)
class StatusRow:
    id: str
    status: str
    valid_upto: datetime
    digilocker_id: str | None
    email: str | None
    phone_number: str | None


async def read_status(runtime: Runtime, *, instance: ProductInstance, request_id: str) -> StatusRow:
    """The fields the status call shows, for the caller's own unexpired request, else 404."""
    now = runtime.clock.now()
    reader = runtime.status_reader
    if not is_uuid(request_id):
        raise RequestNotFound()
    if reader is not None:
        found = reader.read(request_id=request_id, product_instance_id=instance.id)
    else:
        found = await _read_autocommit(runtime, request_id, instance.id)
    if found is None or found.valid_upto <= now:
        raise RequestNotFound()
    return found


_STATUS_COLUMNS = (
    DigilockerRequest.id,
    DigilockerRequest.status,
    DigilockerRequest.valid_upto,
    DigilockerRequest.digilocker_id,
    DigilockerRequest.email,
    DigilockerRequest.phone_number,
)


async def _read_autocommit(
    runtime: Runtime, request_id: str, product_instance_id: str
) -> StatusRow | None:
    """One statement, no transaction around it (no BEGIN / ROLLBACK round trips): a single
    primary-key read is consistent on its own."""
    async with runtime.engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        found = (
            await autocommit.execute(
                select(*_STATUS_COLUMNS).where(
                    DigilockerRequest.id == request_id,
                    DigilockerRequest.product_instance_id == product_instance_id,
                )
            )
        ).first()
    if found is None:
        return None
    return StatusRow(found[0], found[1], found[2], found[3], found[4], found[5])


def _utc(text: str) -> datetime:
    # SQLAlchemy stores UTC as naive "YYYY-MM-DD HH:MM:SS.ffffff" in SQLite (db/base.py).
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class SqliteStatusReader:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._connection: sqlite3.Connection | None = None

    @classmethod
    def for_url(cls, url: str) -> SqliteStatusReader | None:
        parsed = make_url(url)
        if not parsed.drivername.startswith("sqlite") or not parsed.database:
            return None
        if parsed.database == ":memory:":
            return None
        return cls(Path(parsed.database))

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            connection = sqlite3.connect(
                f"file:{self._path}?mode=ro", uri=True, check_same_thread=False, timeout=5
            )
            connection.execute("PRAGMA query_only=ON")
            self._connection = connection
        return self._connection

    def read(self, *, request_id: str, product_instance_id: str) -> StatusRow | None:
        found = (
            self._connect()
            .execute(
                "SELECT id, status, valid_upto, digilocker_id, email, phone_number "
                "FROM digilocker_requests WHERE id = ? AND product_instance_id = ?",
                (request_id, product_instance_id),
            )
            .fetchone()
        )
        if found is None:
            return None
        return StatusRow(found[0], found[1], _utc(found[2]), found[3], found[4], found[5])

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
