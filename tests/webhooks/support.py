"""Helpers for webhook tests: add an endpoint over the API, deliver what is due, read events."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from digilocker_gateway.db.models import WebhookEvent
from digilocker_gateway.webhooks.delivery import deliver_until_idle
from tests.support import Gateway
from tests.webhooks.receiver import Receiver


async def add_endpoint(
    gateway: Gateway,
    receiver: Receiver,
    *,
    headers: dict[str, str] | None = None,
    **body: Any,
) -> dict[str, Any]:
    response = await gateway.client.post(
        "/api/digilocker/webhooks",
        json={"url": receiver.url, **body},
        headers=headers or gateway.headers,
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    receiver.secrets.append(created["secret"])
    return created


async def deliver(gateway: Gateway) -> int:
    return await deliver_until_idle(gateway.runtime)


async def deliveries(gateway: Gateway, endpoint_id: str, **params: str) -> list[dict[str, Any]]:
    response = await gateway.client.get(
        f"/api/digilocker/webhooks/{endpoint_id}/deliveries", params=params, headers=gateway.headers
    )
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["deliveries"]
    return found


async def stored_events(gateway: Gateway) -> list[dict[str, Any]]:
    async with gateway.runtime.reading() as session:
        rows = await session.scalars(select(WebhookEvent).order_by(WebhookEvent.seq))
        return [json.loads(row.payload) for row in rows]
