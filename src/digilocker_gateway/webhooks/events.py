"""The outbox: `emit` writes an event in the caller's transaction, so an event exists exactly
when the change it reports was committed (docs/architecture.md §3). The delivery loop of any
process then fans it out (`fan_out`: one delivery per endpoint enabled and wanting it at that
moment) and delivers it (webhooks/delivery.py). Fanning out later rather than in the caller's
transaction spares every call that emits an event a read of the endpoints and a write per
endpoint: a whole batch of events is fanned out in four statements, and an idle poll is one
read.

A payload names the request, the event, the time and what changed; never a token, a file, an
Aadhaar number, a photo, the user's contact details or a `fileUrl` (docs/webhooks.md §2).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from digilocker_gateway.db.base import table_of
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


async def emit(
    session: AsyncSession,
    *,
    product_instance_id: str,
    request_id: str,
    event_type: str,
    data: Mapping[str, object],
    now: datetime,
) -> str:
    """Write the event and return its id; the caller's transaction commits it with the change
    it reports. `data` must never hold personal data or secrets."""
    assert event_type in EVENT_TYPES, event_type
    event_id = new_event_id()
    await session.execute(
        _INSERT_EVENT,
        {
            "id": event_id,
            "product_instance_id": product_instance_id,
            "request_id": request_id,
            "event_type": event_type,
            "payload": payload_for(event_type, request_id, data, now),
            "created_at": now,
        },
    )
    return event_id


# Built once, so SQLAlchemy keeps their cache keys (requests/service.py, _REQUEST). The event
# is inserted through its table: nothing needs it back as an object.
_EVENTS = table_of(WebhookEvent)
_INSERT_DELIVERIES = insert(table_of(WebhookDelivery))
_INSERT_EVENT = insert(_EVENTS).values(
    id=bindparam("id"),
    product_instance_id=bindparam("product_instance_id"),
    request_id=bindparam("request_id"),
    event_type=bindparam("event_type"),
    payload=bindparam("payload"),
    created_at=bindparam("created_at"),
    fanned_out=False,
)
# The oldest events not fanned out yet: a read, so an idle poll takes no write lock.
_WAITING_EVENTS = (
    select(_EVENTS.c.seq)
    .where(_EVENTS.c.fanned_out.is_(False))
    .order_by(_EVENTS.c.seq)
    .limit(bindparam("limit"))
)
# Takes those of them no other process has taken meanwhile. On PostgreSQL a second process
# taking the same rows waits for the first's row locks, then finds `fanned_out` true and skips
# them; on SQLite the UPDATE takes the write lock. So every event is fanned out once.
_TAKE_EVENTS = (
    update(_EVENTS)
    .where(_EVENTS.c.seq.in_(bindparam("seqs", expanding=True)), _EVENTS.c.fanned_out.is_(False))
    .values(fanned_out=True)
    .returning(
        _EVENTS.c.seq,
        _EVENTS.c.product_instance_id,
        _EVENTS.c.request_id,
        _EVENTS.c.event_type,
        _EVENTS.c.created_at,
    )
)


async def fan_out(session: AsyncSession, *, now: datetime, limit: int) -> int:
    """Turn up to `limit` events not fanned out yet into deliveries, oldest first, for the
    endpoints enabled and wanting each one now; how many events were taken. A delivery is due
    from its event's time, so the backlog shows how long the event has waited."""
    waiting = list((await session.execute(_WAITING_EVENTS, {"limit": limit})).scalars())
    if not waiting:
        return 0
    taken = sorted((await session.execute(_TAKE_EVENTS, {"seqs": waiting})).all())
    if not taken:
        return 0
    instances = {row.product_instance_id for row in taken}
    wanted: dict[str, list[tuple[str, str]]] = {}
    for endpoint_id, instance, event_types in await session.execute(
        select(
            WebhookEndpoint.id, WebhookEndpoint.product_instance_id, WebhookEndpoint.event_types
        ).where(
            WebhookEndpoint.product_instance_id.in_(instances),
            WebhookEndpoint.enabled.is_(True),
        )
    ):
        wanted.setdefault(instance, []).append((endpoint_id, event_types))
    deliveries = [
        delivery_values(event.seq, event.request_id, endpoint_id, due=event.created_at, now=now)
        for event in taken
        for endpoint_id, event_types in wanted.get(event.product_instance_id, [])
        if wants(event_types, event.event_type)
    ]
    if deliveries:
        # In event order, so delivery ids keep each request's events in order for the claim's
        # "no earlier pending delivery" rule (webhooks/delivery.py).
        await session.execute(_INSERT_DELIVERIES, deliveries)
    return len(taken)


def delivery_values(
    event_seq: int, request_id: str, endpoint_id: str, *, due: datetime, now: datetime
) -> dict[str, object]:
    """A new delivery's row: pending, never attempted, due at `due`."""
    return {
        "event_seq": event_seq,
        "endpoint_id": endpoint_id,
        "request_id": request_id,
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": due,
        "created_at": now,
    }


def new_delivery(event: WebhookEvent, endpoint_id: str, now: datetime) -> WebhookDelivery:
    """A delivery sent again (a replay): due now."""
    return WebhookDelivery(
        **delivery_values(event.seq, event.request_id, endpoint_id, due=now, now=now)
    )
