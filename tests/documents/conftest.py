"""The catalogue, fetched once per test session from a simulator over its real pull APIs, and
stored into each test's database on demand."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
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
from tests.support import BASE_URL, DatabaseUnderTest, Gateway, running_gateway

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


@pytest.fixture
async def catalogued_gateway(
    database: DatabaseUnderTest, tmp_path: Path, catalogue_documents: list[CatalogueDocument]
) -> AsyncIterator[Gateway]:
    async with running_gateway(database, tmp_path) as gateway:
        async with gateway.runtime.transaction() as session:
            await store_catalogue(session, catalogue_documents, now=gateway.clock.now())
        yield gateway
