"""`verify_webhook` on what the gateway really sends: an endpoint added with the SDK, events
delivered by the gateway's own delivery job to a receiver on 127.0.0.1, then verified here —
and every kind of tampering refused with the SDK's typed exception."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook

from digilocker_gateway.client import (
    WEBHOOK_TOLERANCE_SECONDS,
    AsyncDigiLockerClient,
    CreatedWebhookEndpoint,
    DigiLockerError,
    WebhookEvent,
    WebhookVerificationError,
    verify_webhook,
)
from tests.client.conftest import consent
from tests.support import REDIRECT_URL, Gateway
from tests.webhooks.receiver import Received, Receiver, receiving
from tests.webhooks.support import deliver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as found:
        yield found


@dataclass
class Delivered:
    endpoint: CreatedWebhookEndpoint
    request_id: str
    message: Received


@pytest.fixture
async def delivered(gateway: Gateway, sdk: AsyncDigiLockerClient, receiver: Receiver) -> Delivered:
    """One `request.created` event, delivered by the gateway to the receiver."""
    endpoint = await sdk.create_webhook(receiver.url)
    created = await sdk.create(REDIRECT_URL)
    assert await deliver(gateway) == 1
    [message] = receiver.received
    return Delivered(endpoint, created.id, message)


def refused(headers: dict[str, str], body: bytes | str, secret: str | list[str]) -> str:
    with pytest.raises(WebhookVerificationError) as raised:
        verify_webhook(headers, body, secret)
    error = raised.value
    assert isinstance(error, DigiLockerError)
    assert (error.status, error.trace_id) == (None, None)
    return error.code


def test_a_delivered_event_verifies_into_a_typed_event(delivered: Delivered) -> None:
    message = delivered.message
    event = verify_webhook(message.headers, message.body.encode(), delivered.endpoint.secret)
    assert isinstance(event, WebhookEvent)
    assert event.type == "request.created"
    assert event.request_id == delivered.request_id
    assert event.data.status == "unauthenticated"
    assert event.data.doc_types == []
    assert event.data.valid_upto is not None
    assert event.timestamp.endswith("+05:30")
    assert event.webhook_id == message.message_id
    # The body as text, and header names in any case, are accepted too.
    shouted = {name.upper(): value for name, value in message.headers.items()}
    assert verify_webhook(shouted, message.body, delivered.endpoint.secret) == event


def test_a_changed_body_is_refused(delivered: Delivered) -> None:
    message, secret = delivered.message, delivered.endpoint.secret
    changed = message.body.replace("unauthenticated", "authenticated")
    assert changed != message.body
    assert refused(message.headers, changed, secret) == "webhook_signature_invalid"
    assert refused(message.headers, message.body + " ", secret) == "webhook_signature_invalid"
    assert refused(message.headers, b"\xff" + message.body.encode(), secret) == (
        "webhook_signature_invalid"
    )


@pytest.mark.parametrize(
    ("header", "change", "code"),
    [
        ("webhook-id", lambda value: value + "0", "webhook_signature_invalid"),
        ("webhook-timestamp", lambda value: str(int(value) - 1), "webhook_signature_invalid"),
        ("webhook-timestamp", lambda value: str(int(value) - 600), "webhook_timestamp_stale"),
        ("webhook-timestamp", lambda value: str(int(value) + 600), "webhook_timestamp_stale"),
        ("webhook-timestamp", lambda _: "soon", "webhook_headers_invalid"),
        ("webhook-timestamp", lambda _: "nan", "webhook_headers_invalid"),
        ("webhook-signature", lambda value: value[:-4] + "AAA=", "webhook_signature_invalid"),
        ("webhook-signature", lambda value: "v2," + value[3:], "webhook_signature_invalid"),
        ("webhook-signature", lambda _: "v1", "webhook_headers_invalid"),
        ("webhook-signature", lambda _: "", "webhook_headers_invalid"),
    ],
)
def test_changed_headers_are_refused(
    delivered: Delivered, header: str, change: Callable[[str], str], code: str
) -> None:
    headers = dict(delivered.message.headers)
    headers[header] = change(headers[header])
    assert refused(headers, delivered.message.body, delivered.endpoint.secret) == code


@pytest.mark.parametrize("header", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_missing_header_is_refused_naming_it(delivered: Delivered, header: str) -> None:
    headers = {k: v for k, v in delivered.message.headers.items() if k != header}
    with pytest.raises(WebhookVerificationError) as raised:
        verify_webhook(headers, delivered.message.body, delivered.endpoint.secret)
    assert raised.value.code == "webhook_headers_invalid"
    assert header in raised.value.detail


async def test_another_endpoints_secret_is_refused(
    delivered: Delivered, sdk: AsyncDigiLockerClient
) -> None:
    other = await sdk.create_webhook("https://hooks.example.com/other")
    message = delivered.message
    assert refused(message.headers, message.body, other.secret) == "webhook_signature_invalid"
    # Given both (a receiver moving between secrets), the right one is enough.
    assert verify_webhook(message.headers, message.body, [other.secret, delivered.endpoint.secret])


def test_a_well_signed_but_old_message_is_refused_as_stale(delivered: Delivered) -> None:
    """Signed correctly, by the library itself, but ten minutes ago: a replay by an attacker."""
    message = delivered.message
    then = datetime.now(UTC) - timedelta(seconds=WEBHOOK_TOLERANCE_SECONDS + 300)
    headers = {
        "webhook-id": message.message_id,
        "webhook-timestamp": str(int(then.timestamp())),
        "webhook-signature": Webhook(delivered.endpoint.secret).sign(
            message.message_id, then, message.body
        ),
    }
    assert refused(headers, message.body, delivered.endpoint.secret) == "webhook_timestamp_stale"
    # The same, signed now, passes: only the time was wrong.
    now = datetime.now(UTC)
    headers["webhook-timestamp"] = str(int(now.timestamp()))
    headers["webhook-signature"] = Webhook(delivered.endpoint.secret).sign(
        message.message_id, now, message.body
    )
    assert verify_webhook(headers, message.body, delivered.endpoint.secret).webhook_id


def test_a_well_signed_body_that_is_no_event_is_refused(delivered: Delivered) -> None:
    secret, message_id = delivered.endpoint.secret, "msg_test"
    now = datetime.now(UTC)
    for body in ('{"type": "request.created"}', "[1, 2]", "not json"):
        headers = {
            "webhook-id": message_id,
            "webhook-timestamp": str(int(time.time())),
            "webhook-signature": Webhook(secret).sign(message_id, now, body),
        }
        assert refused(headers, body, secret) == "webhook_payload_invalid"


def test_a_malformed_secret_is_a_value_error_without_the_secret(delivered: Delivered) -> None:
    message = delivered.message
    malformed: list[str | list[str]] = ["", "whsec_", [], "whsec_%%%"]
    for secret in malformed:
        with pytest.raises(ValueError, match="secret") as raised:
            verify_webhook(message.headers, message.body, secret)
        assert not isinstance(raised.value, DigiLockerError)


async def test_after_a_rotation_both_secrets_verify_the_next_event(
    gateway: Gateway,
    sdk: AsyncDigiLockerClient,
    receiver: Receiver,
    delivered: Delivered,
) -> None:
    rotated = await sdk.rotate_webhook_secret(delivered.endpoint.id, overlap_seconds=3600)
    created = await sdk.create(REDIRECT_URL)
    assert await deliver(gateway) == 1
    message = receiver.received[-1]
    assert len(message.headers["webhook-signature"].split(" ")) == 2
    for secret in (rotated.secret, delivered.endpoint.secret):
        assert verify_webhook(message.headers, message.body, secret).request_id == created.id


async def test_a_journey_is_followed_by_events_and_deliveries_then_replayed(
    gateway: Gateway, sdk: AsyncDigiLockerClient, receiver: Receiver, delivered: Delivered
) -> None:
    endpoint = delivered.endpoint
    created = await sdk.create(REDIRECT_URL, doc_type="PANCR")
    await consent(gateway, created.url)
    assert (await sdk.revoke(created.id)).success
    while await deliver(gateway):
        pass
    events = [
        verify_webhook(message.headers, message.body, endpoint.secret)
        for message in receiver.received
    ]
    ours = [event for event in events if event.request_id == created.id]
    assert [event.type for event in ours] == [
        "request.created",
        "request.authenticated",
        "request.revoked",
    ]
    assert ours[1].data.doc_types == ["PANCR"]
    assert ours[1].data.reconsent is False

    deliveries = await sdk.webhook_deliveries(endpoint.id, request_id=created.id)
    assert [item.event_type for item in deliveries] == [
        "request.revoked",
        "request.authenticated",
        "request.created",
    ]  # newest first
    assert all(item.status == "delivered" for item in deliveries)
    assert [attempt.status_code for attempt in deliveries[0].attempts] == [200]
    assert {item.event_id for item in deliveries} == {event.webhook_id for event in ours}
    across = await sdk.webhook_deliveries(request_id=created.id)
    assert sorted(item.id for item in across) == sorted(item.id for item in deliveries)
    assert await sdk.webhook_deliveries(endpoint.id, status="failed") == []
    assert len(await sdk.webhook_deliveries(endpoint.id, limit=1)) == 1

    before = len(receiver.received)
    assert await sdk.replay_webhooks(endpoint.id, request_id=created.id) == 3
    assert await sdk.replay_webhooks(endpoint.id, delivery_id=deliveries[0].id) == 1
    while await deliver(gateway):
        pass
    replayed = [
        verify_webhook(message.headers, message.body, endpoint.secret)
        for message in receiver.received[before:]
    ]
    # A replay keeps each event's webhook-id, so a receiver drops it as a duplicate.
    assert sorted(event.webhook_id or "" for event in replayed) == sorted(
        [event.webhook_id or "" for event in ours] + [deliveries[0].event_id]
    )
