"""The SDK against the real gateway: its ASGI app with the embedded simulator, reached through
httpx's ASGI transport, and a journey walked by hand as a browser would."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from digilocker_gateway.client import AsyncDigiLockerClient
from digilocker_gateway.simulator.driver import run_journey
from tests.support import BASE_URL, REDIRECT_URL, Gateway, query_of, sim_user


def sdk_for(gateway: Gateway, **overrides: Any) -> AsyncDigiLockerClient:
    headers = gateway.headers
    values: dict[str, Any] = {
        "client_id": headers["x-client-id"],
        "client_secret": headers["x-client-secret"],
        "product_instance_id": headers["x-product-instance-id"],
        "transport": httpx.ASGITransport(app=gateway.app),
        "retry_backoff": 0.0,
        **overrides,
    }
    return AsyncDigiLockerClient(BASE_URL, **values)


@pytest.fixture
async def sdk(gateway: Gateway) -> AsyncIterator[AsyncDigiLockerClient]:
    async with sdk_for(gateway) as client:
        yield client


@pytest.fixture
async def catalogued_sdk(catalogued_gateway: Gateway) -> AsyncIterator[AsyncDigiLockerClient]:
    async with sdk_for(catalogued_gateway) as client:
        yield client


async def consent(
    gateway: Gateway,
    url: str,
    *,
    scenario: str = "complete",
    decision: str = "allow",
    doctypes: list[str] | None = None,
) -> dict[str, str]:
    """Walk the journey at `url` as the user; the query the browser lands on."""
    start = await gateway.client.get(url)
    assert start.status_code == 302, start.text
    user = await sim_user(gateway, scenario)
    callback = await run_journey(
        gateway.client,
        start.headers["location"],
        identifier=user["identifier"],
        otp=user["otp"],
        pin=user["pin"],
        decision=decision,  # type: ignore[arg-type]
        doctypes=doctypes,
    )
    back = await gateway.client.get(str(callback))
    assert back.status_code == 302, back.text
    location = back.headers["location"]
    assert location.startswith(REDIRECT_URL.split("?")[0]), location
    return query_of(location)


async def authenticated_request(
    gateway: Gateway,
    sdk: AsyncDigiLockerClient,
    *,
    scenario: str = "complete",
    doc_type: str | None = None,
    doctypes: list[str] | None = None,
) -> str:
    created = await sdk.create(REDIRECT_URL, doc_type=doc_type)
    query = await consent(gateway, created.url, scenario=scenario, doctypes=doctypes)
    assert query["success"] == "true", query
    return created.id
