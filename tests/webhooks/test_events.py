"""Every event type fires once for its cause, payloads carry no secret or personal data, and a
product instance sees only its own endpoints and events."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from digilocker_gateway.db.models import RequestRecord
from digilocker_gateway.requests.tasks import purge_expired
from digilocker_gateway.simulator.driver import run_journey
from digilocker_gateway.storage.sealed import ACCESS_TOKEN, REFRESH_TOKEN
from tests.documents.test_fetch import authenticated, fetch, fetch_body, pick
from tests.requests.test_create import assert_envelope
from tests.requests.test_recovery import set_faults
from tests.support import Gateway, sim_user, walk_journey
from tests.webhooks.receiver import receiving
from tests.webhooks.support import add_endpoint, deliver, stored_events


async def consented(gateway: Gateway) -> tuple[str, dict[str, Any]]:
    """A request whose user consented to their documents and their Aadhaar."""
    user = await sim_user(gateway, "complete")
    doctypes = sorted({d["docType"] for d in user["documents"]} | {"ADHAR"})
    journey = await walk_journey(gateway, scenario="complete", doc_type=",".join(doctypes))
    assert journey.final_query["success"] == "true", journey.final_url
    return journey.request_id, user


def types_of(events: list[dict[str, Any]], request_id: str) -> list[str]:
    return [event["type"] for event in events if event["data"]["id"] == request_id]


async def test_every_event_type_fires_once_for_its_cause(catalogued_gateway: Gateway) -> None:
    gateway = catalogued_gateway
    with receiving() as receiver:
        await add_endpoint(gateway, receiver)

        # Consent, a document, the Aadhaar XML, revoke.
        request_id, user = await consented(gateway)
        document = pick(user, issued=True)
        fetched = await fetch(gateway, request_id, fetch_body(document))
        assert fetched.status_code == 200, fetched.text
        aadhaar = await gateway.client.get(
            f"/api/digilocker/{request_id}/aadhaar", headers=gateway.headers
        )
        assert aadhaar.status_code == 200, aadhaar.text
        revoked = await gateway.client.get(
            f"/api/digilocker/{request_id}/revoke", headers=gateway.headers
        )
        assert revoked.status_code == 200

        denied = await walk_journey(gateway, decision="deny")
        assert denied.final_query["errCode"] == "user_consent_not_given"

        # The callback completed in another browser (no binding cookie): a failure.
        created = await gateway.create_request()
        start = await gateway.client.get(created["url"])
        complete = await sim_user(gateway, "complete")
        callback = await run_journey(
            gateway.client,
            start.headers["location"],
            identifier=complete["identifier"],
            otp=complete["otp"],
            pin=complete["pin"],
        )
        gateway.client.cookies.clear()
        assert (await gateway.client.get(str(callback))).status_code == 403

        # A refresh DigiLocker refuses: re-consent is required.
        reauth_id, reauth_user = await authenticated(gateway, "complete")
        gateway.clock.advance(3600 + 60)
        await set_faults(gateway, {"token": {"malformed": True}})
        await fetch(gateway, reauth_id, fetch_body(pick(reauth_user, issued=True)))
        await set_faults(gateway, {})
        refused = await fetch(gateway, reauth_id, fetch_body(pick(reauth_user, issued=True)))
        assert_envelope(refused, 401, "invalid_token")

        gateway.clock.advance(2 * 24 * 3600)
        assert await purge_expired(gateway.runtime) == 4

        events = await stored_events(gateway)
        tail = ["request.expired", "request.purged"]
        assert types_of(events, request_id) == [
            "request.created",
            "request.authenticated",
            "document.fetched",
            "aadhaar.fetched",
            "request.revoked",
            *tail,
        ]
        assert types_of(events, denied.request_id) == [
            "request.created",
            "request.consent_denied",
            *tail,
        ]
        assert types_of(events, created["id"]) == ["request.created", "request.failed", *tail]
        assert types_of(events, reauth_id) == [
            "request.created",
            "request.authenticated",
            "request.reauth_required",
            *tail,
        ]
        by_type = {event["type"]: event["data"] for event in events}
        assert by_type["request.failed"]["errCode"] == "browser_mismatch"
        assert by_type["request.consent_denied"]["errCode"] == "user_consent_not_given"
        assert by_type["document.fetched"]["docType"] == document["docType"]
        assert set(by_type["request.authenticated"]["docTypes"]) >= {document["docType"]}

        # Each reaches the receiver, in order per request.
        await deliver(gateway)
        received = [message.payload for message in receiver.received]
        for request in (request_id, denied.request_id, created["id"], reauth_id):
            assert types_of(received, request) == types_of(events, request)


async def test_payloads_carry_no_token_file_url_or_personal_data(
    catalogued_gateway: Gateway,
) -> None:
    gateway = catalogued_gateway
    request_id, user = await consented(gateway)
    fetched = await fetch(gateway, request_id, fetch_body(pick(user, issued=True)))
    file_url = fetched.json()["fileUrl"]
    aadhaar = await gateway.client.get(
        f"/api/digilocker/{request_id}/aadhaar", headers=gateway.headers
    )
    assert aadhaar.status_code == 200
    async with gateway.runtime.reading() as session:
        row = (
            await session.execute(select(RequestRecord).where(RequestRecord.id == request_id))
        ).scalar_one()
    sealed = gateway.runtime.sealed
    assert row.access_token_enc is not None
    assert row.refresh_token_enc is not None
    secrets = [
        sealed.open(ACCESS_TOKEN, row.id, row.access_token_enc),
        sealed.open(REFRESH_TOKEN, row.id, row.refresh_token_enc),
    ]
    personal = [
        user[key]
        for key in ("aadhaar", "mobile", "email", "digilockerid", "name", "dob")
        if user.get(key)
    ]
    assert len(personal) >= 4
    text = json.dumps(await stored_events(gateway))
    for value in [*secrets, *personal, file_url, file_url.split("/")[-1]]:
        assert value not in text
    assert "fileUrl" not in text
    assert "/files/" not in text


async def test_a_product_instance_sees_and_receives_only_its_own(gateway: Gateway) -> None:
    other_headers = await gateway.new_client_headers(name="other")
    with receiving() as mine, receiving() as theirs:
        endpoint = await add_endpoint(gateway, mine)
        await add_endpoint(gateway, theirs, headers=other_headers)
        created = await gateway.create_request()
        await deliver(gateway)
        assert [m.payload["data"]["id"] for m in mine.received] == [created["id"]]
        assert theirs.received == []

        base = f"/api/digilocker/webhooks/{endpoint['id']}"
        for method, path, body in (
            ("GET", base, None),
            ("PATCH", base, {"enabled": False}),
            ("POST", base + "/rotate-secret", {}),
            ("GET", base + "/deliveries", None),
            ("POST", base + "/replay", {"requestId": created["id"]}),
            ("DELETE", base, None),
        ):
            response = await gateway.client.request(method, path, json=body, headers=other_headers)
            assert_envelope(response, 404, "not_found")
        listed = await gateway.client.get("/api/digilocker/webhooks", headers=other_headers)
        assert [item["url"] for item in listed.json()["endpoints"]] == [theirs.url]
        all_theirs = await gateway.client.get(
            "/api/digilocker/webhooks/deliveries", headers=other_headers
        )
        assert all_theirs.json()["deliveries"] == []
        unauthenticated = await gateway.client.get("/api/digilocker/webhooks")
        assert unauthenticated.status_code == 401
