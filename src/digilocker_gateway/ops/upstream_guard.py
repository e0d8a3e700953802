"""The `CallObserver` the runtime gives every `DigiLockerClient`: counts each attempt by
operation and outcome, times it, feeds the operation's circuit breaker, and fails a call fast
when its breaker is open (docs/operations.md §1, §4)."""

from __future__ import annotations

import asyncio
import logging
import math

import httpx

from digilocker_gateway.ops.breaker import Breakers, BreakerState
from digilocker_gateway.ops.calls import current_call
from digilocker_gateway.ops.metrics import GatewayMetrics
from digilocker_gateway.upstream.errors import (
    UpstreamTimeout,
    UpstreamTransportError,
    UpstreamUnavailable,
)

logger = logging.getLogger("digilocker_gateway.ops")


def outcome_of(response: httpx.Response | None, failure: BaseException | None) -> str:
    """A bounded name for how an attempt ended."""
    if response is not None:
        status = response.status_code
        if status < 400:
            return "ok"
        if status == 429:
            return "rate_limited"
        if status >= 500:
            return "server_error"
        return "refused"  # DigiLocker's 4xx about this one request: it is working
    if isinstance(failure, asyncio.CancelledError):
        return "cancelled"
    if isinstance(failure, UpstreamTimeout):
        return "timeout"
    if isinstance(failure, UpstreamTransportError):
        return "transport_error"
    return "error"


_BREAKER_FAILURES = frozenset({"rate_limited", "server_error", "timeout", "transport_error"})


def _retry_after(response: httpx.Response | None) -> float | None:
    """DigiLocker's own Retry-After on a 429 (seconds form; an HTTP date is read as absent)."""
    if response is None or response.status_code != 429:
        return None
    value = response.headers.get("retry-after", "").strip()
    if value.isdigit():
        return float(min(int(value), 3600))
    return 0.0  # a 429 without a usable Retry-After still opens the breaker for open_seconds


class UpstreamGuard:
    def __init__(self, metrics: GatewayMetrics | None, breakers: Breakers) -> None:
        self._metrics = metrics
        self._breakers = breakers

    @property
    def breakers(self) -> Breakers:
        return self._breakers

    def admit(self, operation: str) -> None:
        if not self._breakers.enabled:
            return
        wait = self._breakers.of(operation).admit()
        if wait is None:
            return
        seconds = max(1, math.ceil(wait))
        if self._metrics is not None:
            self._metrics.upstream_calls.labels(operation, "rejected").inc()
        record = current_call()
        if record is not None:
            record.upstream.append(f"{operation}:rejected")
            record.retry_after = max(record.retry_after or 0, seconds)
        raise UpstreamUnavailable(operation, seconds)

    def finished(
        self,
        operation: str,
        seconds: float,
        response: httpx.Response | None,
        failure: BaseException | None,
    ) -> None:
        outcome = outcome_of(response, failure)
        metrics = self._metrics
        if metrics is not None:
            metrics.upstream_calls.labels(operation, outcome).inc()
            metrics.upstream_duration.labels(operation).observe(seconds)
        record = current_call()
        if record is not None:
            record.upstream.append(f"{operation}:{outcome}")
            record.upstream_seconds += seconds
        if not self._breakers.enabled or outcome == "cancelled":
            return
        breaker = self._breakers.of(operation)
        before = breaker.state
        if outcome in _BREAKER_FAILURES:
            breaker.failed(retry_after=_retry_after(response))
        else:
            breaker.succeeded()
        if breaker.state is not before:
            logger.warning("DigiLocker %s: circuit breaker %s", operation, breaker.state.value)
            if metrics is not None:
                metrics.breaker_open.labels(operation).set(
                    0 if breaker.state is BreakerState.CLOSED else 1
                )
