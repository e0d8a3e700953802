"""Test support: a running gateway over ASGI, and the journey walked by hand over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from fastapi import FastAPI

from digilocker_gateway.app import create_app
from digilocker_gateway.config import Settings
from digilocker_gateway.runtime import Runtime
from digilocker_gateway.tenants.service import create_client

BASE_URL = "http://gateway.test"
REDIRECT_URL = "https://app.example.com/kyc/done?sessionId=XYZ"


class ManualClock:
    """A clock that only moves when told to; starts at the real time unless given one."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)

    def set(self, when: datetime) -> None:
        self._now = when


@dataclass(frozen=True)
class DatabaseUnderTest:
    url: str
    schema: str | None = None


@dataclass
class Gateway:
    app: FastAPI
    client: httpx.AsyncClient
    runtime: Runtime
    clock: ManualClock
    headers: dict[str, str]

    async def new_client_headers(self, **overrides: Any) -> dict[str, str]:
        return await add_client(self.runtime, **overrides)

    async def create_request(self, **body: Any) -> dict[str, Any]:
        payload = {"redirectUrl": REDIRECT_URL, **body}
        response = await self.client.post("/api/digilocker", json=payload, headers=self.headers)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result


def gateway_settings(database: DatabaseUnderTest, data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": database.url,
        "database_schema": database.schema,
        "public_base_url": BASE_URL,
        "background_jobs": False,
        "catalogue_refresh_on_start": False,
        **overrides,
    }
    return Settings(**values)


async def add_client(runtime: Runtime, **overrides: Any) -> dict[str, str]:
    settings = runtime.settings
    values: dict[str, Any] = {
        "name": "test",
        "digilocker_client_id": settings.digilocker_client_id,
        "digilocker_client_secret": settings.digilocker_client_secret.get_secret_value(),
        "request_lifetime_seconds": settings.request_lifetime_seconds,
        **overrides,
    }
    async with runtime.transaction() as session:
        created = await create_client(
            session, hasher=runtime.hasher, sealed=runtime.sealed, clock=runtime.clock, **values
        )
    return created.as_headers()


@asynccontextmanager
async def running_gateway(
    database: DatabaseUnderTest, data_dir: Path, **overrides: Any
) -> AsyncIterator[Gateway]:
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    app = create_app(gateway_settings(database, data_dir, **overrides), clock=clock)
    async with app.router.lifespan_context(app):
        runtime: Runtime = app.state.runtime
        headers = await add_client(runtime)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            yield Gateway(app, client, runtime, clock, headers)


def query_of(url: str | httpx.URL) -> dict[str, str]:
    return {key: values[-1] for key, values in parse_qs(urlsplit(str(url)).query).items()}


async def sim_users(gateway: Gateway) -> list[dict[str, Any]]:
    response = await gateway.client.get("/simulator/_sim/users")
    assert response.status_code == 200
    users: list[dict[str, Any]] = response.json()
    return users


async def sim_user(gateway: Gateway, scenario: str) -> dict[str, Any]:
    for user in await sim_users(gateway):
        if user["scenario"] == scenario:
            return user
    raise AssertionError(f"no simulator user for scenario {scenario}")


@dataclass
class Journey:
    request_id: str
    authorize_url: str
    callback_url: str
    final_url: str  # where the gateway sent the browser (the caller's redirectUrl)

    @property
    def final_query(self) -> dict[str, str]:
        return query_of(self.final_url)


async def walk_journey(
    gateway: Gateway,
    *,
    scenario: str = "complete",
    doc_type: str | None = None,
    decision: str = "allow",
    doctypes: list[str] | None = None,
    redirect_url: str = REDIRECT_URL,
    create_fields: dict[str, Any] | None = None,
) -> Journey:
    """Create a request and walk its journey by hand: journey URL -> simulator pages ->
    callback -> the caller's redirectUrl."""
    from digilocker_gateway.simulator.driver import run_journey

    body: dict[str, Any] = {"redirectUrl": redirect_url, **(create_fields or {})}
    if doc_type is not None:
        body["docType"] = doc_type
    created = await gateway.create_request(**body)
    start = await gateway.client.get(created["url"])
    assert start.status_code == 302, start.text
    authorize_url = start.headers["location"]
    user = await sim_user(gateway, scenario)
    callback = await run_journey(
        gateway.client,
        authorize_url,
        identifier=user["identifier"],
        otp=user["otp"],
        pin=user["pin"],
        decision=decision,  # type: ignore[arg-type]
        doctypes=doctypes,
    )
    assert str(callback).startswith(BASE_URL + "/digilocker/callback"), str(callback)
    back = await gateway.client.get(str(callback))
    assert back.status_code == 302, back.text
    return Journey(created["id"], authorize_url, str(callback), back.headers["location"])
