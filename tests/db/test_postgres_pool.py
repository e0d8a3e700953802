"""PostgreSQL connections the server closes: without pre-ping the calls in flight fail once
and the pool is replaced; with it (DLG_DATABASE_POOL_PRE_PING) no call fails."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from digilocker_gateway.config import Settings
from digilocker_gateway.db.engine import engine_for
from tests.support import DatabaseUnderTest


async def backend_pids(engine: AsyncEngine, count: int) -> set[int]:
    """Check out `count` connections at once, so the pool holds that many, and their pids."""
    connections = [await engine.connect() for _ in range(count)]
    try:
        return {
            (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            for connection in connections
        }
    finally:
        for connection in connections:
            await connection.close()


async def terminate(url: str, pids: set[int]) -> None:
    admin = create_async_engine(url)
    try:
        async with admin.connect() as connection:
            for pid in pids:
                await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await admin.dispose()
    await asyncio.sleep(0.2)


async def reads_after_a_server_side_close(
    database: DatabaseUnderTest, tmp_path: Path, *, pre_ping: bool
) -> list[bool]:
    settings = Settings(
        data_dir=tmp_path,
        database_url=database.url,
        database_schema=database.schema,
        database_pool_size=3,
        database_pool_pre_ping=pre_ping,
    )
    engine = engine_for(settings)
    try:
        pids = await backend_pids(engine, 3)
        assert len(pids) == 3
        await terminate(database.url, pids)
        outcomes: list[bool] = []
        for _ in range(5):
            try:
                async with engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))
                outcomes.append(True)
            except DBAPIError:
                outcomes.append(False)
        return outcomes
    finally:
        await engine.dispose()


async def test_without_pre_ping_a_closed_pool_fails_one_call_then_recovers(
    postgres_database: DatabaseUnderTest, tmp_path: Path
) -> None:
    outcomes = await reads_after_a_server_side_close(postgres_database, tmp_path, pre_ping=False)
    assert outcomes == [False, True, True, True, True]


async def test_with_pre_ping_no_call_fails(
    postgres_database: DatabaseUnderTest, tmp_path: Path
) -> None:
    outcomes = await reads_after_a_server_side_close(postgres_database, tmp_path, pre_ping=True)
    assert outcomes == [True] * 5


@pytest.mark.parametrize("pre_ping", [True, False])
def test_pre_ping_setting_reaches_the_pool(tmp_path: Path, pre_ping: bool) -> None:
    settings = Settings(
        data_dir=tmp_path,
        database_url="postgresql+asyncpg://postgres@127.0.0.1:1/unused",
        database_pool_pre_ping=pre_ping,
    )
    engine = engine_for(settings)
    assert engine.sync_engine.pool._pre_ping is pre_ping
    assert engine.sync_engine.pool._recycle == 300
