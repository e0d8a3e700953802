"""Webhook endpoints of a product instance — create, list, change, delete, rotate the secret —
and their deliveries: list and replay. Used by the API (webhooks/endpoints.py) and the CLI
alike; services only flush (docs/architecture.md §3)."""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from digilocker_gateway.db.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from digilocker_gateway.errors import InvalidPayload, NotFound
from digilocker_gateway.kit.timefmt import to_ist_iso
from digilocker_gateway.storage.sealed import (
    WEBHOOK_PREVIOUS_SECRET,
    WEBHOOK_SECRET,
    SealedValues,
)
from digilocker_gateway.webhooks.events import EVENT_TYPES, FAILED, new_delivery, wants
from digilocker_gateway.webhooks.signing import new_secret
from digilocker_gateway.webhooks.targets import UnsafeTarget, address_problem, check_url

MAX_ENDPOINTS_PER_INSTANCE = 20


class WebhookEndpointNotFound(NotFound):
    detail = "No such webhook endpoint."


def checked_url(url: str, *, development: bool) -> str:
    """The URL's scheme and form are checked when it is set; its addresses at every attempt
    (a name can be pointed elsewhere later)."""
    url = url.strip()
    try:
        _, host, _ = check_url(url, development=development)
    except UnsafeTarget as exc:
        raise InvalidPayload(f"url {exc}.") from None
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return url
    problem = address_problem(literal, development=development)
    if problem is not None:
        raise InvalidPayload(f"url points at {problem}.")
    return url


def checked_event_types(event_types: Sequence[str] | None) -> str:
    chosen = list(dict.fromkeys(event_types or ()))
    unknown = [name for name in chosen if name not in EVENT_TYPES]
    if unknown:
        raise InvalidPayload(
            f"Unknown event type(s): {', '.join(unknown)}; known: {', '.join(EVENT_TYPES)}."
        )
    return ",".join(chosen)


def endpoint_view(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """An endpoint as the API shows it: never its secret."""
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "eventTypes": [name for name in endpoint.event_types.split(",") if name],
        "enabled": endpoint.enabled,
        "disabledReason": endpoint.disabled_reason,
        "previousSecretExpiresAt": (
            to_ist_iso(endpoint.previous_secret_expires_at)
            if endpoint.previous_secret_expires_at is not None
            else None
        ),
        "createdAt": to_ist_iso(endpoint.created_at),
    }


@dataclass(frozen=True, slots=True)
class EndpointWithSecret:
    endpoint: WebhookEndpoint
    secret: str  # shown once, now; stored only sealed


async def create_endpoint(
    session: AsyncSession,
    *,
    product_instance_id: str,
    url: str,
    event_types: Sequence[str] | None,
    enabled: bool,
    sealed: SealedValues,
    now: datetime,
    development: bool,
) -> EndpointWithSecret:
    count = len(
        (
            await session.scalars(
                select(WebhookEndpoint.id).where(
                    WebhookEndpoint.product_instance_id == product_instance_id
                )
            )
        ).all()
    )
    if count >= MAX_ENDPOINTS_PER_INSTANCE:
        raise InvalidPayload(f"At most {MAX_ENDPOINTS_PER_INSTANCE} webhook endpoints.")
    endpoint_id = str(uuid.uuid4())
    secret = new_secret()
    endpoint = WebhookEndpoint(
        id=endpoint_id,
        product_instance_id=product_instance_id,
        url=checked_url(url, development=development),
        event_types=checked_event_types(event_types),
        enabled=enabled,
        secret_enc=sealed.seal(WEBHOOK_SECRET, endpoint_id, secret),
        consecutive_failures=0,
        created_at=now,
        updated_at=now,
    )
    session.add(endpoint)
    await session.flush()
    return EndpointWithSecret(endpoint, secret)


async def get_endpoint(
    session: AsyncSession, *, product_instance_id: str, endpoint_id: str, for_update: bool = False
) -> WebhookEndpoint:
    """The product instance's own endpoint; another's looks the same as none."""
    query = select(WebhookEndpoint).where(
        WebhookEndpoint.id == endpoint_id,
        WebhookEndpoint.product_instance_id == product_instance_id,
    )
    if for_update:
        query = query.with_for_update()
    endpoint = (await session.execute(query)).scalar_one_or_none()
    if endpoint is None:
        raise WebhookEndpointNotFound()
    return endpoint


async def list_endpoints(
    session: AsyncSession, *, product_instance_id: str
) -> list[WebhookEndpoint]:
    return list(
        await session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.product_instance_id == product_instance_id)
            .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
        )
    )


async def update_endpoint(
    session: AsyncSession,
    *,
    product_instance_id: str,
    endpoint_id: str,
    url: str | None = None,
    event_types: Sequence[str] | None = None,
    enabled: bool | None = None,
    now: datetime,
    development: bool,
) -> WebhookEndpoint:
    endpoint = await get_endpoint(
        session, product_instance_id=product_instance_id, endpoint_id=endpoint_id, for_update=True
    )
    if url is not None:
        endpoint.url = checked_url(url, development=development)
    if event_types is not None:
        endpoint.event_types = checked_event_types(event_types)
    if enabled is not None:
        endpoint.enabled = enabled
        if enabled:
            endpoint.disabled_reason = None
            endpoint.consecutive_failures = 0
    endpoint.updated_at = now
    await session.flush()
    return endpoint


async def delete_endpoint(
    session: AsyncSession, *, product_instance_id: str, endpoint_id: str
) -> None:
    endpoint = await get_endpoint(
        session, product_instance_id=product_instance_id, endpoint_id=endpoint_id
    )
    await session.delete(endpoint)
    await session.flush()


async def rotate_secret(
    session: AsyncSession,
    *,
    product_instance_id: str,
    endpoint_id: str,
    overlap_seconds: int,
    sealed: SealedValues,
    now: datetime,
) -> EndpointWithSecret:
    """A new secret signs from now on; the one it replaces signs too until the overlap ends, so
    receivers can switch without losing a message (docs/webhooks.md §3)."""
    endpoint = await get_endpoint(
        session, product_instance_id=product_instance_id, endpoint_id=endpoint_id, for_update=True
    )
    current = sealed.open(WEBHOOK_SECRET, endpoint.id, endpoint.secret_enc)
    secret = new_secret()
    endpoint.secret_enc = sealed.seal(WEBHOOK_SECRET, endpoint.id, secret)
    if overlap_seconds > 0:
        endpoint.previous_secret_enc = sealed.seal(WEBHOOK_PREVIOUS_SECRET, endpoint.id, current)
        endpoint.previous_secret_expires_at = now + timedelta(seconds=overlap_seconds)
    else:
        endpoint.previous_secret_enc = None
        endpoint.previous_secret_expires_at = None
    endpoint.updated_at = now
    await session.flush()
    return EndpointWithSecret(endpoint, secret)


def signing_secrets(endpoint: WebhookEndpoint, sealed: SealedValues, now: datetime) -> list[str]:
    """The secrets that sign now: the current one, and the previous one within its overlap."""
    found = [sealed.open(WEBHOOK_SECRET, endpoint.id, endpoint.secret_enc)]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret_enc is not None and expires is not None and expires > now:
        found.append(
            sealed.open(WEBHOOK_PREVIOUS_SECRET, endpoint.id, endpoint.previous_secret_enc)
        )
    return found


async def list_deliveries(
    session: AsyncSession,
    *,
    product_instance_id: str,
    endpoint_id: str | None = None,
    request_id: str | None = None,
    status: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Deliveries of the product instance's endpoints, newest first, each with its attempts."""
    query = (
        select(WebhookDelivery, WebhookEvent)
        .join(WebhookEvent, WebhookEvent.seq == WebhookDelivery.event_seq)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(WebhookEndpoint.product_instance_id == product_instance_id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
    )
    if endpoint_id is not None:
        query = query.where(WebhookDelivery.endpoint_id == endpoint_id)
    if request_id is not None:
        query = query.where(WebhookDelivery.request_id == request_id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    found = (await session.execute(query)).all()
    attempts: dict[int, list[dict[str, Any]]] = {}
    if found:
        rows = await session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_([delivery.id for delivery, _ in found]))
            .order_by(WebhookAttempt.id)
        )
        for attempt in rows:
            attempts.setdefault(attempt.delivery_id, []).append(
                {
                    "attemptedAt": to_ist_iso(attempt.attempted_at),
                    "statusCode": attempt.status_code,
                    "latencyMs": attempt.latency_ms,
                    "error": attempt.error,
                    "responseExcerpt": attempt.response_excerpt,
                }
            )
    return [
        {
            "id": delivery.id,
            "endpointId": delivery.endpoint_id,
            "eventId": event.id,
            "eventType": event.event_type,
            "requestId": delivery.request_id,
            "status": delivery.status,
            "attemptCount": delivery.attempts,
            "nextAttemptAt": to_ist_iso(delivery.next_attempt_at),
            "deliveredAt": (
                to_ist_iso(delivery.delivered_at) if delivery.delivered_at is not None else None
            ),
            "createdAt": to_ist_iso(delivery.created_at),
            "attempts": attempts.get(delivery.id, []),
        }
        for delivery, event in found
    ]


async def replay(
    session: AsyncSession,
    *,
    product_instance_id: str,
    endpoint_id: str,
    delivery_id: int | None = None,
    failed_since: datetime | None = None,
    request_id: str | None = None,
    now: datetime,
) -> int:
    """Send events again to one endpoint, as new deliveries of the same events (the same
    `webhook-id`): one delivery, every failed one since a time, or every event of a request
    (that the endpoint wants). Returns how many were queued."""
    if sum(choice is not None for choice in (delivery_id, failed_since, request_id)) != 1:
        raise InvalidPayload("Give exactly one of deliveryId, failedSince and requestId.")
    endpoint = await get_endpoint(
        session, product_instance_id=product_instance_id, endpoint_id=endpoint_id
    )
    events: list[WebhookEvent]
    if request_id is not None:
        events = [
            event
            for event in await session.scalars(
                select(WebhookEvent)
                .where(
                    WebhookEvent.product_instance_id == product_instance_id,
                    WebhookEvent.request_id == request_id,
                    # One not fanned out yet gets its delivery from the fan-out anyway.
                    WebhookEvent.fanned_out.is_(True),
                )
                .order_by(WebhookEvent.seq)
            )
            if wants(endpoint.event_types, event.event_type)
        ]
    else:
        query = (
            select(WebhookEvent)
            .join(WebhookDelivery, WebhookDelivery.event_seq == WebhookEvent.seq)
            .where(WebhookDelivery.endpoint_id == endpoint.id)
            .order_by(WebhookDelivery.id)
        )
        if delivery_id is not None:
            query = query.where(WebhookDelivery.id == delivery_id)
        else:
            assert failed_since is not None
            query = query.where(
                WebhookDelivery.status == FAILED, WebhookDelivery.created_at >= failed_since
            )
        events = list(dict.fromkeys(await session.scalars(query)))
        if delivery_id is not None and not events:
            raise NotFound("No such delivery for this webhook endpoint.")
    for event in events:
        session.add(new_delivery(event, endpoint.id, now))
    await session.flush()
    return len(events)
