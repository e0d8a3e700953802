"""A lost refresh answer, a slow user-details call, a DigiLocker that never answers: the
request stays usable, and no wait outlasts its budget (docs/errors.md, "Waiting on DigiLocker"
and "Re-consent")."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from digilocker_gateway.documents.catalogue import CatalogueDocument, store_catalogue
from digilocker_gateway.simulator.driver import run_journey
from tests.documents.test_fetch import authenticated, fetch, fetch_body, pick
from tests.requests.test_create import assert_envelope
from tests.support import (
    BASE_URL,
    DatabaseUnderTest,
    Gateway,
    running_gateway,
    sim_user,
    walk_journey,
)


async def set_faults(gateway: Gateway, faults: dict[str, Any]) -> None:
    response = await gateway.client.put("/simulator/_sim/admin/faults", json=faults)
    assert response.status_code == 200, response.text


async def status_of(gateway: Gateway, request_id: str) -> dict[str, Any]:
    response = await gateway.client.get(
        f"/api/digilocker/{request_id}/status", headers=gateway.headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
async def quick_gateway(
    database: DatabaseUnderTest, tmp_path: Path, catalogue_documents: list[CatalogueDocument]
) -> AsyncIterator[Gateway]:
    """A catalogued gateway whose budgets are short, so hung calls end quickly."""
    async with running_gateway(
        database, tmp_path, api_deadline_seconds=1.0, callback_deadline_seconds=1.0
    ) as gateway:
        async with gateway.runtime.transaction() as session:
            await store_catalogue(session, catalogue_documents, now=gateway.clock.now())
        yield gateway


async def test_a_lost_refresh_answer_leads_to_re_consent_on_the_same_request(
    catalogued_gateway: Gateway,
) -> None:
    gateway = catalogued_gateway
    request_id, user = await authenticated(gateway, "complete")
    document = pick(user, issued=True)
    gateway.clock.advance(3600 + 60)
    # DigiLocker rotates the tokens, and the answer is lost on the way back.
    await set_faults(gateway, {"token": {"malformed": True}})
    lost = await fetch(gateway, request_id, fetch_body(document))
    assert_envelope(lost, 500, "upstream_server_error")
    await set_faults(gateway, {})
    # The next refresh uses the old, rotated-away refresh token: the grant is unusable.
    assert_envelope(await fetch(gateway, request_id, fetch_body(document)), 401, "invalid_token")
    status = await status_of(gateway, request_id)
    assert status["status"] == "authenticated"  # Setu's enum, unchanged
    assert status["reauthRequired"] is True
    # No further refresh is tried while re-consent is due.
    assert_envelope(await fetch(gateway, request_id, fetch_body(document)), 401, "invalid_token")

    # The same journey URL works again, and the same request id is usable after it.
    start = await gateway.client.get(status["url"])
    assert start.status_code == 302, start.text
    callback = await run_journey(
        gateway.client,
        start.headers["location"],
        identifier=user["identifier"],
        otp=user["otp"],
        pin=user["pin"],
    )
    back = await gateway.client.get(str(callback))
    assert back.status_code == 302
    assert "success=true" in back.headers["location"]
    assert (await status_of(gateway, request_id))["reauthRequired"] is False
    response = await fetch(gateway, request_id, fetch_body(document))
    assert response.status_code == 200, response.text


async def test_journey_url_of_a_usable_grant_still_answers_409(gateway: Gateway) -> None:
    journey = await walk_journey(gateway)
    status = await status_of(gateway, journey.request_id)
    assert status["reauthRequired"] is False
    again = await gateway.client.get(status["url"])
    assert again.status_code == 409


async def test_callback_completes_without_waiting_for_user_details(
    quick_gateway: Gateway,
) -> None:
    gateway = quick_gateway
    user = await sim_user(gateway, "complete")
    await set_faults(gateway, {"user": {"timeout": True}})
    loop = asyncio.get_running_loop()
    started = loop.time()
    journey = await walk_journey(gateway)
    assert journey.final_query["success"] == "true"
    # A status while DigiLocker's user call still hangs answers within its budget, with the
    # details the token response carried.
    status = await status_of(gateway, journey.request_id)
    assert loop.time() - started < 5
    assert status["status"] == "authenticated"
    assert status["digilockerUserDetails"]["email"] == ""  # only the user call gives it
    assert status["digilockerUserDetails"]["digilockerId"] == user["digilockerid"]
    await set_faults(gateway, {})
    filled = await status_of(gateway, journey.request_id)
    assert "@" in filled["digilockerUserDetails"]["email"]
    assert filled["digilockerUserDetails"]["digilockerId"] == user["digilockerid"]


@pytest.mark.parametrize("endpoint", ["files_issued", "file"])
async def test_a_hung_digilocker_ends_the_call_at_its_deadline(
    quick_gateway: Gateway, endpoint: str
) -> None:
    gateway = quick_gateway
    request_id, user = await authenticated(gateway, "complete")
    await set_faults(gateway, {endpoint: {"timeout": True}})
    loop = asyncio.get_running_loop()
    started = loop.time()
    response = await fetch(gateway, request_id, fetch_body(pick(user, issued=True)))
    assert loop.time() - started < 3  # a 1 s budget, however many retries there could be
    assert_envelope(response, 500, "upstream_server_error")
    await set_faults(gateway, {})
    retry = await fetch(gateway, request_id, fetch_body(pick(user, issued=True)))
    assert retry.status_code == 200, retry.text


async def test_a_hung_token_exchange_ends_the_callback_at_its_budget(
    quick_gateway: Gateway,
) -> None:
    gateway = quick_gateway
    await set_faults(gateway, {"token": {"timeout": True}})
    loop = asyncio.get_running_loop()
    started = loop.time()
    journey = await walk_journey(gateway)
    assert loop.time() - started < 5
    assert journey.final_query["success"] == "false"
    assert journey.final_query["errCode"] == "upstream_server_error"
    assert journey.final_url.startswith("https://app.example.com/")
    assert BASE_URL not in journey.final_url


async def test_a_grant_revoked_behind_the_gateways_back_shows_reauth_after_one_call(
    catalogued_gateway: Gateway,
) -> None:
    gateway = catalogued_gateway
    request_id, user = await authenticated(gateway, "complete")
    document = pick(user, issued=True)
    # DigiLocker revokes the tokens, and its answer is lost: the gateway still holds them.
    await set_faults(gateway, {"revoke": {"drop": True}})
    lost = await gateway.client.get(f"/api/digilocker/{request_id}/revoke", headers=gateway.headers)
    assert_envelope(lost, 500, "upstream_server_error")
    await set_faults(gateway, {})
    # One refused call settles it: DigiLocker refuses the renewal too, so re-consent is due.
    assert_envelope(await fetch(gateway, request_id, fetch_body(document)), 401, "invalid_token")
    status = await status_of(gateway, request_id)
    assert status["status"] == "authenticated"
    assert status["reauthRequired"] is True
    start = await gateway.client.get(status["url"])
    assert start.status_code == 302, start.text
    callback = await run_journey(
        gateway.client,
        start.headers["location"],
        identifier=user["identifier"],
        otp=user["otp"],
        pin=user["pin"],
    )
    back = await gateway.client.get(str(callback))
    assert "success=true" in back.headers["location"]
    response = await fetch(gateway, request_id, fetch_body(document))
    assert response.status_code == 200, response.text
