"""Deliver the outbox (docs/webhooks.md §4): any process claims due deliveries, POSTs them
signed, and records each attempt; a failure is retried with exponential backoff and jitter
until the retry window has passed, then the delivery is marked failed.

- Claims: a due row is selected FOR UPDATE SKIP LOCKED (PostgreSQL) and marked claimed by this
  process for `webhook_claim_seconds` with a conditional UPDATE (the same on SQLite), then the
  claim commits. No database lock is held while a receiver answers; a process that dies holding
  a claim leaves a row another process sends once the claim has run out (at least once).
- Order per request: a delivery is due only when no earlier delivery of the same request to
  the same endpoint is still pending, so a receiver sees a request's events in order.
- Retries live in the rows (`next_attempt_at`), so they survive restarts.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

import httpx
from sqlalchemy import and_, delete, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from digilocker_gateway import __version__
from digilocker_gateway.audit.log import GATEWAY_ACTOR, WEBHOOK_ENDPOINT_DISABLED, append
from digilocker_gateway.db.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from digilocker_gateway.kit.text import printable_prefix
from digilocker_gateway.runtime import Runtime
from digilocker_gateway.webhooks.events import DELIVERED, FAILED, PENDING, fan_out
from digilocker_gateway.webhooks.service import signing_secrets
from digilocker_gateway.webhooks.signing import signature_headers
from digilocker_gateway.webhooks.targets import UnsafeTarget, parse_networks, resolve

logger = logging.getLogger("digilocker_gateway.webhooks")

USER_AGENT = f"digilocker-gateway-webhooks/{__version__}"
EXCERPT_CHARS = 200


@dataclass(frozen=True, slots=True)
class Claimed:
    delivery_id: int
    url: str
    signing_secrets: list[str]
    message_id: str
    body: str


@dataclass(frozen=True, slots=True)
class Outcome:
    status_code: int | None
    latency_ms: int
    error: str | None = None
    excerpt: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def backoff_seconds(attempts: int, *, base: float, cap: float) -> float:
    """Exponential backoff with jitter: between half and all of base·2^(attempts-1), capped."""
    delay = min(cap, base * 2 ** max(attempts - 1, 0))
    return random.uniform(delay / 2, delay)


def http_client(runtime: Runtime) -> httpx.AsyncClient:
    """The client deliveries go through: no redirects followed (a receiver cannot bounce the
    gateway to another address), no proxies from the environment, bounded time."""
    timeout = runtime.settings.webhook_timeout_seconds
    return httpx.AsyncClient(
        follow_redirects=False,
        trust_env=False,
        timeout=httpx.Timeout(timeout),
        headers={"user-agent": USER_AGENT},
    )


# Events fanned out per transaction, and at most this many transactions before each claim, so
# a steady stream of new events cannot keep the loop from sending.
FAN_OUT_BATCH = 500
FAN_OUT_BATCHES_PER_CLAIM = 10


async def claim_due(runtime: Runtime, *, limit: int) -> list[Claimed]:
    """Fan out the events written since the last claim, then claim up to `limit` due
    deliveries for this process."""
    settings = runtime.settings
    for _ in range(FAN_OUT_BATCHES_PER_CLAIM):
        # One transaction per batch of events, so a long backlog is not one long lock. A
        # failed fan-out (an endpoint deleted meanwhile, the database away for a moment) is
        # tried again at the next claim; deliveries already due are still claimed now.
        try:
            async with runtime.transaction() as session:
                taken = await fan_out(session, now=runtime.clock.now(), limit=FAN_OUT_BATCH)
        except Exception as exc:
            logger.warning("webhook fan-out failed: %s", type(exc).__name__)
            break
        if taken < FAN_OUT_BATCH:
            break
    now = runtime.clock.now()
    earlier = aliased(WebhookDelivery)
    async with runtime.transaction() as session:
        ids = list(
            await session.scalars(
                select(WebhookDelivery.id)
                .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                .where(
                    WebhookDelivery.status == PENDING,
                    WebhookDelivery.next_attempt_at <= now,
                    or_(
                        WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until < now
                    ),
                    WebhookEndpoint.enabled.is_(True),
                    ~exists().where(
                        and_(
                            earlier.endpoint_id == WebhookDelivery.endpoint_id,
                            earlier.request_id == WebhookDelivery.request_id,
                            earlier.status == PENDING,
                            earlier.id < WebhookDelivery.id,
                        )
                    ),
                )
                .order_by(WebhookDelivery.id)
                .limit(limit)
                .with_for_update(skip_locked=True, of=WebhookDelivery)
            )
        )
        if not ids:
            return []
        # A claim of its own, not just this process's id: two loops of one process never
        # send the same row.
        claim = f"{runtime.worker_id[:60]}:{uuid.uuid4().hex[:12]}"
        await session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id.in_(ids),
                WebhookDelivery.status == PENDING,
                or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until < now),
            )
            .values(
                claimed_until=now + timedelta(seconds=settings.webhook_claim_seconds),
                claimed_by=claim,
            )
            .execution_options(synchronize_session=False)
        )
        found = (
            await session.execute(
                select(WebhookDelivery.id, WebhookEndpoint, WebhookEvent.id, WebhookEvent.payload)
                .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                .join(WebhookEvent, WebhookEvent.seq == WebhookDelivery.event_seq)
                .where(WebhookDelivery.id.in_(ids), WebhookDelivery.claimed_by == claim)
                .order_by(WebhookDelivery.id)
            )
        ).all()
        return [
            Claimed(
                delivery_id,
                endpoint.url,
                signing_secrets(endpoint, runtime.sealed, now),
                message_id,
                payload,
            )
            for delivery_id, endpoint, message_id, payload in found
        ]


async def send(runtime: Runtime, http: httpx.AsyncClient, claimed: Claimed) -> Outcome:
    """One attempt: refused targets, timeouts and connection errors are failed attempts."""
    settings = runtime.settings
    started = time.perf_counter()

    def elapsed_ms() -> int:
        return int((time.perf_counter() - started) * 1000)

    try:
        target = await resolve(
            claimed.url,
            development=settings.environment == "dev",
            allowed_networks=parse_networks(settings.webhook_allowed_networks),
        )
    except UnsafeTarget as exc:
        return Outcome(None, elapsed_ms(), f"refused: url {exc}")
    headers = signature_headers(
        claimed.signing_secrets,
        message_id=claimed.message_id,
        sent_at=runtime.clock.now(),
        body=claimed.body,
    )
    headers["content-type"] = "application/json"
    headers["host"] = target.host_header
    extensions = {"sni_hostname": target.server_name} if target.server_name else {}
    try:
        async with asyncio.timeout(settings.webhook_timeout_seconds):
            async with http.stream(
                "POST",
                target.url,
                content=claimed.body.encode(),
                headers=headers,
                extensions=extensions,
            ) as response:
                excerpt = await _read_bounded(response, settings.webhook_max_response_bytes)
    except TimeoutError:
        return Outcome(None, elapsed_ms(), "timeout")
    except httpx.HTTPError as exc:
        return Outcome(None, elapsed_ms(), f"connection failed: {type(exc).__name__}")
    return Outcome(response.status_code, elapsed_ms(), None, excerpt)


async def _read_bounded(response: httpx.Response, max_bytes: int) -> str | None:
    """At most `max_bytes` of the answer are read; a short excerpt of it is kept."""
    read = bytearray()
    async for chunk in response.aiter_raw():
        read.extend(chunk[: max_bytes - len(read)])
        if len(read) >= max_bytes:
            break
    text = printable_prefix(read.decode("utf-8", errors="replace"), EXCERPT_CHARS)
    return text or None


async def record(
    runtime: Runtime, session: AsyncSession, claimed: Claimed, outcome: Outcome
) -> None:
    """Keep one attempt's outcome: delivered, retried later, or failed for good."""
    settings = runtime.settings
    now = runtime.clock.now()
    delivery = await session.get(WebhookDelivery, claimed.delivery_id, with_for_update=True)
    if delivery is None or delivery.status != PENDING:
        return  # its endpoint was deleted meanwhile, or another process took it over
    session.add(
        WebhookAttempt(
            delivery_id=delivery.id,
            attempted_at=now,
            status_code=outcome.status_code,
            latency_ms=outcome.latency_ms,
            error=outcome.error,
            response_excerpt=outcome.excerpt,
        )
    )
    delivery.attempts += 1
    delivery.claimed_until = None
    delivery.claimed_by = None
    delivery.last_status_code = outcome.status_code
    delivery.last_error = outcome.error
    if outcome.succeeded:
        delivery.status = DELIVERED
        delivery.delivered_at = now
        await session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == delivery.endpoint_id)
            .values(consecutive_failures=0)
            .execution_options(synchronize_session=False)
        )
        return
    delay = backoff_seconds(
        delivery.attempts,
        base=settings.webhook_backoff_base_seconds,
        cap=settings.webhook_backoff_max_seconds,
    )
    window_end = delivery.created_at + timedelta(seconds=settings.webhook_retry_window_seconds)
    if now + timedelta(seconds=delay) > window_end:
        delivery.status = FAILED
    else:
        delivery.next_attempt_at = now + timedelta(seconds=delay)
    failures, enabled, product_instance_id = (
        await session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == delivery.endpoint_id)
            .values(consecutive_failures=WebhookEndpoint.consecutive_failures + 1)
            .returning(
                WebhookEndpoint.consecutive_failures,
                WebhookEndpoint.enabled,
                WebhookEndpoint.product_instance_id,
            )
            .execution_options(synchronize_session=False)
        )
    ).one()
    limit = settings.webhook_disable_after_failures
    if limit and enabled and failures >= limit:
        reason = f"disabled after {failures} failed attempts in a row"
        await session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == delivery.endpoint_id)
            .values(enabled=False, disabled_reason=reason, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        await append(
            session,
            runtime.keyring,
            product_instance_id=product_instance_id,
            request_id=None,
            action=WEBHOOK_ENDPOINT_DISABLED,
            actor=GATEWAY_ACTOR,
            details={"endpointId": delivery.endpoint_id, "failures": failures},
            now=now,
            heads=runtime.audit_heads,
        )
        logger.warning("webhook endpoint %s %s", delivery.endpoint_id, reason)


async def deliver_due(runtime: Runtime, http: httpx.AsyncClient) -> int:
    """Claim one batch of due deliveries, send them concurrently, record them; how many."""
    claimed = await claim_due(runtime, limit=runtime.settings.webhook_batch_size)
    if not claimed:
        return 0
    outcomes = await asyncio.gather(*(send(runtime, http, item) for item in claimed))
    # One transaction for the batch: one commit instead of one per delivery. If it fails, the
    # claims run out and the batch is sent again (at least once).
    async with runtime.transaction() as session:
        for item, outcome in zip(claimed, outcomes, strict=True):
            await record(runtime, session, item, outcome)
    return len(claimed)


async def deliver_until_idle(runtime: Runtime, *, max_batches: int = 1000) -> int:
    """Deliver everything due now (the CLI, tests); how many attempts were made."""
    sent = 0
    async with http_client(runtime) as http:
        for _ in range(max_batches):
            batch = await deliver_due(runtime, http)
            sent += batch
            if batch == 0:
                break
    return sent


async def delivery_loop(runtime: Runtime) -> None:
    """The background job every process runs: deliver while there is work, else poll."""
    async with http_client(runtime) as http:
        while True:
            try:
                sent = await deliver_due(runtime, http)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database may be away for a moment: poll again
                logger.warning("webhook delivery failed: %s", type(exc).__name__)
                sent = 0
            if sent == 0:
                await asyncio.sleep(runtime.settings.webhook_poll_seconds)


async def prune_events(runtime: Runtime) -> int:
    """Drop events past the retention whose deliveries are all finished (delivered or failed)."""
    cut_off = runtime.clock.now() - timedelta(days=runtime.settings.webhook_event_retention_days)
    async with runtime.transaction() as session:
        result = await session.execute(
            delete(WebhookEvent).where(
                WebhookEvent.created_at < cut_off,
                WebhookEvent.fanned_out.is_(True),
                ~exists().where(
                    WebhookDelivery.event_seq == WebhookEvent.seq,
                    WebhookDelivery.status == PENDING,
                ),
            )
        )
    return int(getattr(result, "rowcount", 0) or 0)
