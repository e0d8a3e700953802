"""Operations (docs/operations.md): Prometheus metrics, structured access logs, quotas per
product instance and a circuit breaker per DigiLocker operation, built from `Settings` by
`build_operations` and wired in by app.py.

- `metrics`: the metrics and what is read from the database at scrape time.
- `logs`: the structured formatter every log record goes through.
- `middleware`: the metrics and the access-log line of each call.
- `quotas`, `quota_deps`: limits and shared counters per product instance and kind of call,
  and the dependency that checks them after authentication.
- `breaker`, `upstream_guard`: the breakers, and the observer of every DigiLocker call.
- `tracing`: OpenTelemetry spans, imported by app.py only when `DLG_OTEL_ENABLED`.
- `endpoints`: `/metrics`.
"""

from __future__ import annotations

from dataclasses import dataclass

from digilocker_gateway.config import Settings
from digilocker_gateway.kit.clock import Clock
from digilocker_gateway.ops.breaker import Breakers
from digilocker_gateway.ops.metrics import GatewayMetrics
from digilocker_gateway.ops.middleware import OperationsConfig
from digilocker_gateway.ops.quotas import Quotas, default_limits
from digilocker_gateway.ops.upstream_guard import UpstreamGuard

__all__ = ["Operations", "build_operations"]


@dataclass(frozen=True, slots=True)
class Operations:
    metrics: GatewayMetrics | None
    breakers: Breakers
    guard: UpstreamGuard
    quotas: Quotas
    access_log: bool

    @property
    def middleware_config(self) -> OperationsConfig:
        return OperationsConfig(self.metrics, access_log=self.access_log)


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
        quotas=Quotas(default_limits(settings), clock, metrics),
        access_log=settings.access_log,
    )
