"""GET /api/digilocker/{id}/aadhaar end to end: journey -> simulator e-Aadhaar -> verified OKYC."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from digilocker_gateway.simulator.pki import SimulatorPKI
from tests.aadhaar.test_okyc import SETU_ADDRESS_KEYS
from tests.requests.test_create import assert_envelope
from tests.support import DatabaseUnderTest, Gateway, running_gateway, walk_journey
from tests.xml_signatures import signed_root


async def aadhaar_call(gateway: Gateway, request_id: str) -> Any:
    return await gateway.client.get(
        f"/api/digilocker/{request_id}/aadhaar", headers=gateway.headers
    )


async def signed_in(gateway: Gateway, scenario: str) -> str:
    journey = await walk_journey(gateway, scenario=scenario, doc_type="ADHAR")
    assert journey.final_query["success"] == "true", journey.final_url
    return journey.request_id


async def test_aadhaar_is_verified_and_mapped_field_by_field(gateway: Gateway) -> None:
    request_id = await signed_in(gateway, "complete")
    response = await aadhaar_call(gateway, request_id)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == request_id
    assert body["status"] == "complete"
    aadhaar = body["aadhaar"]
    users = (await gateway.client.get("/simulator/_sim/users")).json()
    user = next(u for u in users if u["scenario"] == "complete")
    assert aadhaar["name"] == user["name"]
    assert aadhaar["maskedNumber"] == "xxxx-xxxx-" + user["identifier"][-4:]
    assert user["identifier"] not in response.text
    assert set(aadhaar["address"]) == SETU_ADDRESS_KEYS
    assert len(aadhaar["dateOfBirth"]) == 10
    assert aadhaar["dateOfBirth"][2] == "-"
    assert aadhaar["gender"] in {"M", "F", "T"}
    assert aadhaar["photo"].startswith("/9j/")
    assert aadhaar["email"] == ""
    assert aadhaar["phone"] == ""
    assert aadhaar["verified"] == {"email": False, "phone": False, "signature": True}
    assert aadhaar["generatedAt"].endswith("+05:30")
    xml = aadhaar["xml"]
    assert xml["shareCode"] == ""
    assert xml["validUntil"].endswith("+05:30")

    download = await gateway.client.get(xml["fileUrl"])
    assert download.status_code == 200
    signer = (await gateway.client.get("/simulator/_sim/signer.pem")).content
    assert signed_root(download.content, cert_pem=signer).tag is not None


async def test_user_without_aadhaar_returns_400_aadhaar_not_linked(gateway: Gateway) -> None:
    request_id = await signed_in(gateway, "aadhaar-not-linked")
    assert_envelope(await aadhaar_call(gateway, request_id), 400, "aadhaar_not_linked")


async def test_user_without_eaadhaar_returns_401_aadhaar_not_available(gateway: Gateway) -> None:
    request_id = await signed_in(gateway, "eaadhaar-not-available")
    assert_envelope(await aadhaar_call(gateway, request_id), 401, "aadhaar_not_available")


async def test_aadhaar_before_authentication_returns_401(gateway: Gateway) -> None:
    created = await gateway.create_request()
    assert_envelope(await aadhaar_call(gateway, created["id"]), 401, "user_not_authenticated")


async def test_aadhaar_after_revoke_returns_401_token_revoked(gateway: Gateway) -> None:
    request_id = await signed_in(gateway, "complete")
    await gateway.client.get(f"/api/digilocker/{request_id}/revoke", headers=gateway.headers)
    assert_envelope(await aadhaar_call(gateway, request_id), 401, "token_revoked")


async def test_unknown_request_returns_404(gateway: Gateway) -> None:
    response = await aadhaar_call(gateway, "00000000-0000-4000-8000-000000000000")
    assert_envelope(response, 404, "request_not_found")


@pytest.fixture
async def untrusting_gateway(database: DatabaseUnderTest, tmp_path: Path) -> Any:
    """A gateway that pins some other signer, not the simulator's."""
    other = tmp_path / "other-signer.pem"
    other.write_bytes(SimulatorPKI.load_or_create(None).signer_cert_pem)
    async with running_gateway(
        database,
        tmp_path,
        aadhaar_trust_simulator=False,
        aadhaar_signer_cert_files=[other],
    ) as gateway:
        yield gateway


async def test_untrusted_signer_returns_500_unwrap_aadhaar_failed(
    untrusting_gateway: Gateway,
) -> None:
    gateway = untrusting_gateway
    request_id = await signed_in(gateway, "complete")
    assert_envelope(await aadhaar_call(gateway, request_id), 500, "unwrap_aadhaar_failed")


async def test_product_setting_returns_unverified_aadhaar_flagged(
    untrusting_gateway: Gateway,
) -> None:
    gateway = untrusting_gateway
    gateway.headers.update(await gateway.new_client_headers(aadhaar_allow_unverified=True))
    request_id = await signed_in(gateway, "complete")
    response = await aadhaar_call(gateway, request_id)
    assert response.status_code == 200, response.text
    assert response.json()["aadhaar"]["verified"]["signature"] is False
