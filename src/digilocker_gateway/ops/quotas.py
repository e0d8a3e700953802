"""Quotas per product instance (docs/operations.md §3): a rate per minute and a maximum per
day, for each kind of call, counted in the database so that every gateway process enforces the
same limits.

**Limits.** The gateway's settings (`DLG_QUOTA_<KIND>_PER_MINUTE`, `…_PER_DAY`) hold the
limits of every product instance; `admin quotas set` gives one instance its own, stored in
`quota_limits` (one row per kind and span; a row with no number means "no limit"). Each process
remembers an instance's limits for `cache_seconds` of the gateway's clock, so a change reaches
every running process within that time, and an instance with no limit costs no database work.

**Counting.** One statement counts the call in the windows its limits need, shared by every
process: `INSERT … ON CONFLICT … DO UPDATE SET count = count + excluded.count RETURNING …` on
the rows (instance, kind, window) of the current minute (+1), the previous minute (+0, only to
read it) and the current day (+1). The counts it returns include the call; when they are over a
limit the transaction is rolled back, so a refused call counts nothing. The statement takes the
rows' locks (PostgreSQL) or the database's write lock (SQLite) until the commit, so two
processes' calls are counted one after the other and the limits hold exactly, on both; the same
SQL runs on both. A small counter of our own rather than the `limits` library: it must run on
the gateway's `Clock` (tests move time) and in the gateway's own database and transactions.

The minute rate is a sliding-window counter (this minute's count plus the previous minute's,
weighted by how much of it still lies within the last 60 seconds), so a burst across a minute
boundary cannot pass twice the rate. The day is India's calendar day (midnight IST), the day
DigiLocker's and Setu's users reckon in.

The check runs after the credentials (ops/quota_deps.py): a caller who only knows an instance
id can neither spend nor probe its quota.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import TextClause, delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from digilocker_gateway.config import Settings
from digilocker_gateway.db.models import ProductInstance, QuotaCounter, QuotaLimit
from digilocker_gateway.errors import RateLimited
from digilocker_gateway.kit.clock import Clock
from digilocker_gateway.ops.calls import current_call

if TYPE_CHECKING:
    from digilocker_gateway.ops.metrics import GatewayMetrics
    from digilocker_gateway.runtime import Runtime

IST = timezone(timedelta(hours=5, minutes=30))
_MINUTE = 60


class QuotaKind(StrEnum):
    CREATE = "create"  # POST /api/digilocker
    # Calls that ask DigiLocker for a user's data: fetch document, fetch Aadhaar, the issued list.
    FETCH = "fetch"
    STATUS = "status"  # GET /api/digilocker/{id}/status
    ACCOUNT_CHECK = "account_check"  # POST /api/digilocker/accounts/verify


class Span(StrEnum):
    MINUTE = "minute"
    DAY = "day"


@dataclass(frozen=True, slots=True)
class Limit:
    per_minute: int | None = None
    per_day: int | None = None

    @property
    def any(self) -> bool:
        return self.per_minute is not None or self.per_day is not None


NO_LIMIT = Limit()


def default_limits(settings: Settings) -> dict[QuotaKind, Limit]:
    """The limits of a product instance that has none of its own, from the settings."""
    return {
        kind: Limit(
            getattr(settings, f"quota_{kind.value}_per_minute"),
            getattr(settings, f"quota_{kind.value}_per_day"),
        )
        for kind in QuotaKind
    }


# --- the limits a product instance has of its own (admin quotas set / show / clear) ---


async def stored_limits(
    session: AsyncSession, product_instance_id: str
) -> dict[tuple[QuotaKind, Span], int | None]:
    """The instance's own limits: (kind, span) -> the maximum, None for "no limit"."""
    rows = await session.execute(
        select(QuotaLimit.kind, QuotaLimit.span, QuotaLimit.max_calls).where(
            QuotaLimit.product_instance_id == product_instance_id
        )
    )
    return {
        (QuotaKind(kind), Span(span)): max_calls
        for kind, span, max_calls in rows
        if kind in QuotaKind.__members__.values() and span in Span.__members__.values()
    }


def effective_limits(
    stored: Mapping[tuple[QuotaKind, Span], int | None], defaults: Mapping[QuotaKind, Limit]
) -> dict[QuotaKind, Limit]:
    """Each kind's limits: the instance's own where it has one, else the gateway's."""
    limits: dict[QuotaKind, Limit] = {}
    for kind in QuotaKind:
        default = defaults.get(kind, NO_LIMIT)
        minute_key, day_key = (kind, Span.MINUTE), (kind, Span.DAY)
        limits[kind] = Limit(
            stored[minute_key] if minute_key in stored else default.per_minute,
            stored[day_key] if day_key in stored else default.per_day,
        )
    return limits


async def set_limit(
    session: AsyncSession,
    product_instance_id: str,
    kind: QuotaKind,
    span: Span,
    max_calls: int | None,
) -> bool:
    """Give the instance its own limit (None: no limit); False when there is no such instance."""
    if max_calls is not None and max_calls < 0:
        raise ValueError("a quota is 0 or more calls")
    if await session.get(ProductInstance, product_instance_id) is None:
        return False
    row = await session.get(QuotaLimit, (product_instance_id, kind.value, span.value))
    if row is None:
        session.add(
            QuotaLimit(
                product_instance_id=product_instance_id,
                kind=kind.value,
                span=span.value,
                max_calls=max_calls,
            )
        )
    else:
        row.max_calls = max_calls
    await session.flush()
    return True


async def clear_limits(
    session: AsyncSession,
    product_instance_id: str,
    kind: QuotaKind | None = None,
    span: Span | None = None,
) -> int:
    """Remove the instance's own limits (of one kind, one span, or all): the gateway's apply
    again. Returns how many were removed."""
    statement = delete(QuotaLimit).where(QuotaLimit.product_instance_id == product_instance_id)
    if kind is not None:
        statement = statement.where(QuotaLimit.kind == kind.value)
    if span is not None:
        statement = statement.where(QuotaLimit.span == span.value)
    result = await session.execute(statement.execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


# --- counting ---


@dataclass(frozen=True, slots=True)
class Windows:
    """The windows a moment falls in."""

    minute_start: int  # Unix seconds
    into_minute: float  # the fraction of the minute gone, [0, 1)
    day_start: int  # Unix seconds of the IST midnight that began the day
    seconds_to_midnight: float

    @classmethod
    def at(cls, now: datetime) -> Windows:
        seconds = now.timestamp()
        minute_start = int(seconds // _MINUTE) * _MINUTE
        local = now.astimezone(IST)
        midnight = datetime.combine(local.date(), datetime.min.time(), IST)
        return cls(
            minute_start=minute_start,
            into_minute=(seconds - minute_start) / _MINUTE,
            day_start=int(midnight.timestamp()),
            seconds_to_midnight=(midnight + timedelta(days=1) - local).total_seconds(),
        )


def _count_statement(minute: bool, day: bool) -> TextClause:
    """The one statement that counts a call: this minute +1 and the previous one +0 (to read
    it) when there is a minute limit, today +1 when there is a day limit. Plain SQL, the same
    on PostgreSQL and SQLite (3.35+), built once so it is never compiled again per call."""
    rows = []
    if minute:
        rows += ["(:product_instance_id, :kind, 'minute', :previous, 0)"]
        rows += ["(:product_instance_id, :kind, 'minute', :current, 1)"]
    if day:
        rows += ["(:product_instance_id, :kind, 'day', :day, 1)"]
    return text(
        "INSERT INTO quota_counters (product_instance_id, kind, span, window_start, count) "
        f"VALUES {', '.join(rows)} "
        "ON CONFLICT (product_instance_id, kind, span, window_start) "
        "DO UPDATE SET count = quota_counters.count + excluded.count "
        "RETURNING span, window_start, count"
    )


_COUNT = {
    (minute, day): _count_statement(minute, day)
    for minute in (False, True)
    for day in (False, True)
    if minute or day
}


async def count_call(
    session: AsyncSession, product_instance_id: str, kind: QuotaKind, limit: Limit, now: datetime
) -> int | None:
    """Count one call in the windows `limit` needs. None when it fits; otherwise the whole
    seconds to wait (Retry-After), and the caller must roll the transaction back (the counts
    were raised). Flushes only; the caller commits."""
    windows = Windows.at(now)
    if limit.per_minute == 0:
        return _MINUTE
    if limit.per_day == 0:
        return _whole_seconds(windows.seconds_to_midnight)
    previous_minute = windows.minute_start - _MINUTE
    minute, day = limit.per_minute is not None, limit.per_day is not None
    if not minute and not day:
        return None
    key = {"product_instance_id": product_instance_id, "kind": kind.value}
    result = await session.execute(
        _COUNT[(minute, day)],
        {
            **key,
            "previous": previous_minute,
            "current": windows.minute_start,
            "day": windows.day_start,
        },
    )
    counts = {(span, start): count for span, start, count in result}

    waits: list[int] = []
    if limit.per_minute is not None:
        previous = counts[(Span.MINUTE.value, previous_minute)]
        current = counts[(Span.MINUTE.value, windows.minute_start)]  # this call included
        weighted = previous * (1.0 - windows.into_minute) + current
        if weighted > limit.per_minute:
            waits.append(_minute_wait(previous, current - 1, limit.per_minute, windows.into_minute))
        elif current == 1:
            # The minute's first call: the minutes before the previous one are not needed.
            await _drop_before(session, key, Span.MINUTE, previous_minute)
    if limit.per_day is not None:
        today = counts[(Span.DAY.value, windows.day_start)]
        if today > limit.per_day:
            waits.append(_whole_seconds(windows.seconds_to_midnight))
        elif today == 1:
            await _drop_before(session, key, Span.DAY, windows.day_start)
    return max(waits) if waits else None


async def _drop_before(
    session: AsyncSession, key: dict[str, Any], span: Span, window_start: int
) -> None:
    await session.execute(
        delete(QuotaCounter)
        .where(
            QuotaCounter.product_instance_id == key["product_instance_id"],
            QuotaCounter.kind == key["kind"],
            QuotaCounter.span == span.value,
            QuotaCounter.window_start < window_start,
        )
        .execution_options(synchronize_session=False)
    )


class _OverQuota(Exception):
    def __init__(self, seconds: int) -> None:
        super().__init__(seconds)
        self.seconds = seconds


class Quotas:
    """The quota check of a running gateway: each instance's limits, remembered for a while,
    and the shared counters."""

    def __init__(
        self,
        defaults: Mapping[QuotaKind, Limit],
        clock: Clock,
        metrics: GatewayMetrics | None = None,
        *,
        cache_seconds: float = 30.0,
        max_entries: int = 10_000,
    ) -> None:
        self._defaults = dict(defaults)
        self._clock = clock
        self._metrics = metrics
        self._cache_seconds = cache_seconds
        self._max_entries = max_entries
        # product instance id -> (when read, Unix seconds; its limits)
        self._limits: OrderedDict[str, tuple[float, dict[QuotaKind, Limit]]] = OrderedDict()

    async def limits(self, runtime: Runtime, product_instance_id: str) -> dict[QuotaKind, Limit]:
        now = self._clock.now().timestamp()
        cached = self._limits.get(product_instance_id)
        if cached is not None and now - cached[0] < self._cache_seconds:
            return cached[1]
        async with runtime.reading() as session:
            stored = await stored_limits(session, product_instance_id)
        limits = effective_limits(stored, self._defaults)
        self._limits[product_instance_id] = (now, limits)
        self._limits.move_to_end(product_instance_id)
        while len(self._limits) > self._max_entries:
            self._limits.popitem(last=False)
        return limits

    def forget(self) -> None:
        """Read every instance's limits again at its next call."""
        self._limits.clear()

    async def take(self, runtime: Runtime, product_instance_id: str, kind: QuotaKind) -> None:
        """Count one call of an authenticated product instance, or raise `RateLimited` (its
        Retry-After set) when the call is over one of its limits."""
        limit = (await self.limits(runtime, product_instance_id)).get(kind, NO_LIMIT)
        if not limit.any:
            return
        try:
            async with runtime.transaction() as session:
                wait = await count_call(
                    session, product_instance_id, kind, limit, self._clock.now()
                )
                if wait is not None:
                    raise _OverQuota(wait)  # rolls the counts back
        except _OverQuota as over:
            if self._metrics is not None:
                self._metrics.quota_refusals.labels(product_instance_id, kind.value).inc()
            record = current_call()
            if record is not None:
                record.quota = kind.value
            raise RateLimited(retry_after=over.seconds) from None


def _minute_wait(previous: int, current: int, per_minute: int, into: float) -> int:
    """Whole seconds until the sliding count leaves room for one more call, as the previous
    minute's weight fades: previous * (1 - t) + current + 1 <= per_minute, t the fraction of
    the minute gone. `current` excludes the refused call."""
    if per_minute <= 0:
        return _MINUTE
    if current + 1 <= per_minute and previous > 0:
        needed = 1.0 - (per_minute - current - 1) / previous
        return _whole_seconds((needed - into) * _MINUTE)
    # This minute alone is full: wait for it to become the previous one, then for its weight
    # to fade enough.
    needed_next = 1.0 - (per_minute - 1) / max(current, 1)
    return _whole_seconds((1.0 - into + needed_next) * _MINUTE)


def _whole_seconds(seconds: float) -> int:
    # Rounded first: 10.000000001 s of float error must not become an 11 s Retry-After.
    return max(1, math.ceil(round(seconds, 6)))
