"""The status call's own reader on PostgreSQL: a pool of its own that survives the server
closing its connections and closes with the app. SQLite's reader is covered by every status
test on the default backend."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

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


@postgres_only
async def test_status_survives_the_server_closing_the_readers_connections(
    gateway: Gateway, database: DatabaseUnderTest
) -> None:
    created = await gateway.create_request()
    assert await status_code(gateway, created["id"]) == 200
    pids = await reader_backends(database.url)
    assert pids, "the status reader's connections carry its application_name"
    await terminate(database.url, pids)
    for _ in range(3):
        assert await status_code(gateway, created["id"]) == 200
    assert not set(pids) & set(await reader_backends(database.url))


@postgres_only
async def test_the_readers_connections_close_with_the_app(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    async with running_gateway(database, tmp_path) as gateway:
        created = await gateway.create_request()
        assert await status_code(gateway, created["id"]) == 200
        assert await reader_backends(database.url)
    assert await reader_backends(database.url) == []
