"""Fixtures for the simulator's HTTP tests: a simulator app on a manual clock, an httpx client
over ASGI (redirects never followed automatically), PKCE helpers and a token shortcut."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from starlette.applications import Starlette

from digilocker_gateway.simulator.app import create_simulator_app
from digilocker_gateway.simulator.driver import run_journey
from digilocker_gateway.simulator.settings import SimulatorSettings
from tests.support import ManualClock

CLIENT_ID = "DLGSIMDEV1"
CLIENT_SECRET = "simulator-dev-secret"
REDIRECT_URI = "http://127.0.0.1:8000/digilocker/callback"

BASE_URL = "http://sim.test"
TOKEN_PATH = "/public/oauth2/1/token"


def new_verifier() -> str:
    return secrets.token_urlsafe(48)


def challenge_of(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass
class Sim:
    app: Starlette
    client: httpx.AsyncClient
    clock: ManualClock
    prefix: str = ""

    def authorize_url(self, verifier: str, *, state: str = "state-123", **extra: str) -> str:
        params = {
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "state": state,
            "code_challenge": challenge_of(verifier),
            "code_challenge_method": "S256",
            **extra,
        }
        return f"{BASE_URL}{self.prefix}/public/oauth2/1/authorize?{urlencode(params)}"

    async def users(self) -> list[dict[str, Any]]:
        response = await self.client.get(f"{self.prefix}/_sim/users")
        assert response.status_code == 200
        users: list[dict[str, Any]] = response.json()
        return users

    async def user(self, scenario: str) -> dict[str, Any]:
        return next(user for user in await self.users() if user["scenario"] == scenario)

    async def journey(
        self,
        user: dict[str, Any],
        verifier: str,
        *,
        identifier: str | None = None,
        doctypes: list[str] | None = None,
        decision: str = "allow",
        **extra: str,
    ) -> httpx.URL:
        return await run_journey(
            self.client,
            self.authorize_url(verifier, **extra),
            identifier=identifier or user["identifier"],
            otp=user["otp"],
            pin=user["pin"],
            decision="deny" if decision == "deny" else "allow",
            doctypes=doctypes,
        )

    async def code_for(self, scenario: str, **kwargs: Any) -> tuple[str, str]:
        """(code, verifier) after a successful journey of the scenario's user."""
        verifier = new_verifier()
        final = await self.journey(await self.user(scenario), verifier, **kwargs)
        code = final.params.get("code")
        assert code, f"journey ended without a code: {final}"
        return code, verifier

    async def exchange(
        self, code: str, verifier: str, *, path: str = TOKEN_PATH, **overrides: str
    ) -> httpx.Response:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            **overrides,
        }
        return await self.client.post(f"{self.prefix}{path}", data=form)

    async def tokens(self, scenario: str, **kwargs: Any) -> dict[str, Any]:
        code, verifier = await self.code_for(scenario, **kwargs)
        response = await self.exchange(code, verifier)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def get(self, path: str, token: str) -> httpx.Response:
        return await self.client.get(
            f"{self.prefix}{path}", headers={"Authorization": f"Bearer {token}"}
        )


MakeSim = Callable[..., Awaitable[Sim]]


@pytest.fixture
async def make_sim() -> AsyncIterator[MakeSim]:
    """Build a simulator (optionally with settings) and a client for it; closed at teardown."""
    async with AsyncExitStack() as stack:

        async def build(settings: SimulatorSettings | None = None, **fields: Any) -> Sim:
            clock = ManualClock()
            chosen = settings or SimulatorSettings(**fields)
            app = create_simulator_app(chosen, clock=clock)
            client = await stack.enter_async_context(
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)
            )
            return Sim(app=app, client=client, clock=clock)

        yield build


@pytest.fixture
async def sim(make_sim: MakeSim) -> Sim:
    return await make_sim()
