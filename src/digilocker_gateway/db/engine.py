"""The one engine and session factory, built from `Settings` by `engine_for` — for `serve`,
every CLI command and the tests alike — in the app's lifespan or a command's runtime (never
module-global)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import AsyncAdaptedQueuePool

if TYPE_CHECKING:
    from digilocker_gateway.config import Settings


def engine_for(settings: Settings) -> AsyncEngine:
    """The engine `settings` describe: URL, PostgreSQL schema, pool size and timeout."""
    return build_engine(
        settings.effective_database_url,
        pool_size=settings.database_pool_size,
        pool_timeout=settings.database_pool_timeout_seconds,
        schema=settings.database_schema,
    )


def build_engine(
    url: str,
    *,
    pool_size: int = 10,
    pool_timeout: float = 10.0,
    schema: str | None = None,
) -> AsyncEngine:
    # A pool big enough for the usual concurrency: opening a connection is expensive (a TLS
    # handshake for PostgreSQL, a new thread for aiosqlite), so churn costs more than idling.
    kwargs: dict[str, Any] = {
        # Bound parameters are tokens and personal data: keep them out of error messages.
        "hide_parameters": True,
        "poolclass": AsyncAdaptedQueuePool,
        "pool_size": pool_size,
        "max_overflow": max(pool_size // 2, 1),
        "pool_timeout": pool_timeout,
    }
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
        kwargs["connect_args"] = postgres_connect_args(schema)
    engine = create_async_engine(url, **kwargs)
    if url.startswith("sqlite"):

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # Foreign keys are off by default in SQLite; WAL lets readers run beside one writer.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

    return engine


def postgres_connect_args(schema: str | None) -> dict[str, Any]:
    """asyncpg connect arguments every PostgreSQL connection of the gateway shares."""
    return {"server_settings": {"search_path": schema}} if schema else {}


def build_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
