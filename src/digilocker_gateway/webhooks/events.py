"""The outbox: `emit` writes an event, and one delivery per endpoint that wants it, in the
caller's transaction, so an event exists exactly when the change it reports was committed
(docs/architecture.md §3). Delivery happens later, from any process (webhooks/delivery.py).

A payload names the request, the event, the time and what changed; never a token, a file, an
Aadhaar number, a photo, the user's contact details or a `fileUrl` (docs/webhooks.md §2).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from digilocker_gateway.db.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from digilocker_gateway.kit.timefmt import to_ist_iso

REQUEST_CREATED = "request.created"
REQUEST_AUTHENTICATED = "request.authenticated"
REQUEST_CONSENT_DENIED = "request.consent_denied"
REQUEST_FAILED = "request.failed"
REQUEST_REAUTH_REQUIRED = "request.reauth_required"
REQUEST_EXPIRED = "request.expired"
REQUEST_REVOKED = "request.revoked"
DOCUMENT_FETCHED = "document.fetched"
AADHAAR_FETCHED = "aadhaar.fetched"
REQUEST_PURGED = "request.purged"

EVENT_TYPES = (
    REQUEST_CREATED,
    REQUEST_AUTHENTICATED,
    REQUEST_CONSENT_DENIED,
    REQUEST_FAILED,
    REQUEST_REAUTH_REQUIRED,
    REQUEST_EXPIRED,
    REQUEST_REVOKED,
    DOCUMENT_FETCHED,
    AADHAAR_FETCHED,
    REQUEST_PURGED,
)

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"


def new_event_id() -> str:
    # Standard Webhooks' `webhook-id`: unique per event, the same on every retry and replay,
    # so a receiver can drop duplicates.
    return f"msg_{uuid.uuid4().hex}"


def wants(event_types: str, event_type: str) -> bool:
    """An endpoint's comma list of event types; empty means every event."""
    chosen = [name for name in event_types.split(",") if name]
    return not chosen or event_type in chosen


def payload_for(event_type: str, request_id: str, data: Mapping[str, object], now: datetime) -> str:
    body = {
        "type": event_type,
        "timestamp": to_ist_iso(now),
        "data": {"id": request_id, **data},
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


# Built once, so SQLAlchemy keeps its cache key (requests/service.py, _REQUEST).
_ENDPOINTS = select(WebhookEndpoint.id, WebhookEndpoint.event_types).where(
    WebhookEndpoint.product_instance_id == bindparam("product_instance_id"),
    WebhookEndpoint.enabled.is_(True),
)


async def emit(
    session: AsyncSession,
    *,
    product_instance_id: str,
    request_id: str,
    event_type: str,
    data: Mapping[str, object],
    now: datetime,
) -> WebhookEvent:
    """Write the event and its deliveries; the caller's transaction commits them with the
    change they report. `data` must never hold personal data or secrets."""
    assert event_type in EVENT_TYPES, event_type
    event = WebhookEvent(
        id=new_event_id(),
        product_instance_id=product_instance_id,
        request_id=request_id,
        event_type=event_type,
        payload=payload_for(event_type, request_id, data, now),
        created_at=now,
    )
    session.add(event)
    await session.flush()
    endpoints = await session.execute(_ENDPOINTS, {"product_instance_id": product_instance_id})
    for endpoint_id, event_types in endpoints.all():
        if wants(event_types, event_type):
            session.add(new_delivery(event, endpoint_id, now))
    await session.flush()
    return event


def new_delivery(event: WebhookEvent, endpoint_id: str, now: datetime) -> WebhookDelivery:
    return WebhookDelivery(
        event_seq=event.seq,
        endpoint_id=endpoint_id,
        request_id=event.request_id,
        status=PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
