"""Events are written alone in the caller's transaction and fanned out later, by the delivery
loop: one delivery per endpoint enabled and wanting the event, in event order, each event
taken once however many fan-outs run at the same time, and no event pruned before it is."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, func, select, text

from digilocker_gateway.db.engine import build_engine
from digilocker_gateway.db.migrate import alembic_config, current_revision
from digilocker_gateway.db.models import WebhookDelivery, WebhookEvent
from digilocker_gateway.webhooks import delivery, events
from digilocker_gateway.webhooks.delivery import prune_events
from tests.support import DatabaseUnderTest, Gateway, running_gateway, walk_journey
from tests.webhooks.receiver import receiving
from tests.webhooks.support import add_endpoint


async def fan_out_now(gateway: Gateway, *, limit: int = delivery.FAN_OUT_BATCH) -> int:
    async with gateway.runtime.transaction() as session:
        return await events.fan_out(session, now=gateway.clock.now(), limit=limit)


async def delivery_rows(gateway: Gateway) -> list[tuple[int, str, str]]:
    """(event seq, endpoint id, event type) of every delivery, in delivery id order."""
    async with gateway.runtime.reading() as session:
        found = await session.execute(
            select(WebhookDelivery.event_seq, WebhookDelivery.endpoint_id, WebhookEvent.event_type)
            .join(WebhookEvent, WebhookEvent.seq == WebhookDelivery.event_seq)
            .order_by(WebhookDelivery.id)
        )
        return [(seq, endpoint, kind) for seq, endpoint, kind in found.all()]


async def test_an_event_becomes_one_delivery_per_enabled_endpoint_that_wants_it(
    gateway: Gateway,
) -> None:
    with receiving() as receiver:
        every = await add_endpoint(gateway, receiver)
        revokes = await add_endpoint(gateway, receiver, eventTypes=["request.revoked"])
        paused = await add_endpoint(gateway, receiver)
        switched = await gateway.client.patch(
            f"/api/digilocker/webhooks/{paused['id']}",
            json={"enabled": False},
            headers=gateway.headers,
        )
        assert switched.status_code == 200, switched.text
        first = await walk_journey(gateway)
        await gateway.create_request()
        revoked = await gateway.client.get(
            f"/api/digilocker/{first.request_id}/revoke", headers=gateway.headers
        )
        assert revoked.status_code == 200, revoked.text
        # Written in the callers' transactions, not fanned out yet.
        assert await delivery_rows(gateway) == []

        assert await fan_out_now(gateway) == 4
        rows = await delivery_rows(gateway)
        assert sorted((kind, endpoint) for _, endpoint, kind in rows) == sorted(
            [
                ("request.authenticated", every["id"]),
                ("request.created", every["id"]),
                ("request.created", every["id"]),
                ("request.revoked", every["id"]),
                ("request.revoked", revokes["id"]),
            ]
        )
        # Delivery ids follow the events' order, which the claim relies on.
        seqs = [seq for seq, _, _ in rows]
        assert seqs == sorted(seqs)
        assert await fan_out_now(gateway) == 0
        assert len(await delivery_rows(gateway)) == 5


async def test_fan_outs_running_at_once_take_each_event_once(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    async with (
        running_gateway(database, tmp_path) as one,
        running_gateway(database, tmp_path) as two,
    ):
        with receiving() as receiver:
            await add_endpoint(one, receiver)
            for _ in range(30):
                await one.create_request()
            taken = await asyncio.gather(
                *(fan_out_now(gateway, limit=7) for gateway in (one, two, one, two))
            )
            while sum(taken) < 30:
                batch = await fan_out_now(two, limit=7)
                assert batch > 0, taken
                taken.append(batch)
            rows = await delivery_rows(one)
    assert sum(taken) == 30
    assert len(rows) == 30
    assert len({seq for seq, _, _ in rows}) == 30


async def test_an_event_not_fanned_out_yet_outlives_the_retention(gateway: Gateway) -> None:
    await gateway.create_request()
    days = gateway.runtime.settings.webhook_event_retention_days + 1
    gateway.clock.advance(timedelta(days=days).total_seconds())
    assert await prune_events(gateway.runtime) == 0
    await fan_out_now(gateway)
    assert await prune_events(gateway.runtime) == 1
    async with gateway.runtime.reading() as session:
        assert await session.scalar(select(func.count()).select_from(WebhookEvent)) == 0


async def test_an_event_written_without_the_column_counts_as_fanned_out(gateway: Gateway) -> None:
    # The previous version, during a rolling deploy, writes its events' deliveries itself and
    # does not know the column: its events must not be fanned out a second time.
    created = await gateway.create_request()
    async with gateway.runtime.transaction() as session:
        instance = await session.scalar(select(WebhookEvent.product_instance_id))
        await session.execute(
            text(
                "INSERT INTO webhook_events"
                " (id, product_instance_id, request_id, event_type, payload, created_at)"
                " VALUES ('msg_old', :instance, :request, 'request.created', '{}', :now)"
            ),
            {"instance": instance, "request": created["id"], "now": gateway.clock.now()},
        )
    assert await fan_out_now(gateway) == 1  # only the event this version wrote


async def test_replaying_a_requests_events_before_their_fan_out_sends_each_once(
    gateway: Gateway,
) -> None:
    with receiving() as receiver:
        endpoint = await add_endpoint(gateway, receiver)
        created = await gateway.create_request()
        replayed = await gateway.client.post(
            f"/api/digilocker/webhooks/{endpoint['id']}/replay",
            json={"requestId": created["id"]},
            headers=gateway.headers,
        )
        assert replayed.status_code == 200, replayed.text
        await fan_out_now(gateway)
        assert len(await delivery_rows(gateway)) == 1


async def test_a_failed_fan_out_still_lets_due_deliveries_be_claimed(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    with receiving() as receiver:
        await add_endpoint(gateway, receiver)
        await gateway.create_request()
        await fan_out_now(gateway)  # one delivery due
        await gateway.create_request()  # one event waiting

        async def broken(*_args: object, **_kwargs: object) -> int:
            raise RuntimeError("the database went away for a moment")

        monkeypatch.setattr(delivery, "fan_out", broken)
        claimed = await delivery.claim_due(gateway.runtime, limit=10)
    assert len(claimed) == 1


async def test_downgrading_past_the_fan_out_refuses_while_events_wait(
    gateway: Gateway,
) -> None:
    await gateway.create_request()  # an event not fanned out yet
    url = gateway.runtime.settings.effective_database_url
    schema = gateway.runtime.settings.database_schema

    def downgrade(connection: Connection) -> None:
        from alembic import command

        config = alembic_config(url)
        config.attributes["connection"] = connection
        command.downgrade(config, "0009_quotas")

    engine = build_engine(url, schema=schema)
    try:
        with pytest.raises(RuntimeError, match="waiting to be fanned out"):
            async with engine.begin() as connection:
                await connection.run_sync(downgrade)
        await fan_out_now(gateway)
        async with engine.begin() as connection:
            await connection.run_sync(downgrade)
        async with engine.connect() as connection:
            assert await current_revision(connection) == "0009_quotas"
    finally:
        await engine.dispose()
