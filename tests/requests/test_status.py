"""Status: tenant isolation, expiry, unknown ids."""

from __future__ import annotations

import pytest

from tests.requests.test_create import assert_envelope
from tests.support import Gateway


async def test_status_of_new_request_has_empty_user_details(gateway: Gateway) -> None:
    created = await gateway.create_request()
    response = await gateway.client.get(
        f"/api/digilocker/{created['id']}/status", headers=gateway.headers
    )
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == created["id"]
    assert body["status"] == "unauthenticated"
    assert body["digilockerUserDetails"] == {}
    assert body["url"] == created["url"]
    assert body["validUpto"] == created["validUpto"]
    assert body["traceId"] == response.headers["x-trace-id"]


async def test_request_is_invisible_to_another_client(gateway: Gateway) -> None:
    created = await gateway.create_request()
    other = await gateway.new_client_headers()
    response = await gateway.client.get(f"/api/digilocker/{created['id']}/status", headers=other)
    assert_envelope(response, 404, "request_not_found")


async def test_request_is_invisible_to_same_client_with_other_instance_id(
    gateway: Gateway,
) -> None:
    created = await gateway.create_request()
    other = await gateway.new_client_headers()
    mixed = {**gateway.headers, "x-product-instance-id": other["x-product-instance-id"]}
    response = await gateway.client.get(f"/api/digilocker/{created['id']}/status", headers=mixed)
    assert_envelope(response, 401, "invalid_credentials")


async def test_expired_request_returns_404(gateway: Gateway) -> None:
    created = await gateway.create_request()
    gateway.clock.advance(gateway.runtime.settings.request_lifetime_seconds + 1)
    response = await gateway.client.get(
        f"/api/digilocker/{created['id']}/status", headers=gateway.headers
    )
    assert_envelope(response, 404, "request_not_found")


@pytest.mark.parametrize("request_id", ["not-a-uuid", "00000000-0000-4000-8000-000000000000"])
async def test_unknown_or_malformed_id_returns_404(gateway: Gateway, request_id: str) -> None:
    response = await gateway.client.get(
        f"/api/digilocker/{request_id}/status", headers=gateway.headers
    )
    assert_envelope(response, 404, "request_not_found")
