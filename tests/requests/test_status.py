"""Status: tenant isolation, expiry, unknown ids."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from digilocker_gateway.requests import endpoints
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


# GETs of the status path are answered by StatusCall ahead of FastAPI's routing; the FastAPI
# route documents the call and answers the rest. These hold the two to the same contract.


def documented_route_client(gateway: Gateway) -> httpx.AsyncClient:
    """A client that reaches the app through FastAPI's own routing, skipping the fast path."""
    app = gateway.app

    async def through_fastapi(scope: Scope, receive: Receive, send: Send) -> None:
        await FastAPI.__call__(app, scope, receive, send)

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=through_fastapi), base_url=BASE_URL)


def without_trace(body: dict[str, Any]) -> dict[str, Any]:
    if "error" in body:
        return {"error": {k: v for k, v in body["error"].items() if k != "traceId"}}
    return {k: v for k, v in body.items() if k != "traceId"}


@pytest.mark.parametrize("case", ["own", "unknown", "no_credentials", "wrong_secret", "expired"])
async def test_fast_path_answers_as_the_documented_route(gateway: Gateway, case: str) -> None:
    created = await gateway.create_request()
    request_id = "00000000-0000-4000-8000-000000000000" if case == "unknown" else created["id"]
    headers = {
        "no_credentials": {},
        "wrong_secret": {**gateway.headers, "x-client-secret": "not-the-secret"},
    }.get(case, gateway.headers)
    if case == "expired":
        gateway.clock.advance(gateway.runtime.settings.request_lifetime_seconds + 1)
    path = f"/api/digilocker/{request_id}/status"
    fast = await gateway.client.get(path, headers=headers)
    async with documented_route_client(gateway) as client:
        documented = await client.get(path, headers=headers)
    assert fast.status_code == documented.status_code
    assert without_trace(fast.json()) == without_trace(documented.json())
    assert fast.headers["content-type"] == documented.headers["content-type"]
    assert (
        fast.json().get("traceId", fast.json().get("error", {}).get("traceId"))
        == (fast.headers["x-trace-id"])
    )
    expected = {"own": 200, "unknown": 404, "no_credentials": 401, "wrong_secret": 401}
    assert fast.status_code == expected.get(case, 404)


async def test_status_after_authentication_shows_user_details_on_both_paths(
    gateway: Gateway,
) -> None:
    journey = await walk_journey(gateway)
    path = f"/api/digilocker/{journey.request_id}/status"
    fast = (await gateway.client.get(path, headers=gateway.headers)).json()
    async with documented_route_client(gateway) as client:
        documented = (await client.get(path, headers=gateway.headers)).json()
    assert fast["status"] == "authenticated"
    assert set(fast["digilockerUserDetails"]) == {"digilockerId", "email", "phoneNumber"}
    assert without_trace(fast) == without_trace(documented)


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


async def test_status_path_with_trailing_slash_redirects_to_the_status_call(
    gateway: Gateway,
) -> None:
    created = await gateway.create_request()
    path = f"/api/digilocker/{created['id']}/status"
    response = await gateway.client.get(path + "/", headers=gateway.headers)
    assert response.status_code == 307  # FastAPI's redirect_slashes, as for every route
    assert response.headers["location"] == BASE_URL + path


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

    monkeypatch.setattr(endpoints, "read_status", broken)
    response = await gateway.client.get(
        f"/api/digilocker/{created['id']}/status", headers=gateway.headers
    )
    assert_envelope(response, 500, "internal_server_error")
    assert "secret-token-value" not in response.text
    assert "secret-token-value" not in caplog.text
    assert "RuntimeError" in caplog.text


async def test_only_gets_and_heads_of_the_status_path_take_the_fast_path(
    gateway: Gateway,
) -> None:
    created = await gateway.create_request()
    fast_path = gateway.app.status_call
    assert fast_path is not None
    taken: list[str] = []

    async def counting(scope: Scope, receive: Receive, send: Send) -> None:
        taken.append(f"{scope['method']} {scope['path']}")
        assert fast_path is not None
        await fast_path(scope, receive, send)

    gateway.app.status_call = counting
    path = f"/api/digilocker/{created['id']}/status"
    assert (await gateway.client.get(path, headers=gateway.headers)).status_code == 200
    assert (await gateway.client.head(path, headers=gateway.headers)).status_code == 200
    await gateway.client.post(path, headers=gateway.headers)
    await gateway.client.get(path + "/", headers=gateway.headers)
    await gateway.client.get(f"/api/digilocker/{created['id']}/revoke", headers=gateway.headers)
    transport = httpx.ASGITransport(app=gateway.app, root_path="/kyc")
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        under_root = await client.get("/kyc" + path, headers=gateway.headers)
    assert under_root.status_code == 200
    assert taken == [f"GET {path}", f"HEAD {path}", f"GET /kyc{path}"]
