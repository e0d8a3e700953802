"""The circuit breaker per DigiLocker operation: the state machine on a manual clock, and the
gateway over the simulator's faults — it opens, fails fast with `upstream_server_error` and
Retry-After, shows in /readyz without failing it, half-opens and closes by itself; and
DigiLocker's own 429 opens it for as long as DigiLocker asks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from digilocker_gateway.documents.catalogue import CatalogueDocument, store_catalogue
from digilocker_gateway.ops.breaker import Breakers, BreakerState, CircuitBreaker
from digilocker_gateway.ops.metrics import GatewayMetrics
from digilocker_gateway.ops.upstream_guard import UpstreamGuard, outcome_of
from digilocker_gateway.upstream.errors import (
    UpstreamResponseError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from tests.documents.test_fetch import authenticated, fetch, fetch_body, pick
from tests.requests.test_create import assert_envelope
from tests.support import DatabaseUnderTest, Gateway, running_gateway, walk_journey


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def state_of(breaker: CircuitBreaker) -> BreakerState:
    # A call, so that mypy does not keep an earlier assert's narrowing across state changes.
    return breaker.state


def test_breaker_opens_after_the_threshold_fails_fast_half_opens_and_closes() -> None:
    ticks = Ticks()
    breaker = CircuitBreaker(failure_threshold=3, open_seconds=30, now=ticks)
    for _ in range(2):
        assert breaker.admit() is None
        breaker.failed()
    assert state_of(breaker) is BreakerState.CLOSED
    breaker.failed()
    assert state_of(breaker) is BreakerState.OPEN
    ticks.now += 10
    assert breaker.admit() == 20
    ticks.now += 20
    assert breaker.admit() is None  # the one trial call
    assert state_of(breaker) is BreakerState.HALF_OPEN
    assert breaker.admit() == 30  # others wait while it runs
    breaker.succeeded()
    assert state_of(breaker) is BreakerState.CLOSED
    assert breaker.admit() is None


def test_failed_trial_opens_the_breaker_again() -> None:
    ticks = Ticks()
    breaker = CircuitBreaker(failure_threshold=1, open_seconds=5, now=ticks)
    breaker.failed()
    ticks.now += 5
    assert breaker.admit() is None
    breaker.failed()
    assert state_of(breaker) is BreakerState.OPEN
    assert breaker.admit() == 5


def test_a_success_resets_the_count_of_failures() -> None:
    breaker = CircuitBreaker(failure_threshold=2, open_seconds=5, now=Ticks())
    breaker.failed()
    breaker.succeeded()
    breaker.failed()
    assert state_of(breaker) is BreakerState.CLOSED


def test_a_trial_that_never_reports_stops_blocking_after_open_seconds() -> None:
    ticks = Ticks()
    breaker = CircuitBreaker(failure_threshold=1, open_seconds=5, now=ticks)
    breaker.failed()
    ticks.now += 5
    assert breaker.admit() is None  # its caller was cancelled and never reports
    ticks.now += 5
    assert breaker.admit() is None


def _response(status: int, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, headers=headers)


@pytest.mark.parametrize(
    ("response", "failure", "outcome"),
    [
        (_response(200), None, "ok"),
        (_response(400), None, "refused"),
        (_response(429), None, "rate_limited"),
        (_response(530), None, "server_error"),
        (None, UpstreamTimeout("x"), "timeout"),
        (None, UpstreamResponseError(500, "x"), "error"),
    ],
)
def test_attempts_are_named_by_a_bounded_outcome(
    response: httpx.Response | None, failure: BaseException | None, outcome: str
) -> None:
    assert outcome_of(response, failure) == outcome


def test_digilockers_429_opens_the_breaker_for_its_retry_after() -> None:
    ticks = Ticks()
    guard = UpstreamGuard(GatewayMetrics(), Breakers(5, 30, now=ticks))
    guard.admit("user")
    guard.finished("user", 0.1, _response(429, {"retry-after": "120"}), None)
    ticks.now += 60
    with pytest.raises(UpstreamUnavailable) as refused:
        guard.admit("user")
    assert refused.value.retry_after == 60
    guard.admit("issued")  # other operations go on


def test_digilockers_4xx_about_one_request_keeps_the_breaker_closed() -> None:
    guard = UpstreamGuard(None, Breakers(1, 30, now=Ticks()))
    for _ in range(3):
        guard.admit("pull document")
        guard.finished("pull document", 0.1, _response(404), None)
    assert guard.breakers.states() == {"pull document": "closed"}


async def set_faults(gateway: Gateway, faults: dict[str, Any]) -> None:
    response = await gateway.client.put("/simulator/_sim/admin/faults", json=faults)
    assert response.status_code == 200, response.text


@pytest.fixture
async def fragile_gateway(
    database: DatabaseUnderTest, tmp_path: Path, catalogue_documents: list[CatalogueDocument]
) -> AsyncIterator[Gateway]:
    """No retries and a breaker that opens after two failures, for 30 seconds."""
    async with running_gateway(
        database,
        tmp_path,
        upstream_max_retries=0,
        upstream_breaker_failure_threshold=2,
        upstream_breaker_open_seconds=30,
    ) as gateway:
        async with gateway.runtime.transaction() as session:
            await store_catalogue(session, catalogue_documents, now=gateway.clock.now())
        yield gateway


async def upstream_count(gateway: Gateway, operation: str, outcome: str) -> float:
    text = (await gateway.client.get("/metrics")).text
    line = f'dlg_upstream_calls_total{{operation="{operation}",outcome="{outcome}"}} '
    for row in text.splitlines():
        if row.startswith(line):
            return float(row.removeprefix(line))
    return 0.0


async def test_failing_digilocker_opens_the_breaker_and_callers_fail_fast(
    fragile_gateway: Gateway,
) -> None:
    gateway = fragile_gateway
    request_id, user = await authenticated(gateway, "complete")
    body = fetch_body(pick(user, issued=True))
    await set_faults(gateway, {"files_issued": {"error_rate": 1.0, "status": 503}})
    for _ in range(2):
        failed = await fetch(gateway, request_id, body)
        assert_envelope(failed, 500, "upstream_server_error")
        assert "retry-after" not in failed.headers
    assert await upstream_count(gateway, "issued", "server_error") == 2

    fast = await fetch(gateway, request_id, body)
    assert_envelope(fast, 500, "upstream_server_error")
    assert fast.headers["retry-after"] == "30"
    assert await upstream_count(gateway, "issued", "server_error") == 2  # not called
    assert await upstream_count(gateway, "issued", "rejected") == 1
    ready = await gateway.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["upstream"]["issued"] == "open"
    assert (
        'dlg_upstream_breaker_open{operation="issued"} 1.0'
        in (await gateway.client.get("/metrics")).text
    )

    await set_faults(gateway, {})
    gateway.clock.advance(10)
    still = await fetch(gateway, request_id, body)
    assert still.headers["retry-after"] == "20"
    gateway.clock.advance(20)
    recovered = await fetch(gateway, request_id, body)
    assert recovered.status_code == 200, recovered.text
    assert (await gateway.client.get("/readyz")).json()["upstream"]["issued"] == "closed"


async def test_open_breaker_on_the_token_exchange_redirects_with_upstream_server_error(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    async with running_gateway(database, tmp_path, upstream_breaker_failure_threshold=1) as gateway:
        await set_faults(gateway, {"token": {"error_rate": 1.0, "status": 429}})
        first = await walk_journey(gateway)
        await set_faults(gateway, {})
        second = await walk_journey(gateway)
        rejected = await upstream_count(gateway, "token", "rejected")
        limited = await upstream_count(gateway, "token", "rate_limited")
    assert first.final_query["errCode"] == "upstream_server_error"
    assert second.final_query["errCode"] == "upstream_server_error"
    assert (limited, rejected) == (1, 1)


async def test_breaker_can_be_switched_off(database: DatabaseUnderTest, tmp_path: Path) -> None:
    async with running_gateway(
        database, tmp_path, upstream_breaker_enabled=False, upstream_breaker_failure_threshold=1
    ) as gateway:
        await set_faults(gateway, {"token": {"error_rate": 1.0}})
        await walk_journey(gateway)
        await set_faults(gateway, {})
        journey = await walk_journey(gateway)
        ready = (await gateway.client.get("/readyz")).json()
    assert journey.final_query["success"] == "true"
    assert ready["upstream"] == {}
