"""DigiLocker misbehaving — 5xx, 530, timeouts, dropped connections, malformed bodies, wrong
hmac — gives the contract's codes and loses nothing, through the simulator's fault injection."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from digilocker_gateway.documents.catalogue import CatalogueDocument, store_catalogue
from tests.documents.test_fetch import authenticated, fetch, fetch_body, pick
from tests.requests.test_create import assert_envelope
from tests.support import DatabaseUnderTest, Gateway, running_gateway, walk_journey


async def set_faults(gateway: Gateway, faults: dict[str, Any]) -> None:
    response = await gateway.client.put("/simulator/_sim/admin/faults", json=faults)
    assert response.status_code == 200, response.text


@pytest.fixture
async def impatient_gateway(
    database: DatabaseUnderTest, tmp_path: Path, catalogue_documents: list[CatalogueDocument]
) -> AsyncIterator[Gateway]:
    """Short upstream timeout, so a hung DigiLocker is given up on quickly."""
    async with running_gateway(
        database, tmp_path, upstream_read_timeout_seconds=0.3, upstream_max_retries=1
    ) as gateway:
        async with gateway.runtime.transaction() as session:
            await store_catalogue(session, catalogue_documents, now=gateway.clock.now())
        yield gateway


@pytest.mark.parametrize(
    "fault",
    [
        {"files_issued": {"error_rate": 1.0}},
        {
            "files_issued": {
                "error_rate": 1.0,
                "status": 503,
                "error": "partner_service_unresponsive",
            }
        },
        {"file": {"error_rate": 1.0, "error": "repository_service_exception"}},
        {"file": {"wrong_hmac": True}},
        {"file": {"drop": True}},
        {"files_issued": {"malformed": True}},
        {"files_issued": {"drop": True}},
    ],
    ids=lambda fault: "-".join(f"{k}:{','.join(v)}" for k, v in fault.items()),
)
async def test_upstream_failure_on_fetch_returns_500_upstream_server_error(
    catalogued_gateway: Gateway, fault: dict[str, Any]
) -> None:
    gateway = catalogued_gateway
    request_id, user = await authenticated(gateway, "complete")
    await set_faults(gateway, fault)
    response = await fetch(gateway, request_id, fetch_body(pick(user, issued=True)))
    assert_envelope(response, 500, "upstream_server_error")
    # Nothing was lost: once DigiLocker recovers, the same call works.
    await set_faults(gateway, {})
    retry = await fetch(gateway, request_id, fetch_body(pick(user, issued=True)))
    assert retry.status_code == 200, retry.text


async def test_v24_profile_530_maps_to_upstream_server_error(catalogued_gateway: Gateway) -> None:
    gateway = catalogued_gateway
    request_id, user = await authenticated(gateway, "issuer-down")
    profile = await gateway.client.put(
        "/simulator/_sim/admin/profile", json={"status_profile": "v2.4"}
    )
    assert profile.status_code == 200, profile.text
    response = await fetch(gateway, request_id, fetch_body(pick(user, issued=True)))
    assert_envelope(response, 500, "upstream_server_error")


async def test_hung_upstream_times_out_as_upstream_server_error(
    impatient_gateway: Gateway,
) -> None:
    gateway = impatient_gateway
    request_id, user = await authenticated(gateway, "complete")
    await set_faults(gateway, {"files_issued": {"timeout": True}})
    response = await fetch(gateway, request_id, fetch_body(pick(user, issued=True)))
    assert_envelope(response, 500, "upstream_server_error")


async def test_token_exchange_failure_redirects_with_failure_and_journey_can_restart(
    gateway: Gateway,
) -> None:
    await set_faults(gateway, {"token": {"error_rate": 1.0}})
    journey = await walk_journey(gateway)
    query = journey.final_query
    assert query["success"] == "false"
    assert query["errCode"] == "upstream_server_error"
    status = await gateway.client.get(
        f"/api/digilocker/{journey.request_id}/status", headers=gateway.headers
    )
    assert status.json()["status"] == "unauthenticated"
    await set_faults(gateway, {})
    again = await walk_journey(gateway)
    assert again.final_query["success"] == "true"


async def test_user_details_failure_still_authenticates(gateway: Gateway) -> None:
    await set_faults(gateway, {"user": {"error_rate": 1.0}})
    journey = await walk_journey(gateway)
    assert journey.final_query["success"] == "true"
    status = await gateway.client.get(
        f"/api/digilocker/{journey.request_id}/status", headers=gateway.headers
    )
    assert status.json()["status"] == "authenticated"
    assert status.json()["digilockerUserDetails"]["digilockerId"]


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        ({"error_rate": 1.0}, "get_xml_failed"),
        ({"wrong_hmac": True}, "get_xml_failed"),
        ({"drop": True}, "get_xml_failed"),
        # A truncated body with no hmac is refused as it arrives: no hmac, and not whole XML.
        ({"malformed": True}, "get_xml_failed"),
    ],
    ids=["5xx", "wrong-hmac", "drop", "malformed"],
)
async def test_eaadhaar_upstream_failure_returns_500(
    gateway: Gateway, fault: dict[str, Any], code: str
) -> None:
    journey = await walk_journey(gateway, doc_type="ADHAR")
    await set_faults(gateway, {"eaadhaar": fault})
    response = await gateway.client.get(
        f"/api/digilocker/{journey.request_id}/aadhaar", headers=gateway.headers
    )
    assert_envelope(response, 500, code)
