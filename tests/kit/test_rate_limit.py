"""The per-minute rate limit shared by every process (kit/rate_limit.py), on SQLite and
PostgreSQL: counted per key and per clock minute, and exact when calls race."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from digilocker_gateway.kit.rate_limit import take
from tests.support import Gateway

MINUTE = datetime(2026, 3, 1, 10, 15, tzinfo=UTC)


async def take_once(gateway: Gateway, key: str, *, limit: int, now: datetime) -> bool:
    async with gateway.runtime.transaction() as session:
        return await take(session, key, limit=limit, now=now)


async def test_a_minute_holds_at_most_the_limit_per_key(gateway: Gateway) -> None:
    taken = [
        await take_once(gateway, "a", limit=2, now=MINUTE + timedelta(seconds=s))
        for s in (1, 20, 59)
    ]
    other_key = await take_once(gateway, "b", limit=2, now=MINUTE + timedelta(seconds=30))
    next_minute = await take_once(gateway, "a", limit=2, now=MINUTE + timedelta(seconds=60))

    assert taken == [True, True, False]
    assert other_key is True
    assert next_minute is True


async def test_a_limit_of_zero_refuses_every_call(gateway: Gateway) -> None:
    assert await take_once(gateway, "a", limit=0, now=MINUTE) is False


async def test_racing_calls_count_exactly(gateway: Gateway) -> None:
    results = await asyncio.gather(
        *(take_once(gateway, "race", limit=5, now=MINUTE) for _ in range(8))
    )

    assert sorted(results) == [False] * 3 + [True] * 5
