"""Operations (docs/operations.md): Prometheus metrics, structured access logs, quotas per
product instance and a circuit breaker per DigiLocker operation, built from `Settings` by
`build_operations` and wired in by app.py.

- `metrics`: the metrics and what is read from the database at scrape time.
- `logs`: the structured formatter every log record goes through.
- `middleware`: the quota check, the metrics and the access-log line of each call.
- `quotas`: counters per product instance and kind of call.
- `breaker`, `upstream_guard`: the breakers, and the observer of every DigiLocker call.
- `endpoints`: `/metrics`.
"""

from __future__ import annotations

from dataclasses import dataclass

from digilocker_gateway.config import Settings
from digilocker_gateway.kit.clock import Clock
from digilocker_gateway.ops.breaker import Breakers
from digilocker_gateway.ops.metrics import GatewayMetrics
from digilocker_gateway.ops.middleware import OperationsConfig
from digilocker_gateway.ops.quotas import Limit, QuotaCounters, QuotaKind, QuotaPolicy
from digilocker_gateway.ops.upstream_guard import UpstreamGuard

__all__ = ["Operations", "build_operations", "quota_policy"]


@dataclass(frozen=True, slots=True)
class Operations:
    metrics: GatewayMetrics | None
    breakers: Breakers
    guard: UpstreamGuard
    quotas: QuotaCounters
    access_log: bool

    @property
    def middleware_config(self) -> OperationsConfig:
        return OperationsConfig(self.metrics, self.quotas, access_log=self.access_log)


def quota_policy(settings: Settings) -> QuotaPolicy:
    def limit(kind: QuotaKind, values: dict[str, int | None]) -> Limit:
        return Limit(values.get(f"{kind.value}_per_minute"), values.get(f"{kind.value}_per_day"))

    defaults: dict[str, int | None] = {
        "create_per_minute": settings.quota_create_per_minute,
        "create_per_day": settings.quota_create_per_day,
        "fetch_per_minute": settings.quota_fetch_per_minute,
        "fetch_per_day": settings.quota_fetch_per_day,
        "status_per_minute": settings.quota_status_per_minute,
        "status_per_day": settings.quota_status_per_day,
    }
    overrides = {
        instance: {kind: limit(kind, {**defaults, **dict(own)}) for kind in QuotaKind}
        for instance, own in settings.quota_overrides.items()
    }
    return QuotaPolicy({kind: limit(kind, defaults) for kind in QuotaKind}, overrides)


def build_operations(settings: Settings, clock: Clock) -> Operations:
    metrics = GatewayMetrics() if settings.metrics_enabled else None
    breakers = Breakers(
        failure_threshold=settings.upstream_breaker_failure_threshold,
        open_seconds=settings.upstream_breaker_open_seconds,
        now=lambda: clock.now().timestamp(),
        enabled=settings.upstream_breaker_enabled,
    )
    return Operations(
        metrics=metrics,
        breakers=breakers,
        guard=UpstreamGuard(metrics, breakers),
        quotas=QuotaCounters(quota_policy(settings), clock),
        access_log=settings.access_log,
    )
