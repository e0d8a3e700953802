"""The one engine and session factory, built from `Settings` by `engine_for` — for `serve`,
every CLI command and the tests alike — in the app's lifespan or a command's runtime (never
module-global)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import AsyncAdaptedQueuePool

from digilocker_gateway.db.sqlite import inline_engine_arguments

if TYPE_CHECKING:
    from digilocker_gateway.config import Settings


def engine_for(settings: Settings) -> AsyncEngine:
    """The engine `settings` describe: URL, PostgreSQL schema, pool size and timeout, SQLite's
    durability."""
    return build_engine(
        settings.effective_database_url,
        pool_size=settings.database_pool_size,
        pool_timeout=settings.database_pool_timeout_seconds,
        pool_pre_ping=settings.database_pool_pre_ping,
        schema=settings.database_schema,
        sqlite_synchronous=settings.sqlite_synchronous,
    )


# PostgreSQL connections older than this are closed and replaced when next checked in.
POSTGRES_POOL_RECYCLE_SECONDS = 300

# How long a SQLite statement waits for another connection's write lock before failing.
SQLITE_BUSY_TIMEOUT_SECONDS = 30.0


def build_engine(
    url: str,
    *,
    pool_size: int = 10,
    pool_timeout: float = 10.0,
    pool_pre_ping: bool = False,
    schema: str | None = None,
    sqlite_synchronous: str = "full",
) -> AsyncEngine:
    # A pool big enough for the usual concurrency: opening a connection is expensive (a TLS
    # handshake for PostgreSQL), so churn costs more than idling.
    kwargs: dict[str, Any] = {
        # Bound parameters are tokens and personal data: keep them out of error messages.
        "hide_parameters": True,
        "poolclass": AsyncAdaptedQueuePool,
        "pool_size": pool_size,
        "max_overflow": max(pool_size // 2, 1),
        "pool_timeout": pool_timeout,
    }
    parsed = make_url(url)
    sqlite = parsed.get_backend_name() == "sqlite"
    if sqlite:
        database = parsed.database or ""
        if parsed.get_driver_name() != "aiosqlite" or database in ("", ":memory:"):
            raise ValueError("SQLite needs a sqlite+aiosqlite:///path/to/file.db URL")
        inline = inline_engine_arguments(database, busy_timeout_seconds=SQLITE_BUSY_TIMEOUT_SECONDS)
        kwargs.update(inline)
    else:
        # No ping before every checkout (a round trip each time): a connection the server or a
        # proxy closed fails its call once, and SQLAlchemy then replaces the whole pool.
        # Connections are recycled before common idle timeouts close them.
        kwargs["pool_pre_ping"] = pool_pre_ping
        kwargs["pool_recycle"] = POSTGRES_POOL_RECYCLE_SECONDS
        kwargs["connect_args"] = postgres_connect_args(schema)
    engine = create_async_engine(url, **kwargs)
    if sqlite:
        if sqlite_synchronous not in ("full", "normal"):
            raise ValueError("sqlite_synchronous is 'full' or 'normal'")

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # Foreign keys are off by default in SQLite; WAL lets readers run beside one writer;
            # the durability of a commit is the operator's choice (docs/deployment.md).
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={sqlite_synchronous.upper()}")
            cursor.close()

    return engine


def postgres_connect_args(schema: str | None) -> dict[str, Any]:
    """asyncpg connect arguments every PostgreSQL connection of the gateway shares."""
    return {"server_settings": {"search_path": schema}} if schema else {}


def count_statements(
    engine: AsyncEngine, *, statement: Callable[[], None], commit: Callable[[], None]
) -> None:
    """Call `statement` before every SQL statement the engine sends and `commit` at every
    commit (settings.database_statement_metrics; bench/journey_cost.py). Only attached when
    asked for: an engine without it pays nothing."""

    def _statement(*_args: Any, **_kwargs: Any) -> None:
        statement()

    def _commit(*_args: Any, **_kwargs: Any) -> None:
        commit()

    event.listen(engine.sync_engine, "before_cursor_execute", _statement)
    event.listen(engine.sync_engine, "commit", _commit)


def build_sessionmaker(
    engine: AsyncEngine, *, autocommit: bool = False
) -> async_sessionmaker[AsyncSession]:
    """Sessions on `engine`; with `autocommit`, for reads that need no transaction.

    On PostgreSQL those run in AUTOCOMMIT, which spares the BEGIN and COMMIT round trips. On
    SQLite the connection is left as it is: sqlite3 opens a transaction only before a write, so
    reads already run in autocommit there, and switching the isolation level at every checkout
    and back at every return would cost more than the reads."""
    bind = engine
    if autocommit and engine.dialect.name != "sqlite":
        bind = engine.execution_options(isolation_level="AUTOCOMMIT")
    return async_sessionmaker(bind, expire_on_commit=False)
