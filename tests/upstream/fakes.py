"""A scripted DigiLocker for DigiLockerClient tests: httpx.MockTransport answers in order."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs

import httpx

from digilocker_gateway.upstream.client import DigiLockerClient, PartnerCredentials

BASE_URL = "https://dl.test/public"
CLIENT_ID = "SYNTH00001"
CLIENT_SECRET = "synthetic-partner-secret"
REDIRECT_URI = "https://gateway.test/digilocker/callback"
ACCESS_TOKEN = "0123456789abcdef0123456789abcdef01234567"
NOW = 1_735_689_600


class Upstream:
    """A scripted DigiLocker: answers in order (the last one repeats) and records requests."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        # A fresh copy each time: a response object is consumed by the client that receives it.
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    @property
    def form(self) -> dict[str, str]:
        return form_of(self.requests[-1])


def form_of(request: httpx.Request) -> dict[str, str]:
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    parsed = parse_qs(request.content.decode(), keep_blank_values=True)
    return {key: values[0] for key, values in parsed.items()}


def ok(body: object) -> httpx.Response:
    return httpx.Response(200, json=body)


def dl_error(status: int, error: str, description: str = "") -> httpx.Response:
    return httpx.Response(status, json={"error": error, "error_description": description})


@asynccontextmanager
async def client_for(
    upstream: Upstream, *, clock: Callable[[], float] = lambda: NOW, **settings: Any
) -> AsyncIterator[tuple[DigiLockerClient, list[float]]]:
    credentials = PartnerCredentials(
        base_url=BASE_URL,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uri=REDIRECT_URI,
        **settings,
    )
    pauses: list[float] = []

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)

    async with httpx.AsyncClient(transport=httpx.MockTransport(upstream)) as http:
        yield DigiLockerClient(http, credentials, clock=clock, sleep=sleep), pauses


TOKEN_BODY = {
    "access_token": ACCESS_TOKEN,
    "refresh_token": "fedcba9876543210fedcba9876543210fedcba98",
    "expires_in": 3600,
    "token_type": "Bearer",
    "scope": "userdetails partners.PANCR",
    "digilockerid": "123e4567-e89b-12d3-a456-426655440000",
}
