"""Create request: Setu's contract, credentials, and bad input that changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from digilocker_gateway.db.models import RequestRecord
from tests.support import BASE_URL, REDIRECT_URL, Gateway


async def request_count(gateway: Gateway) -> int:
    async with gateway.runtime.sessions() as session:
        return int((await session.execute(select(func.count(RequestRecord.id)))).scalar_one())


def assert_envelope(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "detail", "traceId"}
    assert body["error"]["code"] == code
    assert body["error"]["detail"]
    assert body["error"]["traceId"] == response.headers["x-trace-id"]


@pytest.mark.parametrize("path", ["/api/digilocker", "/api/digilocker/"])
async def test_create_returns_setu_shape_with_ist_valid_upto(gateway: Gateway, path: str) -> None:
    response = await gateway.client.post(
        path, json={"redirectUrl": REDIRECT_URL, "docType": "PANCR"}, headers=gateway.headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"id", "status", "url", "validUpto"}
    assert body["status"] == "unauthenticated"
    assert body["url"] == f"{BASE_URL}/digilocker/journey/{body['id']}"
    assert body["validUpto"].endswith("+05:30")


async def test_create_without_credentials_returns_401_and_creates_nothing(gateway: Gateway) -> None:
    response = await gateway.client.post("/api/digilocker", json={"redirectUrl": REDIRECT_URL})
    assert_envelope(response, 401, "vault_secret_error")
    assert await request_count(gateway) == 0


@pytest.mark.parametrize("header", ["x-client-id", "x-client-secret", "x-product-instance-id"])
async def test_create_with_one_wrong_credential_returns_401(gateway: Gateway, header: str) -> None:
    headers = {**gateway.headers, header: "4b8a6a58-0000-4000-8000-000000000000"}
    response = await gateway.client.post(
        "/api/digilocker", json={"redirectUrl": REDIRECT_URL}, headers=headers
    )
    assert_envelope(response, 401, "invalid_credentials")
    assert await request_count(gateway) == 0


async def test_bad_body_with_bad_credentials_still_returns_401(gateway: Gateway) -> None:
    response = await gateway.client.post(
        "/api/digilocker", content=b"{not json", headers={"x-client-id": "nobody"}
    )
    assert_envelope(response, 401, "vault_secret_error")


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"{not json", "invalid_payload"),
        (b"", "invalid_payload"),
        (b"[]", "invalid_payload"),
        (b'{"redirectUrl": 42}', "invalid_payload"),
        (b'{"redirectUrl": "https://a.example", "docType": "pancr"}', "invalid_payload"),
        (b'{"redirectUrl": "https://a.example", "docType": "dr vlc!"}', "invalid_payload"),
        (b'{"docType": "PANCR"}', "invalid_payload"),
        (b'{"redirectUrl": "/relative/path"}', "invalid_redirect_url"),
        (b'{"redirectUrl": "javascript:alert(1)"}', "invalid_redirect_url"),
        (b'{"redirectUrl": "ftp://files.example.com/x"}', "invalid_redirect_url"),
        (b'{"redirectUrl": "https://user:pw@evil.example"}', "invalid_redirect_url"),
        (b'{"redirectUrl": "https:///no-host"}', "invalid_redirect_url"),
        (b'{"redirectUrl": "https://ok.example/a b"}', "invalid_redirect_url"),
    ],
)
async def test_create_with_bad_input_returns_400_and_creates_nothing(
    gateway: Gateway, content: bytes, code: str
) -> None:
    response = await gateway.client.post(
        "/api/digilocker",
        content=content,
        headers={**gateway.headers, "content-type": "application/json"},
    )
    assert_envelope(response, 400, code)
    assert await request_count(gateway) == 0


async def test_create_with_huge_body_returns_413_and_creates_nothing(gateway: Gateway) -> None:
    body = b'{"redirectUrl": "https://a.example/?' + b"x" * 200_000 + b'"}'
    response = await gateway.client.post(
        "/api/digilocker",
        content=body,
        headers={**gateway.headers, "content-type": "application/json"},
    )
    assert_envelope(response, 413, "payload_too_large")
    assert await request_count(gateway) == 0


async def test_redirect_allow_list_refuses_other_hosts(gateway: Gateway) -> None:
    headers = await gateway.new_client_headers(redirect_allowed_hosts=["app.example.com"])
    allowed = await gateway.client.post(
        "/api/digilocker", json={"redirectUrl": REDIRECT_URL}, headers=headers
    )
    assert allowed.status_code == 200
    refused = await gateway.client.post(
        "/api/digilocker", json={"redirectUrl": "https://evil.example/x"}, headers=headers
    )
    assert_envelope(refused, 400, "invalid_redirect_url")
