"""The status call's read: one primary-key lookup, kept off the ORM's path.

Status is the call clients poll, and the general path costs several times the query itself.
On the embedded SQLite default, aiosqlite runs every statement on a worker thread, and on a
small machine the hand-offs between that thread and the event loop cost more than the
query: a primary-key read from a WAL-mode SQLite file takes tens of microseconds, so this does
it inline, on a read-only connection of its own. On PostgreSQL, SQLAlchemy's pool (a ping on
every checkout) and its async adaptation cost about three times a bare asyncpg round trip, so
this reads through a small asyncpg pool of its own, with a prepared statement. Any other
database reads through the engine, in autocommit.
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg
from sqlalchemy import bindparam, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from digilocker_gateway.db.engine import postgres_connect_args
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
        found = await reader.read(request_id=request_id, product_instance_id=instance.id)
    else:
        found = await _read_autocommit(runtime, request_id, instance.id)
    if found is None or found.valid_upto <= now:
        raise RequestNotFound()
    return found


# The one definition of the read; the fast readers run it as plain SQL compiled from this.
_STATUS_QUERY = select(
    DigilockerRequest.id,
    DigilockerRequest.status,
    DigilockerRequest.valid_upto,
    DigilockerRequest.digilocker_id,
    DigilockerRequest.email,
    DigilockerRequest.phone_number,
).where(
    DigilockerRequest.id == bindparam("request_id"),
    DigilockerRequest.product_instance_id == bindparam("product_instance_id"),
)


def _positional_sql(dialect: Dialect) -> str:
    """_STATUS_QUERY in one dialect's SQL, taking (request_id, product_instance_id) in order."""
    compiled = _STATUS_QUERY.compile(dialect=dialect)
    if list(compiled.positiontup or ()) != ["request_id", "product_instance_id"]:
        raise RuntimeError(f"unexpected parameter order {compiled.positiontup}")
    return str(compiled)


async def _read_autocommit(
    runtime: Runtime, request_id: str, product_instance_id: str
) -> StatusRow | None:
    """One statement, no transaction around it (no BEGIN / ROLLBACK round trips): a single
    primary-key read is consistent on its own."""
    async with runtime.engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        found = (
            await autocommit.execute(
                _STATUS_QUERY,
                {"request_id": request_id, "product_instance_id": product_instance_id},
            )
        ).first()
    if found is None:
        return None
    return StatusRow(found[0], found[1], found[2], found[3], found[4], found[5])


def _utc(text: str) -> datetime:
    # SQLAlchemy stores UTC as naive "YYYY-MM-DD HH:MM:SS.ffffff" in SQLite (db/base.py).
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


_SQLITE_STATUS_SQL = _positional_sql(sqlite.dialect(paramstyle="qmark"))


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

    async def read(self, *, request_id: str, product_instance_id: str) -> StatusRow | None:
        found = (
            self._connect()
            .execute(_SQLITE_STATUS_SQL, (request_id, product_instance_id))
            .fetchone()
        )
        if found is None:
            return None
        return StatusRow(found[0], found[1], _utc(found[2]), found[3], found[4], found[5])

    async def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


STATUS_APPLICATION_NAME = "digilocker-gateway status"
# A connection the server or a proxy closed (restart, failover, idle timeout): the read is
# retried once on a fresh connection, as the engine's pre-ping would have done. A connection
# whose close arrives mid-query fails with InternalClientError ("another operation is in
# progress") rather than a connection error, so that is retried too; it is only a read.
_RECONNECTABLE = (
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.InternalClientError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CannotConnectNowError,
    ConnectionError,
)


class PostgresStatusReader:
    """Status reads on a small asyncpg pool beside the engine's, opened on first use, with the
    engine's own connection settings (host, credentials, TLS, options in the URL, search_path).
    Waiting for a free connection is bounded like the engine's pool (DLG_DATABASE_POOL_TIMEOUT_
    SECONDS); a wait that runs out is an unexpected error, answered 500 with a traceId."""

    def __init__(
        self, connect_kwargs: dict[str, Any], *, sql: str, max_size: int, timeout: float
    ) -> None:
        self._sql = sql
        # Options the URL sets (say ?command_timeout=60) win over these defaults.
        self._pool_kwargs = {"timeout": timeout, "command_timeout": timeout, **connect_kwargs}
        self._max_size = max_size
        self._timeout = timeout
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()
        self._closed = False

    @classmethod
    def for_engine(
        cls, engine: AsyncEngine, *, schema: str | None, max_size: int, timeout: float
    ) -> PostgresStatusReader | None:
        if engine.dialect.driver != "asyncpg":
            return None
        _args, params = engine.dialect.create_connect_args(engine.url)
        connect = dict(params)
        # SQLAlchemy's adapter consumes these itself (asyncpg would send them to the server as
        # settings). A statement cache of 0 is how one runs behind PgBouncer in transaction
        # mode, so it carries over as asyncpg's own option.
        connect.pop("prepared_statement_name_func", None)
        cache_size = connect.pop("prepared_statement_cache_size", None)
        if cache_size is not None:
            connect["statement_cache_size"] = int(cache_size)
        connect.update(postgres_connect_args(schema))
        # Named, so operators can tell these connections apart in pg_stat_activity.
        connect["server_settings"] = {
            **connect.get("server_settings", {}),
            "application_name": STATUS_APPLICATION_NAME,
        }
        return cls(connect, sql=_positional_sql(engine.dialect), max_size=max_size, timeout=timeout)

    async def _get_pool(self) -> asyncpg.Pool:
        if self._pool is None:
            async with self._opening:
                if self._closed:
                    raise RuntimeError("the status reader is closed")
                if self._pool is None:
                    self._pool = await asyncpg.create_pool(
                        min_size=1, max_size=self._max_size, **self._pool_kwargs
                    )
        return self._pool

    async def _fetch(self, request_id: str, product_instance_id: str) -> Any:
        pool = await self._get_pool()
        async with pool.acquire(timeout=self._timeout) as connection:
            return await connection.fetchrow(self._sql, request_id, product_instance_id)

    async def read(self, *, request_id: str, product_instance_id: str) -> StatusRow | None:
        try:
            found = await self._fetch(request_id, product_instance_id)
        except _RECONNECTABLE:
            found = await self._fetch(request_id, product_instance_id)
        if found is None:
            return None
        valid_upto = found[2]
        if valid_upto.tzinfo is None:
            valid_upto = valid_upto.replace(tzinfo=UTC)
        return StatusRow(found[0], found[1], valid_upto, found[3], found[4], found[5])

    async def close(self) -> None:
        async with self._opening:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()


StatusReader = SqliteStatusReader | PostgresStatusReader


def build_status_reader(
    engine: AsyncEngine, url: str, *, schema: str | None, max_size: int, timeout: float
) -> StatusReader | None:
    """The fast reader for this database, or None to read through the engine."""
    return SqliteStatusReader.for_url(url) or PostgresStatusReader.for_engine(
        engine, schema=schema, max_size=max_size, timeout=timeout
    )
