"""Shared fixtures: a database per test on SQLite, and on PostgreSQL when
DLG_TEST_DATABASE_URL is set (CI sets it; elsewhere those runs skip, saying why)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.applications import Starlette
from starlette.routing import Mount

from digilocker_gateway.config import DEV_PARTNER_CLIENT_ID, DEV_PARTNER_CLIENT_SECRET
from digilocker_gateway.documents.catalogue import (
    CatalogueDocument,
    fetch_catalogue,
    store_catalogue,
)
from digilocker_gateway.simulator.app import create_simulator_app
from digilocker_gateway.simulator.settings import SimulatorSettings, parse_app_spec
from digilocker_gateway.upstream.client import DigiLockerClient, PartnerCredentials
from tests.support import BASE_URL, DatabaseUnderTest, Gateway, running_gateway, sim_users

POSTGRES_URL_ENV = "DLG_TEST_DATABASE_URL"


def postgres_url() -> str | None:
    return os.environ.get(POSTGRES_URL_ENV) or None


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    if name == "postgresql" and postgres_url() is None:
        pytest.skip(f"PostgreSQL run skipped: set {POSTGRES_URL_ENV} to a postgresql+asyncpg URL")
    return name


@pytest.fixture
async def database(backend: str, tmp_path: Path) -> AsyncIterator[DatabaseUnderTest]:
    """A fresh, empty database for one test: a SQLite file, or a PostgreSQL schema of its own."""
    if backend == "sqlite":
        yield DatabaseUnderTest(f"sqlite+aiosqlite:///{(tmp_path / 'gateway.db').as_posix()}")
        return
    base = postgres_url()
    assert base is not None
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_async_engine(base)
    async with admin.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield DatabaseUnderTest(base, schema)
    finally:
        async with admin.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _no_dlg_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests build their own Settings; a developer's DLG_* variables must not leak in."""
    for name in list(os.environ):
        if name.startswith("DLG_") and name != POSTGRES_URL_ENV:
            monkeypatch.delenv(name)


@pytest.fixture
async def gateway(database: DatabaseUnderTest, tmp_path: Path) -> AsyncIterator[Gateway]:
    """The gateway on the embedded simulator, with a manual clock and one API client."""
    async with running_gateway(database, tmp_path) as running:
        yield running


@pytest.fixture
async def postgres_database() -> AsyncIterator[DatabaseUnderTest]:
    """A PostgreSQL schema of its own, for tests of PostgreSQL's own behaviour."""
    base = postgres_url()
    if base is None:
        pytest.skip(
            f"PostgreSQL-only test skipped: set {POSTGRES_URL_ENV} to a postgresql+asyncpg URL"
        )
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_async_engine(base)
    async with admin.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield DatabaseUnderTest(base, schema)
    finally:
        async with admin.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


# The catalogue, fetched once per test session from a simulator over its real pull APIs, and
# stored into a test's database on demand.
CALLBACK = f"{BASE_URL}/digilocker/callback"


async def fetch_simulator_catalogue() -> list[CatalogueDocument]:
    spec = f"{DEV_PARTNER_CLIENT_ID}:{DEV_PARTNER_CLIENT_SECRET}:{CALLBACK}"
    simulator = create_simulator_app(SimulatorSettings(apps=[parse_app_spec(spec)]))
    host = Starlette(routes=[Mount("/simulator", app=simulator)])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=host)) as http:
        client = DigiLockerClient(
            http,
            PartnerCredentials(
                base_url=f"{BASE_URL}/simulator/public",
                client_id=DEV_PARTNER_CLIENT_ID,
                client_secret=DEV_PARTNER_CLIENT_SECRET,
                redirect_uri=CALLBACK,
            ),
        )
        return await fetch_catalogue(client, concurrency=16)


@pytest.fixture(scope="session")
def catalogue_documents() -> list[CatalogueDocument]:
    return asyncio.run(fetch_simulator_catalogue())


async def store_held_catalogue(gateway: Gateway, documents: list[CatalogueDocument]) -> None:
    """Store the catalogue entries of the documents the simulator's seeded users hold. Storing
    all 11,000 entries costs seconds a test; tests of the catalogue itself use
    `fully_catalogued_gateway`."""
    held = {
        (document["docType"], document["orgId"])
        for user in await sim_users(gateway)
        for document in user["documents"]
    }
    needed = [d for d in documents if (d.doc_type, d.org_id) in held]
    async with gateway.runtime.transaction() as session:
        await store_catalogue(session, needed, now=gateway.clock.now())


@pytest.fixture
async def catalogued_gateway(
    database: DatabaseUnderTest, tmp_path: Path, catalogue_documents: list[CatalogueDocument]
) -> AsyncIterator[Gateway]:
    async with running_gateway(database, tmp_path) as gateway:
        await store_held_catalogue(gateway, catalogue_documents)
        yield gateway


@pytest.fixture
async def fully_catalogued_gateway(
    database: DatabaseUnderTest, tmp_path: Path, catalogue_documents: list[CatalogueDocument]
) -> AsyncIterator[Gateway]:
    async with running_gateway(database, tmp_path) as gateway:
        async with gateway.runtime.transaction() as session:
            await store_catalogue(session, catalogue_documents, now=gateway.clock.now())
        yield gateway
