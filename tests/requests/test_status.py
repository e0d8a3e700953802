"""Status: tenant isolation, expiry, unknown ids."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from digilocker_gateway.requests import service
from tests.requests.test_create import assert_envelope
from tests.support import BASE_URL, Gateway, walk_journey


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


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("own", 200, None),
        ("unknown", 404, "request_not_found"),
        ("no_credentials", 401, "vault_secret_error"),
        ("wrong_secret", 401, "invalid_credentials"),
        ("expired", 404, "request_not_found"),
    ],
)
async def test_status_answers_carry_the_trace_id_of_the_call(
    gateway: Gateway, case: str, status: int, code: str | None
) -> None:
    created = await gateway.create_request()
    request_id = "00000000-0000-4000-8000-000000000000" if case == "unknown" else created["id"]
    headers = {
        "no_credentials": {},
        "wrong_secret": {**gateway.headers, "x-client-secret": "not-the-secret"},
    }.get(case, gateway.headers)
    if case == "expired":
        gateway.clock.advance(gateway.runtime.settings.request_lifetime_seconds + 1)
    response = await gateway.client.get(f"/api/digilocker/{request_id}/status", headers=headers)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    trace_id = body["traceId"] if code is None else body["error"]["traceId"]
    assert trace_id == response.headers["x-trace-id"]
    if code is not None:
        assert_envelope(response, status, code)


async def test_status_after_authentication_shows_user_details(gateway: Gateway) -> None:
    journey = await walk_journey(gateway)
    path = f"/api/digilocker/{journey.request_id}/status"
    body = (await gateway.client.get(path, headers=gateway.headers)).json()
    assert body["status"] == "authenticated"
    details = body["digilockerUserDetails"]
    assert set(details) == {"digilockerId", "email", "phoneNumber"}
    assert details["digilockerId"]


async def test_head_answers_like_get_and_other_methods_get_405(gateway: Gateway) -> None:
    created = await gateway.create_request()
    path = f"/api/digilocker/{created['id']}/status"
    head = await gateway.client.head(path, headers=gateway.headers)
    assert head.status_code == 200  # for monitoring probes; Setu documents only GET
    assert head.headers["x-trace-id"]
    assert head.headers["content-type"] == "application/json"
    anonymous = await gateway.client.head(path)
    assert anonymous.status_code == 401
    posted = await gateway.client.post(path, headers=gateway.headers)
    assert_envelope(posted, 405, "method_not_allowed")


async def test_status_path_with_trailing_slash_is_answered_directly(gateway: Gateway) -> None:
    created = await gateway.create_request()
    path = f"/api/digilocker/{created['id']}/status"
    response = await gateway.client.get(path + "/", headers=gateway.headers)
    assert response.status_code == 200, response.text
    assert response.json()["id"] == created["id"]


async def test_status_is_served_under_a_root_path(gateway: Gateway) -> None:
    created = await gateway.create_request()
    transport = httpx.ASGITransport(app=gateway.app, root_path="/kyc")
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        response = await client.get(
            f"/kyc/api/digilocker/{created['id']}/status", headers=gateway.headers
        )
    assert response.status_code == 200, response.text
    assert response.json()["id"] == created["id"]


async def test_outer_middleware_sees_the_documented_route(gateway: Gateway) -> None:
    created = await gateway.create_request()
    seen: list[str] = []

    async def naming_middleware(scope: Scope, receive: Receive, send: Send) -> None:
        await gateway.app(scope, receive, send)
        seen.append(scope["route"].path)

    transport = httpx.ASGITransport(app=naming_middleware)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        response = await client.get(
            f"/api/digilocker/{created['id']}/status", headers=gateway.headers
        )
    assert response.status_code == 200
    assert seen == ["/api/digilocker/{request_id}/status"]


async def test_unexpected_error_in_status_is_a_500_envelope_without_details(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    created = await gateway.create_request()

    async def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("secret-token-value")

    monkeypatch.setattr(service, "get_request", broken)
    response = await gateway.client.get(
        f"/api/digilocker/{created['id']}/status", headers=gateway.headers
    )
    assert_envelope(response, 500, "internal_server_error")
    assert "secret-token-value" not in response.text
    assert "secret-token-value" not in caplog.text
    assert "RuntimeError" in caplog.text
