"""Quotas per product instance, on a manual clock: the minute rate slides, the day ends at
midnight IST, a refused call is a 429 in the envelope with Retry-After, and a call that is not
the instance's own (a wrong secret) spends nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from digilocker_gateway.ops.quotas import (
    Limit,
    QuotaCounters,
    QuotaKind,
    QuotaPolicy,
    Taken,
    kind_of,
)
from tests.requests.test_create import assert_envelope
from tests.support import REDIRECT_URL, DatabaseUnderTest, ManualClock, running_gateway

# 10:00:00 IST on a Monday, at the start of a minute.
START = datetime(2026, 3, 2, 4, 30, tzinfo=UTC)


def counters(clock: ManualClock, **limits: Limit) -> QuotaCounters:
    policy = QuotaPolicy({QuotaKind(kind): limit for kind, limit in limits.items()})
    return QuotaCounters(policy, clock)


def test_rate_per_minute_refuses_the_call_over_it_with_the_wait() -> None:
    clock = ManualClock(START)
    quota = counters(clock, create=Limit(per_minute=3))
    assert all(isinstance(quota.take("pi-1", QuotaKind.CREATE), Taken) for _ in range(3))
    clock.advance(30)
    # This minute is full: the wait is the rest of it plus the part of the next minute in
    # which three calls still lie within the last 60 seconds.
    assert quota.take("pi-1", QuotaKind.CREATE) == 50
    assert isinstance(quota.take("pi-2", QuotaKind.CREATE), Taken)  # another instance
    assert isinstance(quota.take("pi-1", QuotaKind.FETCH), Taken)  # another kind


def test_rate_slides_across_the_minute_boundary() -> None:
    clock = ManualClock(START)
    quota = counters(clock, fetch=Limit(per_minute=4))
    clock.advance(50)
    for _ in range(4):
        assert isinstance(quota.take("pi-1", QuotaKind.FETCH), Taken)
    clock.advance(15)  # 5 s into the next minute: the four calls still weigh 4 * 55/60
    assert quota.take("pi-1", QuotaKind.FETCH) == 10
    clock.advance(10)  # 15 s in: they weigh 3, one more fits
    assert isinstance(quota.take("pi-1", QuotaKind.FETCH), Taken)
    assert isinstance(quota.take("pi-1", QuotaKind.FETCH), int)


def test_day_maximum_ends_at_midnight_ist() -> None:
    clock = ManualClock(START)
    quota = counters(clock, status=Limit(per_day=2))
    assert isinstance(quota.take("pi-1", QuotaKind.STATUS), Taken)
    assert isinstance(quota.take("pi-1", QuotaKind.STATUS), Taken)
    assert quota.take("pi-1", QuotaKind.STATUS) == 14 * 3600  # 10:00 IST to midnight IST
    clock.advance(14 * 3600)
    assert isinstance(quota.take("pi-1", QuotaKind.STATUS), Taken)


def test_given_back_units_are_spent_again() -> None:
    clock = ManualClock(START)
    quota = counters(clock, create=Limit(per_minute=1, per_day=1))
    taken = quota.take("pi-1", QuotaKind.CREATE)
    assert isinstance(taken, Taken)
    quota.give_back(taken)
    assert len(quota) == 0  # nothing is kept for a call given back
    assert isinstance(quota.take("pi-1", QuotaKind.CREATE), Taken)
    assert isinstance(quota.take("pi-1", QuotaKind.CREATE), int)
    assert len(quota) == 1


def test_overrides_replace_the_defaults_for_one_instance() -> None:
    clock = ManualClock(START)
    policy = QuotaPolicy(
        {QuotaKind.CREATE: Limit(per_minute=1)},
        {"big": {QuotaKind.CREATE: Limit(per_minute=3)}},
    )
    quota = QuotaCounters(policy, clock)
    assert [isinstance(quota.take("big", QuotaKind.CREATE), Taken) for _ in range(4)] == [
        True,
        True,
        True,
        False,
    ]
    assert [isinstance(quota.take("small", QuotaKind.CREATE), Taken) for _ in range(2)] == [
        True,
        False,
    ]


@pytest.mark.parametrize(
    ("method", "path", "kind"),
    [
        ("POST", "/api/digilocker", QuotaKind.CREATE),
        ("POST", "/api/digilocker/", QuotaKind.CREATE),
        ("POST", "/api/digilocker/abc/document", QuotaKind.FETCH),
        ("GET", "/api/digilocker/abc/aadhaar", QuotaKind.FETCH),
        ("GET", "/api/digilocker/abc/status", QuotaKind.STATUS),
        ("GET", "/api/digilocker/abc/revoke", None),
        ("GET", "/api/digilocker/documents", None),
        ("GET", "/api/digilocker/abc/status/x", None),
    ],
)
def test_calls_count_against_their_kind(method: str, path: str, kind: QuotaKind | None) -> None:
    assert kind_of(method, path) is kind


async def test_quota_over_the_api_answers_429_with_retry_after(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    async with running_gateway(database, tmp_path, quota_create_per_minute=2) as gateway:
        body = {"redirectUrl": REDIRECT_URL}
        wrong = {**gateway.headers, "x-client-secret": "not-the-secret"}
        for _ in range(3):  # not the instance's calls: they spend nothing
            refused = await gateway.client.post("/api/digilocker", json=body, headers=wrong)
            assert refused.status_code == 401
        answers = [
            await gateway.client.post("/api/digilocker", json=body, headers=gateway.headers)
            for _ in range(3)
        ]
        other = await gateway.new_client_headers()
        elsewhere = await gateway.client.post("/api/digilocker", json=body, headers=other)
        metrics = (await gateway.client.get("/metrics")).text

    assert [answer.status_code for answer in answers] == [200, 200, 429]
    limited = answers[2]
    assert_envelope(limited, 429, "rate_limit_exceeded")
    assert 1 <= int(limited.headers["retry-after"]) <= 120
    assert limited.headers["x-trace-id"] == limited.json()["error"]["traceId"]
    assert elsewhere.status_code == 200
    instance = gateway.headers["x-product-instance-id"]
    expected = f'dlg_quota_refusals_total{{kind="create",product_instance="{instance}"}} 1.0'
    assert expected in metrics


async def test_overrides_from_settings_apply_to_their_instance(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    async with running_gateway(database, tmp_path, quota_status_per_minute=100) as gateway:
        created = await gateway.create_request()
        instance = gateway.headers["x-product-instance-id"]
    overrides = {instance: {"status_per_minute": 1}}
    async with running_gateway(database, tmp_path, quota_overrides=overrides) as again:
        path = f"/api/digilocker/{created['id']}/status"
        first = await again.client.get(path, headers=gateway.headers)
        second = await again.client.get(path, headers=gateway.headers)
    assert first.status_code == 200
    assert_envelope(second, 429, "rate_limit_exceeded")
