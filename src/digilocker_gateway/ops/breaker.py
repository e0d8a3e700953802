"""A circuit breaker per DigiLocker operation (docs/operations.md §4).

A small state machine rather than a library: the gateway's upstream calls already run through
one hook (`upstream.client.CallObserver`), the breaker must read DigiLocker's own `Retry-After`
and must run on a clock the tests move. The well-known asyncio breakers (`aiobreaker`,
`purgatory`) wrap a callable and take neither.

```
closed ──(threshold consecutive failures, or a 429)──▶ open
open ──(open_seconds, or DigiLocker's Retry-After, pass)──▶ half_open
half_open ──(the one trial call succeeds)──▶ closed
half_open ──(the trial call fails)──▶ open
```

A failure is what says DigiLocker is in trouble: a 5xx (v2.4's 530 included), a 429, a timeout
or a broken connection. DigiLocker's 4xx answers about one request (`invalid_token`,
`record_not_found`) show it is working, and count as successes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(slots=True)
class CircuitBreaker:
    """One operation's breaker. `now` gives monotonic seconds."""

    failure_threshold: int
    open_seconds: float
    now: Callable[[], float] = time.monotonic
    state: BreakerState = BreakerState.CLOSED
    failures: int = 0
    _open_until: float = 0.0
    # When the half-open trial call began; None while none runs. A trial that never reports
    # (its caller was cancelled) stops blocking others after open_seconds.
    _trial_started: float | None = field(default=None)

    def admit(self) -> float | None:
        """None when a call may go now; otherwise the seconds until one may (Retry-After)."""
        if self.state is BreakerState.CLOSED:
            return None
        now = self.now()
        if self.state is BreakerState.OPEN:
            if now < self._open_until:
                return self._open_until - now
            self.state = BreakerState.HALF_OPEN
            self._trial_started = None
        # Half open: one trial call at a time; the others fail fast until it answers.
        started = self._trial_started
        if started is not None and now - started < self.open_seconds:
            return started + self.open_seconds - now
        self._trial_started = now
        return None

    def succeeded(self) -> None:
        self.state = BreakerState.CLOSED
        self.failures = 0
        self._trial_started = None

    def failed(self, *, retry_after: float | None = None) -> None:
        """A failed call. `retry_after`: DigiLocker asked us to wait (its 429's Retry-After),
        which opens the breaker at once for at least that long."""
        self.failures += 1
        self._trial_started = None
        if (
            self.state is BreakerState.HALF_OPEN
            or retry_after is not None
            or self.failures >= self.failure_threshold
        ):
            wait = max(self.open_seconds, retry_after or 0.0)
            self.state = BreakerState.OPEN
            self._open_until = self.now() + wait


@dataclass(slots=True)
class Breakers:
    """The breakers of every operation, made on first use (operations are a fixed, small set:
    the names `DigiLockerClient` gives its calls)."""

    failure_threshold: int
    open_seconds: float
    now: Callable[[], float] = time.monotonic
    enabled: bool = True
    _by_operation: dict[str, CircuitBreaker] = field(default_factory=dict)

    def of(self, operation: str) -> CircuitBreaker:
        breaker = self._by_operation.get(operation)
        if breaker is None:
            breaker = CircuitBreaker(self.failure_threshold, self.open_seconds, now=self.now)
            self._by_operation[operation] = breaker
        return breaker

    def states(self) -> dict[str, str]:
        """Each operation's state, for /readyz and the metrics."""
        return {name: breaker.state.value for name, breaker in sorted(self._by_operation.items())}
