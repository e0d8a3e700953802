"""Prometheus metrics (docs/operations.md §1), with `prometheus-client`.

Two kinds:

- counted as calls happen, in this process: API calls by route template, method and status,
  DigiLocker calls by operation and outcome, quota refusals, the circuit breakers' state. With
  several worker processes, set `PROMETHEUS_MULTIPROC_DIR` (before the process starts, as the
  library requires): every process writes its values there and any one of them answers
  `/metrics` with the sum.
- read from the database when scraped, so every process answers the same: the journey funnel
  per product instance, open requests, stored bytes, each job's last success, the webhook
  outbox (deliveries by status, the backlog's age, the last delivery).

Labels never carry request ids, personal data or caller-chosen values: the route is the
template (`/api/digilocker/{request_id}/status`), unmatched paths are `unmatched`, product
instance ids are those the gateway issued.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from digilocker_gateway.db.models import (
    JobLease,
    OfflineEkycFile,
    RequestRecord,
    StoredFile,
    WebhookDelivery,
    WebhookEvent,
)
from digilocker_gateway.requests.status import RequestStatus
from digilocker_gateway.runtime import Runtime

__all__ = ["CONTENT_TYPE_LATEST", "GatewayMetrics", "Snapshot", "read_snapshot"]

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"

# API calls are mostly database work (milliseconds); the ones that wait on DigiLocker take
# seconds, bounded by DLG_API_DEADLINE_SECONDS (20 s by default).
_HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0)
_UPSTREAM_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0)

# Why a journey stopped, from the request's failure code (requests/journey.py).
DENIED_CODE = "user_consent_not_given"
EXPIRED_CODE = "session_expired"


def multiprocess_enabled() -> bool:
    return bool(os.environ.get(MULTIPROCESS_ENV))


class GatewayMetrics:
    """The metrics one app records. Each app has its own registry (no module globals), so tests
    can build many apps in one process; in multiprocess mode the values go to the shared
    directory instead and `render` reads them all from there."""

    def __init__(self) -> None:
        self.multiprocess = multiprocess_enabled()
        registry = self.registry = CollectorRegistry(auto_describe=True)
        self.http_requests = Counter(
            "dlg_http_requests",
            "API calls answered, by route template, method and status.",
            ("route", "method", "status"),
            registry=registry,
        )
        self.http_duration = Histogram(
            "dlg_http_request_duration_seconds",
            "Time to answer an API call (until its last byte), by route template.",
            ("route", "method"),
            buckets=_HTTP_BUCKETS,
            registry=registry,
        )
        self.http_in_progress = Gauge(
            "dlg_http_requests_in_progress",
            "API calls being answered now.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.upstream_calls = Counter(
            "dlg_upstream_calls",
            "Calls to DigiLocker (each attempt), by operation and outcome.",
            ("operation", "outcome"),
            registry=registry,
        )
        self.upstream_duration = Histogram(
            "dlg_upstream_call_duration_seconds",
            "Time DigiLocker took to answer an attempt (until its headers), by operation.",
            ("operation",),
            buckets=_UPSTREAM_BUCKETS,
            registry=registry,
        )
        self.breaker_open = Gauge(
            "dlg_upstream_breaker_open",
            "1 while an operation's circuit breaker is open or half open in some process.",
            ("operation",),
            registry=registry,
            multiprocess_mode="max",
        )
        # Only counted with settings.database_statement_metrics (db/engine.py count_statements).
        self.db_statements = Counter(
            "dlg_db_statements", "SQL statements sent to the database.", registry=registry
        )
        self.db_commits = Counter(
            "dlg_db_commits", "Transactions committed on the database.", registry=registry
        )
        self.quota_refusals = Counter(
            "dlg_quota_refusals",
            "Calls refused with 429 by a product instance's quota, by kind of call.",
            ("product_instance", "kind"),
            registry=registry,
        )

    def render(self, snapshot: Snapshot | None) -> bytes:
        """The text exposition: this process's (or all processes') counters, then what was
        read from the database."""
        if self.multiprocess:
            combined = CollectorRegistry()
            MultiProcessCollector(combined)  # type: ignore[no-untyped-call]
            body = generate_latest(combined)
        else:
            body = generate_latest(self.registry)
        if snapshot is not None:
            database = CollectorRegistry(auto_describe=False)
            database.register(_SnapshotCollector(snapshot))
            body += generate_latest(database)
        return body

    def process_stopped(self) -> None:
        """Drop this process's live gauges from the shared directory (multiprocess mode)."""
        if self.multiprocess:
            mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


WEBHOOK_STATUSES = ("pending", "delivered", "failed")

FUNNEL_STAGES = (
    "created",
    "journey_opened",
    "authenticated",
    "denied",
    "failed",
    "expired",
    "revoked",
)


@dataclass(slots=True)
class Snapshot:
    """What the database says at scrape time."""

    funnel: dict[tuple[str, str], int] = field(default_factory=dict)  # (instance, stage)
    failures: dict[tuple[str, str], int] = field(default_factory=dict)  # (instance, code)
    open_requests: int = 0
    stored_bytes: dict[str, int] = field(default_factory=dict)  # kind -> bytes
    job_last_success: dict[str, float] = field(default_factory=dict)  # job -> UNIX seconds
    webhook_deliveries: dict[str, int] = field(default_factory=dict)  # status -> deliveries
    webhook_oldest_due_seconds: float = 0.0  # how long the longest-waiting due delivery waited
    webhook_last_delivered: float | None = None  # UNIX seconds


async def read_snapshot(runtime: Runtime) -> Snapshot:
    """Read the funnel and the stores' sizes: a few aggregate queries, in autocommit."""
    now = runtime.clock.now()
    journey_cutoff = now - timedelta(seconds=runtime.settings.journey_lifetime_seconds)
    record = RequestRecord
    snapshot = Snapshot()
    async with runtime.reading() as session:
        # Grouped by the output columns' names: PostgreSQL would not match the expressions,
        # as each carries its own bound parameter.
        opened_column = record.journey_started_at.is_not(None).label("opened")
        abandoned_column = (
            (record.journey_started_at < journey_cutoff) & record.callback_completed_at.is_(None)
        ).label("abandoned")
        past_column = (record.valid_upto <= now).label("past")
        columns = (record.product_instance_id, record.status, record.failure_code)
        rows = await session.execute(
            select(*columns, opened_column, abandoned_column, past_column, func.count()).group_by(
                *columns, opened_column, abandoned_column, past_column
            )
        )
        for instance, status, failure, opened, abandoned, past, count in rows:
            _add_to_funnel(snapshot, instance, status, failure, opened, abandoned or past, count)
            waiting = not (past or abandoned or failure is not None)
            if status == RequestStatus.UNAUTHENTICATED and waiting:
                snapshot.open_requests += count
        for kind, total in await session.execute(
            select(StoredFile.kind, func.coalesce(func.sum(StoredFile.size), 0)).group_by(
                StoredFile.kind
            )
        ):
            snapshot.stored_bytes[kind] = int(total)
        offline = await session.scalar(select(func.coalesce(func.sum(OfflineEkycFile.size), 0)))
        snapshot.stored_bytes["offline_ekyc"] = int(offline or 0)
        for name, ran_at in await session.execute(select(JobLease.name, JobLease.last_run_at)):
            if isinstance(ran_at, datetime):
                snapshot.job_last_success[name] = ran_at.timestamp()
        await _read_webhooks(session, snapshot, now)
    return snapshot


async def _read_webhooks(session: AsyncSession, snapshot: Snapshot, now: datetime) -> None:
    """The outbox: deliveries by status, how long the longest-waiting due one has been due
    (the backlog), and when one was last delivered (the delivery loop's last success)."""
    delivery = WebhookDelivery
    for status, count in await session.execute(
        select(delivery.status, func.count()).group_by(delivery.status)
    ):
        snapshot.webhook_deliveries[status] = int(count)
    oldest_due = await session.scalar(
        select(func.min(delivery.next_attempt_at)).where(
            delivery.status == "pending", delivery.next_attempt_at <= now
        )
    )
    # An event not fanned out yet waits as well: its deliveries will be due from its time.
    oldest_event = await session.scalar(
        select(func.min(WebhookEvent.created_at)).where(WebhookEvent.fanned_out.is_(False))
    )
    waiting = [when for when in (oldest_due, oldest_event) if isinstance(when, datetime)]
    if waiting:
        snapshot.webhook_oldest_due_seconds = max((now - min(waiting)).total_seconds(), 0.0)
    last = await session.scalar(select(func.max(delivery.delivered_at)))
    if isinstance(last, datetime):
        snapshot.webhook_last_delivered = last.timestamp()


def _add_to_funnel(
    snapshot: Snapshot,
    instance: str,
    status: str,
    failure: str | None,
    opened: bool | None,
    abandoned: bool | None,
    count: int,
) -> None:
    def add(stage: str) -> None:
        snapshot.funnel[(instance, stage)] = snapshot.funnel.get((instance, stage), 0) + count

    add("created")
    if opened:
        add("journey_opened")
    if status in (RequestStatus.AUTHENTICATED, RequestStatus.REVOKED):
        add("authenticated")
    if status == RequestStatus.REVOKED:
        add("revoked")
    if failure == DENIED_CODE:
        add("denied")
    elif failure == EXPIRED_CODE or (failure is None and abandoned and status == "unauthenticated"):
        add("expired")
    elif failure is not None:
        add("failed")
        key = (instance, failure)
        snapshot.failures[key] = snapshot.failures.get(key, 0) + count


class _SnapshotCollector(Collector):
    def __init__(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot

    def collect(self) -> list[GaugeMetricFamily]:
        snapshot = self._snapshot
        funnel = GaugeMetricFamily(
            "dlg_journey_requests",
            "Requests held (created within their lifetime, not yet purged) by product "
            "instance and the furthest stage they reached.",
            labels=("product_instance", "stage"),
        )
        instances = sorted({instance for instance, _ in snapshot.funnel})
        for instance in instances:
            for stage in FUNNEL_STAGES:
                funnel.add_metric((instance, stage), snapshot.funnel.get((instance, stage), 0))
        failures = GaugeMetricFamily(
            "dlg_journey_failures",
            "Requests held whose journey failed, by product instance and error code.",
            labels=("product_instance", "code"),
        )
        for (instance, code), count in sorted(snapshot.failures.items()):
            failures.add_metric((instance, code), count)
        open_requests = GaugeMetricFamily(
            "dlg_open_requests",
            "Requests still waiting for their user (unauthenticated, not failed, not expired).",
            value=snapshot.open_requests,
        )
        stored = GaugeMetricFamily(
            "dlg_stored_bytes", "Bytes of stored files, by kind.", labels=("kind",)
        )
        for kind, total in sorted(snapshot.stored_bytes.items()):
            stored.add_metric((kind,), total)
        jobs = GaugeMetricFamily(
            "dlg_job_last_success_timestamp_seconds",
            "When each background job last ran to the end (UNIX seconds).",
            labels=("job",),
        )
        for name, when in sorted(snapshot.job_last_success.items()):
            jobs.add_metric((name,), when)
        if snapshot.webhook_last_delivered is not None:
            jobs.add_metric(("webhooks.deliver",), snapshot.webhook_last_delivered)
        deliveries = GaugeMetricFamily(
            "dlg_webhook_deliveries",
            "Webhook deliveries held, by status (pending, delivered, failed).",
            labels=("status",),
        )
        for status in WEBHOOK_STATUSES:
            deliveries.add_metric((status,), snapshot.webhook_deliveries.get(status, 0))
        backlog = GaugeMetricFamily(
            "dlg_webhook_backlog_seconds",
            "How long the longest-waiting due webhook delivery (or event not fanned out yet) has"
            " waited (0: none waits).",
            value=snapshot.webhook_oldest_due_seconds,
        )
        return [funnel, failures, open_requests, stored, jobs, deliveries, backlog]
