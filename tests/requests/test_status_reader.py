"""The status call's own reader on PostgreSQL: a pool of its own that survives the server
closing its connections and closes with the app. SQLite's reader is covered by every status
test on the default backend."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import asyncpg
import pytest

from digilocker_gateway.db.engine import build_engine
from digilocker_gateway.requests.fast_status import (
    STATUS_APPLICATION_NAME,
    PostgresStatusReader,
    SqliteStatusReader,
)
from tests.support import DatabaseUnderTest, Gateway, running_gateway


def postgres_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def reader_backends(url: str) -> list[int]:
    connection = await asyncpg.connect(postgres_dsn(url))
    try:
        rows = await connection.fetch(
            "SELECT pid FROM pg_stat_activity WHERE application_name = $1",
            STATUS_APPLICATION_NAME,
        )
    finally:
        await connection.close()
    return [row["pid"] for row in rows]


async def terminate(url: str, pids: list[int]) -> None:
    connection = await asyncpg.connect(postgres_dsn(url))
    try:
        for pid in pids:
            await connection.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await connection.close()


async def status_code(gateway: Gateway, request_id: str) -> int:
    response = await gateway.client.get(
        f"/api/digilocker/{request_id}/status", headers=gateway.headers
    )
    return response.status_code


async def test_each_backend_gets_its_own_reader(gateway: Gateway, backend: str) -> None:
    reader = gateway.runtime.status_reader
    expected = SqliteStatusReader if backend == "sqlite" else PostgresStatusReader
    assert isinstance(reader, expected)


postgres_only = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)


def terminate_without_yielding(url: str, pids: list[int]) -> None:
    """Close the server side of the connections while this test's event loop stands still, so
    the reader's next query meets a dead connection instead of a quietly replaced one."""
    worker = threading.Thread(target=lambda: asyncio.run(terminate(url, pids)))
    worker.start()
    worker.join()
    time.sleep(0.2)  # blocking on purpose: let the backends exit before the loop runs again


@postgres_only
async def test_status_survives_the_server_closing_the_readers_connections(
    gateway: Gateway, database: DatabaseUnderTest
) -> None:
    created = await gateway.create_request()
    assert await status_code(gateway, created["id"]) == 200
    pids = await reader_backends(database.url)
    assert pids, "the status reader's connections carry its application_name"
    reader = gateway.runtime.status_reader
    assert isinstance(reader, PostgresStatusReader)
    instance_id = gateway.headers["x-product-instance-id"]
    terminate_without_yielding(database.url, pids)
    found = await reader.read(request_id=created["id"], product_instance_id=instance_id)
    assert found is not None
    assert found.id == created["id"]
    assert await status_code(gateway, created["id"]) == 200
    assert not set(pids) & set(await reader_backends(database.url))


@postgres_only
async def test_options_in_the_database_url_reach_the_reader(
    gateway: Gateway, database: DatabaseUnderTest
) -> None:
    created = await gateway.create_request()
    separator = "&" if "?" in database.url else "?"
    url = f"{database.url}{separator}command_timeout=30&prepared_statement_cache_size=0"
    engine = build_engine(url, schema=database.schema)
    reader = PostgresStatusReader.for_engine(engine, schema=database.schema, max_size=2, timeout=5)
    assert reader is not None
    try:
        found = await reader.read(
            request_id=created["id"], product_instance_id=gateway.headers["x-product-instance-id"]
        )
        assert found is not None
        assert found.status == "unauthenticated"
        assert found.valid_upto.tzinfo is not None
        # SQLAlchemy's spelling of "no statement cache" (PgBouncer in transaction mode),
        # carried over as asyncpg's; the URL's command_timeout wins over the default.
        assert reader._pool_kwargs["statement_cache_size"] == 0
        assert reader._pool_kwargs["command_timeout"] == "30"
    finally:
        await reader.close()
        await engine.dispose()


@postgres_only
@pytest.mark.usefixtures("gateway")  # a migrated schema
async def test_waiting_for_a_reader_connection_is_bounded(database: DatabaseUnderTest) -> None:
    engine = build_engine(database.url, schema=database.schema)
    reader = PostgresStatusReader.for_engine(
        engine, schema=database.schema, max_size=1, timeout=0.3
    )
    assert reader is not None
    try:
        pool = await reader._get_pool()
        async with pool.acquire():
            with pytest.raises(TimeoutError):
                await reader.read(request_id="x", product_instance_id="y")
    finally:
        await reader.close()
        await engine.dispose()
    with pytest.raises(RuntimeError, match="closed"):
        await reader.read(request_id="x", product_instance_id="y")


@postgres_only
async def test_the_readers_connections_close_with_the_app(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    async with running_gateway(database, tmp_path) as gateway:
        created = await gateway.create_request()
        assert await status_code(gateway, created["id"]) == 200
        assert await reader_backends(database.url)
    assert await reader_backends(database.url) == []
