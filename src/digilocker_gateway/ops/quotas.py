"""Quotas per product instance (docs/operations.md §3): a rate per minute and a maximum per
day, for each kind of call, kept in this process's memory.

A small counter of our own rather than the `limits` library: the counters must run on the
gateway's `Clock` (tests move time; `limits` reads `time.time()`), and a call that turns out not
to be the product instance's (a wrong secret, answered 401) must give its unit back, so a caller
who only knows an instance id cannot spend that instance's quota.

The minute rate is a sliding-window counter (this minute's count plus the previous minute's,
weighted by how much of it still lies within the last 60 seconds), so a burst across a minute
boundary cannot pass twice the rate. The day is India's calendar day (midnight IST), the day
DigiLocker's and Setu's users reckon in.

Counters live in one process: with N gateway processes each enforces the limits on its own
share of the calls (docs/operations.md §3 says how to size them).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import StrEnum

from digilocker_gateway.kit.clock import Clock

IST = timezone(timedelta(hours=5, minutes=30))
_MINUTE = 60.0


class QuotaKind(StrEnum):
    CREATE = "create"  # POST /api/digilocker
    FETCH = "fetch"  # fetch document, fetch Aadhaar: each one or more DigiLocker calls
    STATUS = "status"  # GET /api/digilocker/{id}/status: the account check


_ID = r"[^/]+"
_ROUTES: tuple[tuple[str, re.Pattern[str], QuotaKind], ...] = (
    ("POST", re.compile(r"/api/digilocker/?"), QuotaKind.CREATE),
    ("POST", re.compile(rf"/api/digilocker/{_ID}/document/?"), QuotaKind.FETCH),
    ("GET", re.compile(rf"/api/digilocker/{_ID}/aadhaar/?"), QuotaKind.FETCH),
    ("GET", re.compile(rf"/api/digilocker/{_ID}/status/?"), QuotaKind.STATUS),
)


def kind_of(method: str, path: str) -> QuotaKind | None:
    """The quota a call counts against, if any. Revoke never does: a business must always be
    able to take access back."""
    for route_method, pattern, kind in _ROUTES:
        if method == route_method and pattern.fullmatch(path):
            return kind
    return None


@dataclass(frozen=True, slots=True)
class Limit:
    per_minute: int | None = None
    per_day: int | None = None


@dataclass(frozen=True, slots=True)
class QuotaPolicy:
    """The limits of each kind, with per-product-instance overrides."""

    defaults: Mapping[QuotaKind, Limit]
    overrides: Mapping[str, Mapping[QuotaKind, Limit]] = field(default_factory=dict)

    def limit(self, product_instance_id: str, kind: QuotaKind) -> Limit:
        own = self.overrides.get(product_instance_id)
        if own is not None and kind in own:
            return own[kind]
        return self.defaults.get(kind, Limit())

    @property
    def any(self) -> bool:
        limits = [*self.defaults.values()]
        for own in self.overrides.values():
            limits.extend(own.values())
        return any(lim.per_minute is not None or lim.per_day is not None for lim in limits)


@dataclass(frozen=True, slots=True)
class Taken:
    """A unit taken from a quota; `give_back` returns it."""

    key: tuple[str, QuotaKind]
    minute: int
    day: int


class QuotaCounters:
    """Counts calls per (product instance, kind) and refuses those over the limit."""

    def __init__(self, policy: QuotaPolicy, clock: Clock) -> None:
        self._policy = policy
        self._clock = clock
        # key -> {minute index: count} (the current and previous minute only)
        self._minutes: dict[tuple[str, QuotaKind], dict[int, int]] = {}
        # key -> (IST day ordinal, count)
        self._days: dict[tuple[str, QuotaKind], tuple[int, int]] = {}

    @property
    def enabled(self) -> bool:
        return self._policy.any

    def take(self, product_instance_id: str, kind: QuotaKind) -> Taken | int:
        """Take one unit: the `Taken` on success, else the whole seconds to wait (Retry-After)."""
        limit = self._policy.limit(product_instance_id, kind)
        now = self._clock.now()
        seconds = now.timestamp()
        minute = int(seconds // _MINUTE)
        local = now.astimezone(IST)
        day = local.toordinal()
        key = (product_instance_id, kind)

        minutes = self._minutes.setdefault(key, {})
        for old in [m for m in minutes if m < minute - 1]:
            del minutes[old]
        current = minutes.get(minute, 0)
        if limit.per_minute is not None:
            into = (seconds - minute * _MINUTE) / _MINUTE
            weighted = minutes.get(minute - 1, 0) * (1.0 - into) + current
            if weighted + 1 > limit.per_minute:
                previous = minutes.get(minute - 1, 0)
                return _minute_wait(previous, current, limit.per_minute, into)
        stored_day, day_count = self._days.get(key, (day, 0))
        if stored_day != day:
            day_count = 0
        if limit.per_day is not None and day_count + 1 > limit.per_day:
            midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), IST)
            return _whole_seconds((midnight - local).total_seconds())
        minutes[minute] = current + 1
        self._days[key] = (day, day_count + 1)
        return Taken(key, minute, day)

    def give_back(self, taken: Taken) -> None:
        minutes = self._minutes.get(taken.key)
        if minutes is not None and minutes.get(taken.minute, 0) > 0:
            minutes[taken.minute] -= 1
        stored = self._days.get(taken.key)
        if stored is not None and stored[0] == taken.day and stored[1] > 0:
            self._days[taken.key] = (stored[0], stored[1] - 1)
        # Counters left at nothing are dropped: calls naming made-up instance ids (all
        # answered 401 and given back) must not grow this process's memory.
        if not any((minutes or {}).values()) and self._days.get(taken.key, (0, 0))[1] == 0:
            self._minutes.pop(taken.key, None)
            self._days.pop(taken.key, None)

    def __len__(self) -> int:
        return len(self._minutes.keys() | self._days.keys())


def _minute_wait(previous: int, current: int, per_minute: int, into: float) -> int:
    """Whole seconds until the sliding count leaves room for one more call, as the previous
    minute's weight fades: previous * (1 - t) + current + 1 <= per_minute, t the fraction of
    the minute gone."""
    if per_minute <= 0:
        return int(_MINUTE)
    if current + 1 <= per_minute:
        needed = 1.0 - (per_minute - current - 1) / previous
        return _whole_seconds((needed - into) * _MINUTE)
    # This minute alone is full: wait for it to become the previous one, then for its weight
    # to fade enough.
    needed_next = 1.0 - (per_minute - 1) / current
    return _whole_seconds((1.0 - into + needed_next) * _MINUTE)


def _whole_seconds(seconds: float) -> int:
    # Rounded first: 10.000000001 s of float error must not become an 11 s Retry-After.
    return max(1, math.ceil(round(seconds, 6)))
