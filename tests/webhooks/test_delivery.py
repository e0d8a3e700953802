"""Webhook delivery to a real receiver on 127.0.0.1 that verifies every message with the
Standard Webhooks library: signatures, retries, failure, replay, rotation, disabling."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from digilocker_gateway.db.models import WebhookAttempt, WebhookEndpoint
from tests.requests.test_create import assert_envelope
from tests.support import Gateway, running_gateway
from tests.webhooks.receiver import receiving
from tests.webhooks.support import add_endpoint, deliver, deliveries


async def test_event_is_delivered_signed_and_verifies_with_the_standard_webhooks_library(
    gateway: Gateway,
) -> None:
    with receiving() as receiver:
        endpoint = await add_endpoint(gateway, receiver)
        assert endpoint["secret"].startswith("whsec_")
        created = await gateway.create_request()

        assert await deliver(gateway) == 1

        [message] = receiver.received
        assert message.verified_by == [0]
        assert message.message_id.startswith("msg_")
        assert message.headers["content-type"] == "application/json"
        assert message.headers["webhook-signature"].startswith("v1,")
        payload = message.payload
        assert payload["type"] == "request.created"
        assert payload["timestamp"].endswith("+05:30")
        assert payload["data"] == {
            "id": created["id"],
            "status": "unauthenticated",
            "docTypes": [],
            "validUpto": created["validUpto"],
        }
        [delivery] = await deliveries(gateway, endpoint["id"])
        assert delivery["status"] == "delivered"
        assert delivery["eventId"] == message.message_id
        assert [attempt["statusCode"] for attempt in delivery["attempts"]] == [200]
        # Delivered once: nothing is due any more.
        assert await deliver(gateway) == 0
        assert len(receiver.received) == 1


async def test_receiver_failing_twice_gets_the_event_three_times_with_one_webhook_id(
    database: Any, tmp_path: Any
) -> None:
    async with running_gateway(
        database, tmp_path, webhook_backoff_base_seconds=1, webhook_backoff_max_seconds=4
    ) as gateway:
        with receiving() as receiver:
            receiver.script = [500, 503]
            endpoint = await add_endpoint(gateway, receiver)
            await gateway.create_request()

            assert await deliver(gateway) == 1
            # Not due again until its backoff has passed.
            assert await deliver(gateway) == 0
            gateway.clock.advance(5)
            assert await deliver(gateway) == 1
            gateway.clock.advance(5)
            assert await deliver(gateway) == 1

            assert len(receiver.received) == 3
            assert len({message.message_id for message in receiver.received}) == 1
            assert all(message.verified_by == [0] for message in receiver.received)
            [delivery] = await deliveries(gateway, endpoint["id"])
            assert delivery["status"] == "delivered"
            assert [a["statusCode"] for a in delivery["attempts"]] == [500, 503, 200]
            excerpt = delivery["attempts"][0]["responseExcerpt"]
            assert excerpt.startswith("receiver is broken")
            assert len(excerpt) <= 200


async def test_receiver_down_for_the_whole_window_ends_failed(database: Any, tmp_path: Any) -> None:
    async with running_gateway(
        database,
        tmp_path,
        webhook_retry_window_seconds=60,
        webhook_backoff_base_seconds=2,
        webhook_backoff_max_seconds=8,
    ) as gateway:
        with receiving() as receiver:
            receiver.always = 500
            endpoint = await add_endpoint(gateway, receiver)
            await gateway.create_request()
            for _ in range(40):
                await deliver(gateway)
                gateway.clock.advance(9)
            [delivery] = await deliveries(gateway, endpoint["id"])
            assert delivery["status"] == "failed"
            tries = len(receiver.received)
            assert tries == delivery["attemptCount"] >= 60 // 8
            # Failed is final: nothing more is sent.
            gateway.clock.advance(3600)
            assert await deliver(gateway) == 0
            assert len(receiver.received) == tries


async def test_replay_sends_one_delivery_failed_ones_and_a_requests_events_again(
    database: Any, tmp_path: Any
) -> None:
    async with running_gateway(database, tmp_path, webhook_retry_window_seconds=0) as gateway:
        with receiving() as receiver:
            endpoint = await add_endpoint(gateway, receiver)
            url = f"/api/digilocker/webhooks/{endpoint['id']}/replay"
            first = await gateway.create_request()
            await deliver(gateway)
            receiver.always = 500
            second = await gateway.create_request()
            await deliver(gateway)  # a window of 0: the one failure is final
            failed = await deliveries(gateway, endpoint["id"], status="failed")
            assert [item["requestId"] for item in failed] == [second["id"]]
            receiver.always = None

            one = await gateway.client.post(
                url, json={"deliveryId": failed[0]["id"]}, headers=gateway.headers
            )
            assert one.json() == {"queued": 1}
            since = await gateway.client.post(
                url, json={"failedSince": "2000-01-01T00:00:00+05:30"}, headers=gateway.headers
            )
            assert since.json() == {"queued": 1}
            whole = await gateway.client.post(
                url, json={"requestId": first["id"]}, headers=gateway.headers
            )
            assert whole.json() == {"queued": 1}
            assert await deliver(gateway) == 3

            by_request: dict[str, list[str]] = {}
            for message in receiver.received:
                by_request.setdefault(message.payload["data"]["id"], []).append(message.message_id)
            # A replay is the same message: the same webhook-id as the original.
            assert len(by_request[first["id"]]) == 2
            assert len(set(by_request[first["id"]])) == 1
            assert len(by_request[second["id"]]) == 3
            assert len(set(by_request[second["id"]])) == 1
            assert all(message.verified_by == [0] for message in receiver.received)

            neither = await gateway.client.post(url, json={}, headers=gateway.headers)
            assert_envelope(neither, 400, "invalid_payload")


async def test_rotated_secret_and_the_old_one_both_sign_until_the_overlap_ends(
    gateway: Gateway,
) -> None:
    with receiving() as receiver:
        endpoint = await add_endpoint(gateway, receiver)
        rotated = await gateway.client.post(
            f"/api/digilocker/webhooks/{endpoint['id']}/rotate-secret",
            json={"overlapSeconds": 120},
            headers=gateway.headers,
        )
        assert rotated.status_code == 200, rotated.text
        new_secret = rotated.json()["secret"]
        assert new_secret != endpoint["secret"]
        receiver.secrets.append(new_secret)

        await gateway.create_request()
        await deliver(gateway)
        assert receiver.received[-1].verified_by == [0, 1]

        gateway.clock.advance(121)
        await gateway.create_request()
        await deliver(gateway)
        # After the overlap only the new secret signs.
        assert receiver.received[-1].verified_by == [1]
        shown = await gateway.client.get(
            f"/api/digilocker/webhooks/{endpoint['id']}", headers=gateway.headers
        )
        assert "secret" not in shown.json()


async def test_endpoint_failing_too_often_is_disabled_with_an_audit_row(
    database: Any, tmp_path: Any
) -> None:
    async with running_gateway(
        database, tmp_path, webhook_disable_after_failures=3, webhook_backoff_max_seconds=1
    ) as gateway:
        with receiving() as receiver:
            receiver.always = 500
            endpoint = await add_endpoint(gateway, receiver)
            await gateway.create_request()
            for _ in range(5):
                await deliver(gateway)
                gateway.clock.advance(2)
            assert len(receiver.received) == 3
            shown = await gateway.client.get(
                f"/api/digilocker/webhooks/{endpoint['id']}", headers=gateway.headers
            )
            assert shown.json()["enabled"] is False
            assert "3 failed attempts" in shown.json()["disabledReason"]
            from digilocker_gateway.db.models import AuditRecord

            async with gateway.runtime.reading() as session:
                actions = list(await session.scalars(select(AuditRecord.action)))
            assert actions == ["webhook.endpoint_disabled"]

            # Enabled again, it picks up where it stopped.
            receiver.always = None
            enabled = await gateway.client.patch(
                f"/api/digilocker/webhooks/{endpoint['id']}",
                json={"enabled": True},
                headers=gateway.headers,
            )
            assert enabled.json()["enabled"] is True
            await deliver(gateway)
            assert len(receiver.received) == 4


async def test_event_committed_before_a_crash_is_delivered_after_restart(
    database: Any, tmp_path: Any
) -> None:
    with receiving() as receiver:
        async with running_gateway(database, tmp_path) as first:
            endpoint = await add_endpoint(first, receiver)
            created = await first.create_request()
            headers = first.headers
            # A process claimed the delivery and died before sending it.
            from digilocker_gateway.webhooks.delivery import claim_due

            assert len(await claim_due(first.runtime, limit=10)) == 1
        async with running_gateway(database, tmp_path) as second:
            second.headers = headers
            second.runtime.worker_id = "restarted"
            # Claimed by the dead process: not before its claim runs out.
            assert await deliver(second) == 0
            second.clock.advance(second.runtime.settings.webhook_claim_seconds + 1)
            assert await deliver(second) == 1
            assert [m.payload["data"]["id"] for m in receiver.received] == [created["id"]]
            async with second.runtime.reading() as session:
                attempts = await session.scalar(select(func.count()).select_from(WebhookAttempt))
                enabled = await session.scalar(select(WebhookEndpoint.enabled))
            assert attempts == 1
            assert enabled is True
            assert (await deliveries(second, endpoint["id"]))[0]["status"] == "delivered"
