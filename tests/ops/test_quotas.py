"""Quotas per product instance, counted in the database on a manual clock: the minute rate
slides, the day ends at midnight IST, a refused call counts nothing, an instance's own limits
(admin quotas) replace the gateway's, and the check runs only after the credentials: a wrong
secret is a 401 that neither spends nor reveals the quota."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from digilocker_gateway.db.models import QuotaCounter
from digilocker_gateway.errors import RateLimited
from digilocker_gateway.ops.quotas import (
    Limit,
    QuotaKind,
    Quotas,
    Span,
    clear_limits,
    effective_limits,
    set_limit,
    stored_limits,
)
from digilocker_gateway.runtime import Runtime
from tests.ops.test_logs import Captured, captured  # noqa: F401 (a fixture)
from tests.requests.test_create import assert_envelope
from tests.support import REDIRECT_URL, DatabaseUnderTest, Gateway, ManualClock, running_gateway

# 10:00:00 IST on a Monday, at the start of a minute.
START = datetime(2026, 3, 2, 4, 30, tzinfo=UTC)


async def take(quotas: Quotas, runtime: Runtime, instance: str, kind: QuotaKind) -> int | None:
    """None when the call was counted, else the Retry-After it was refused with."""
    try:
        await quotas.take(runtime, instance, kind)
    except RateLimited as refused:
        return -1 if refused.retry_after is None else refused.retry_after
    return None


async def counted(runtime: Runtime, instance: str, kind: QuotaKind, span: Span) -> int:
    async with runtime.reading() as session:
        total = await session.scalar(
            select(func.coalesce(func.sum(QuotaCounter.count), 0)).where(
                QuotaCounter.product_instance_id == instance,
                QuotaCounter.kind == kind.value,
                QuotaCounter.span == span.value,
            )
        )
    return int(total or 0)


@pytest.fixture
async def quiet(database: DatabaseUnderTest, tmp_path: Path) -> AsyncIterator[Gateway]:
    """A gateway with no quota of its own settings."""
    async with running_gateway(database, tmp_path) as gateway:
        yield gateway


async def test_rate_per_minute_refuses_the_call_over_it_with_the_wait(quiet: Gateway) -> None:
    clock = ManualClock(START)
    quotas = Quotas({QuotaKind.CREATE: Limit(per_minute=3)}, clock)
    runtime = quiet.runtime
    assert [await take(quotas, runtime, "pi-1", QuotaKind.CREATE) for _ in range(3)] == [None] * 3
    clock.advance(30)
    # This minute is full: the wait is the rest of it plus the part of the next minute in
    # which three calls still lie within the last 60 seconds.
    assert await take(quotas, runtime, "pi-1", QuotaKind.CREATE) == 50
    assert await take(quotas, runtime, "pi-2", QuotaKind.CREATE) is None  # another instance
    assert await take(quotas, runtime, "pi-1", QuotaKind.FETCH) is None  # another kind
    # The refused call counted nothing.
    assert await counted(runtime, "pi-1", QuotaKind.CREATE, Span.MINUTE) == 3


async def test_rate_slides_across_the_minute_boundary(quiet: Gateway) -> None:
    clock = ManualClock(START)
    quotas = Quotas({QuotaKind.FETCH: Limit(per_minute=4)}, clock)
    runtime = quiet.runtime
    clock.advance(50)
    for _ in range(4):
        assert await take(quotas, runtime, "pi-1", QuotaKind.FETCH) is None
    clock.advance(15)  # 5 s into the next minute: the four calls still weigh 4 * 55/60
    assert await take(quotas, runtime, "pi-1", QuotaKind.FETCH) == 10
    clock.advance(10)  # 15 s in: they weigh 3, one more fits
    assert await take(quotas, runtime, "pi-1", QuotaKind.FETCH) is None
    assert isinstance(await take(quotas, runtime, "pi-1", QuotaKind.FETCH), int)


async def test_day_maximum_ends_at_midnight_ist(quiet: Gateway) -> None:
    clock = ManualClock(START)
    quotas = Quotas({QuotaKind.STATUS: Limit(per_day=2)}, clock)
    runtime = quiet.runtime
    assert await take(quotas, runtime, "pi-1", QuotaKind.STATUS) is None
    assert await take(quotas, runtime, "pi-1", QuotaKind.STATUS) is None
    # 10:00 IST to midnight IST.
    assert await take(quotas, runtime, "pi-1", QuotaKind.STATUS) == 14 * 3600
    assert await counted(runtime, "pi-1", QuotaKind.STATUS, Span.DAY) == 2
    clock.advance(14 * 3600)
    assert await take(quotas, runtime, "pi-1", QuotaKind.STATUS) is None


async def test_both_limits_refuse_with_the_longer_wait_and_zero_refuses_all(
    quiet: Gateway,
) -> None:
    clock = ManualClock(START)
    quotas = Quotas(
        {
            QuotaKind.CREATE: Limit(per_minute=1, per_day=1),
            QuotaKind.ACCOUNT_CHECK: Limit(per_minute=0),
        },
        clock,
    )
    runtime = quiet.runtime
    assert await take(quotas, runtime, "pi-1", QuotaKind.CREATE) is None
    # Over the minute (wait < 120 s) and the day (wait 14 h): the day's wait is answered.
    assert await take(quotas, runtime, "pi-1", QuotaKind.CREATE) == 14 * 3600
    assert await take(quotas, runtime, "pi-1", QuotaKind.ACCOUNT_CHECK) == 60
    assert await counted(runtime, "pi-1", QuotaKind.ACCOUNT_CHECK, Span.MINUTE) == 0


async def test_counters_keep_only_the_windows_they_need(quiet: Gateway) -> None:
    clock = ManualClock(START)
    quotas = Quotas({QuotaKind.CREATE: Limit(per_minute=100, per_day=1000)}, clock)
    runtime = quiet.runtime
    for _ in range(5):  # five minutes, then five days
        assert await take(quotas, runtime, "pi-1", QuotaKind.CREATE) is None
        clock.advance(60)
    for _ in range(5):
        assert await take(quotas, runtime, "pi-1", QuotaKind.CREATE) is None
        clock.advance(24 * 3600)
    async with runtime.reading() as session:
        rows = (
            await session.execute(
                select(QuotaCounter.span, QuotaCounter.window_start, QuotaCounter.count)
            )
        ).all()
    minutes = sorted(start for span, start, _ in rows if span == "minute")
    days = [count for span, _, count in rows if span == "day"]
    assert len(minutes) == 2
    assert minutes[1] - minutes[0] == 60
    assert days == [1]  # today's only


async def test_own_limits_replace_the_gateways_and_clear_restores_them(quiet: Gateway) -> None:
    runtime = quiet.runtime
    instance = quiet.headers["x-product-instance-id"]
    defaults = {QuotaKind.CREATE: Limit(per_minute=1, per_day=10)}
    async with runtime.transaction() as session:
        assert await set_limit(session, instance, QuotaKind.CREATE, Span.MINUTE, 3)
        assert await set_limit(session, instance, QuotaKind.FETCH, Span.DAY, None)
        assert not await set_limit(session, "no-such-instance", QuotaKind.CREATE, Span.DAY, 1)
    clock = ManualClock(START)
    quotas = Quotas(defaults, clock)
    assert [await take(quotas, runtime, instance, QuotaKind.CREATE) for _ in range(4)] == [
        None,
        None,
        None,
        80,  # the rest of this minute, then a third of the next (3 calls weigh 2 by then)
    ]
    # The gateway's one a minute: the second call fits once the first has fully faded.
    assert [await take(quotas, runtime, "small", QuotaKind.CREATE) for _ in range(2)] == [None, 120]
    async with runtime.reading() as session:
        own = await stored_limits(session, instance)
    assert own == {(QuotaKind.CREATE, Span.MINUTE): 3, (QuotaKind.FETCH, Span.DAY): None}
    # The day maximum is still the gateway's: only the minute was set.
    assert effective_limits(own, defaults)[QuotaKind.CREATE] == Limit(per_minute=3, per_day=10)
    async with runtime.transaction() as session:
        assert await clear_limits(session, instance, QuotaKind.CREATE) == 1
        assert await stored_limits(session, instance) == {(QuotaKind.FETCH, Span.DAY): None}


async def test_own_no_limit_lifts_the_gateways_limit(quiet: Gateway) -> None:
    runtime = quiet.runtime
    instance = quiet.headers["x-product-instance-id"]
    async with runtime.transaction() as session:
        await set_limit(session, instance, QuotaKind.STATUS, Span.DAY, None)
    quotas = Quotas({QuotaKind.STATUS: Limit(per_day=1)}, ManualClock(START))
    assert [await take(quotas, runtime, instance, QuotaKind.STATUS) for _ in range(3)] == [None] * 3
    assert await counted(runtime, instance, QuotaKind.STATUS, Span.DAY) == 0  # nothing to count


async def test_quota_over_the_api_answers_429_with_retry_after_after_the_credentials(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    async with running_gateway(database, tmp_path, quota_create_per_minute=2) as gateway:
        body = {"redirectUrl": REDIRECT_URL}
        wrong = {**gateway.headers, "x-client-secret": "not-the-secret"}
        for _ in range(3):  # not the instance's calls: they spend nothing
            refused = await gateway.client.post("/api/digilocker", json=body, headers=wrong)
            assert_envelope(refused, 401, "invalid_credentials")
        answers = [
            await gateway.client.post("/api/digilocker", json=body, headers=gateway.headers)
            for _ in range(3)
        ]
        # Spent now; a caller without the secret still gets 401, never a 429 that would tell
        # it the instance's quota is spent.
        probe = await gateway.client.post("/api/digilocker", json=body, headers=wrong)
        other = await gateway.new_client_headers()
        elsewhere = await gateway.client.post("/api/digilocker", json=body, headers=other)
        metrics = (await gateway.client.get("/metrics")).text

    assert [answer.status_code for answer in answers] == [200, 200, 429]
    limited = answers[2]
    assert_envelope(limited, 429, "rate_limit_exceeded")
    assert 1 <= int(limited.headers["retry-after"]) <= 120
    assert limited.headers["x-trace-id"] == limited.json()["error"]["traceId"]
    assert_envelope(probe, 401, "invalid_credentials")
    assert "retry-after" not in probe.headers
    assert elsewhere.status_code == 200
    instance = gateway.headers["x-product-instance-id"]
    expected = f'dlg_quota_refusals_total{{kind="create",product_instance="{instance}"}} 1.0'
    assert expected in metrics
    assert metrics.count("dlg_quota_refusals_total{") == 1


@pytest.mark.parametrize(
    ("method", "path", "kind"),
    [
        ("POST", "/api/digilocker", QuotaKind.CREATE),
        ("POST", "/api/digilocker/", QuotaKind.CREATE),
        ("POST", "/api/digilocker/abc/document", QuotaKind.FETCH),
        ("GET", "/api/digilocker/abc/aadhaar", QuotaKind.FETCH),
        ("GET", "/api/digilocker/abc/issued", QuotaKind.FETCH),
        ("GET", "/api/digilocker/abc/status", QuotaKind.STATUS),
        ("HEAD", "/api/digilocker/abc/status", QuotaKind.STATUS),
        ("POST", "/api/digilocker/accounts/verify", QuotaKind.ACCOUNT_CHECK),
        ("GET", "/api/digilocker/abc/revoke", None),
        ("GET", "/api/digilocker/documents", None),
    ],
)
async def test_each_route_counts_against_its_kind(
    quiet: Gateway, method: str, path: str, kind: QuotaKind | None
) -> None:
    """With every other kind's quota at 0, only the route's own kind lets it through."""
    instance = quiet.headers["x-product-instance-id"]
    async with quiet.runtime.transaction() as session:
        for other in QuotaKind:
            if other is not kind:
                await set_limit(session, instance, other, Span.DAY, 0)
    answer = await quiet.client.request(method, path, headers=quiet.headers, json={})
    assert answer.status_code != 429, answer.text
    async with quiet.runtime.transaction() as session:
        await clear_limits(session, instance)
        if kind is not None:
            await set_limit(session, instance, kind, Span.DAY, 0)
    quiet.app.state.quotas.forget()
    again = await quiet.client.request(method, path, headers=quiet.headers, json={})
    if kind is None:
        assert again.status_code != 429, again.text
    else:
        assert again.status_code == 429
        assert int(again.headers["retry-after"]) >= 1


async def test_a_changed_limit_reaches_the_running_gateway_within_its_cache_time(
    quiet: Gateway,
) -> None:
    instance = quiet.headers["x-product-instance-id"]
    path = "/api/digilocker/abc/status"
    assert (await quiet.client.get(path, headers=quiet.headers)).status_code == 404
    async with quiet.runtime.transaction() as session:
        await set_limit(session, instance, QuotaKind.STATUS, Span.MINUTE, 0)
    # Still the limits read 0 s ago...
    assert (await quiet.client.get(path, headers=quiet.headers)).status_code == 404
    quiet.clock.advance(31)
    # ...and the new one once they are older than 30 s.
    refused = await quiet.client.get(path, headers=quiet.headers)
    assert_envelope(refused, 429, "rate_limit_exceeded")


async def test_the_access_line_names_the_quota_that_refused_the_call(
    database: DatabaseUnderTest,
    tmp_path: Path,
    captured: Captured,  # noqa: F811 (the fixture imported above)
) -> None:
    async with running_gateway(database, tmp_path, quota_fetch_per_day=0) as gateway:
        path = "/api/digilocker/abc/aadhaar"
        refused = await gateway.client.get(path, headers=gateway.headers)
        wrong = {**gateway.headers, "x-client-secret": "not-the-secret"}
        probe = await gateway.client.get(path, headers=wrong)
    assert refused.status_code == 429
    assert probe.status_code == 401
    lines = [line for line in captured.access_lines() if line.get("route", "").endswith("aadhaar")]
    assert [(line["status"], line.get("quota")) for line in lines] == [(429, "fetch"), (401, None)]
