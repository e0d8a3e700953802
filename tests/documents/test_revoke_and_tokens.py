"""Revoke, and the user's tokens: transparent refresh, and what happens when it fails."""

from __future__ import annotations

import asyncio
import base64

from digilocker_gateway.config import DEV_PARTNER_CLIENT_ID, DEV_PARTNER_CLIENT_SECRET
from digilocker_gateway.db.models import RequestRecord
from digilocker_gateway.storage.sealed import ACCESS_TOKEN, REFRESH_TOKEN
from tests.documents.test_fetch import authenticated, fetch, fetch_body, pick
from tests.requests.test_create import assert_envelope
from tests.support import Gateway


async def revoke(gateway: Gateway, request_id: str) -> object:
    return await gateway.client.get(f"/api/digilocker/{request_id}/revoke", headers=gateway.headers)


async def test_revoke_marks_revoked_and_later_calls_return_token_revoked(
    catalogued_gateway: Gateway,
) -> None:
    gateway = catalogued_gateway
    request_id, user = await authenticated(gateway, "complete")
    fetched = await fetch(gateway, request_id, fetch_body(pick(user, issued=True)))
    file_url = fetched.json()["fileUrl"]

    response = await revoke(gateway, request_id)
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert response.json() == {"success": True}  # type: ignore[attr-defined]

    status = await gateway.client.get(
        f"/api/digilocker/{request_id}/status", headers=gateway.headers
    )
    assert status.json()["status"] == "revoked"
    again = await fetch(gateway, request_id, fetch_body(pick(user, issued=True)))
    assert_envelope(again, 401, "token_revoked")
    assert_envelope(await gateway.client.get(file_url), 404, "not_found")
    async with gateway.runtime.sessions() as session:
        row = await session.get(RequestRecord, request_id)
        assert row is not None
        assert row.access_token_enc is None
        assert row.refresh_token_enc is None


async def test_revoking_twice_is_harmless(catalogued_gateway: Gateway) -> None:
    gateway = catalogued_gateway
    request_id, _ = await authenticated(gateway, "complete")
    first = await revoke(gateway, request_id)
    second = await revoke(gateway, request_id)
    assert first.status_code == second.status_code == 200  # type: ignore[attr-defined]


async def test_revoke_before_authentication_returns_401_user_not_authenticated(
    gateway: Gateway,
) -> None:
    created = await gateway.create_request()
    assert_envelope(await revoke(gateway, created["id"]), 401, "user_not_authenticated")


async def test_revoke_reaches_digilocker(catalogued_gateway: Gateway) -> None:
    """After revoke, the old access token is dead at the simulator too (revoke cascades)."""
    gateway = catalogued_gateway
    request_id, _ = await authenticated(gateway, "complete")
    access = await stored_token(gateway, request_id, "access_token")
    await revoke(gateway, request_id)
    response = await gateway.client.get(
        "/simulator/public/oauth2/1/user", headers={"Authorization": f"Bearer {access}"}
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


async def stored_token(gateway: Gateway, request_id: str, field: str) -> str:
    async with gateway.runtime.sessions() as session:
        row = await session.get(RequestRecord, request_id)
        assert row is not None
        encrypted = getattr(row, f"{field}_enc")
        assert encrypted is not None
        sealed_field = {"access_token": ACCESS_TOKEN, "refresh_token": REFRESH_TOKEN}[field]
        return gateway.runtime.sealed.open(sealed_field, request_id, encrypted)


async def test_tokens_are_stored_encrypted(catalogued_gateway: Gateway) -> None:
    gateway = catalogued_gateway
    request_id, _ = await authenticated(gateway, "complete")
    access = await stored_token(gateway, request_id, "access_token")
    async with gateway.runtime.sessions() as session:
        row = await session.get(RequestRecord, request_id)
        assert row is not None
        assert access not in (row.access_token_enc or "")


async def test_expired_access_token_is_refreshed_transparently(
    catalogued_gateway: Gateway,
) -> None:
    gateway = catalogued_gateway
    request_id, user = await authenticated(gateway, "complete")
    old_access = await stored_token(gateway, request_id, "access_token")
    old_refresh = await stored_token(gateway, request_id, "refresh_token")
    gateway.clock.advance(3600 + 60)
    response = await fetch(gateway, request_id, fetch_body(pick(user, issued=True)))
    assert response.status_code == 200, response.text
    assert await stored_token(gateway, request_id, "access_token") != old_access
    assert await stored_token(gateway, request_id, "refresh_token") != old_refresh


async def test_failed_refresh_returns_401_invalid_token(catalogued_gateway: Gateway) -> None:
    gateway = catalogued_gateway
    request_id, user = await authenticated(gateway, "complete")
    refresh = await stored_token(gateway, request_id, "refresh_token")
    basic = base64.b64encode(f"{DEV_PARTNER_CLIENT_ID}:{DEV_PARTNER_CLIENT_SECRET}".encode())
    revoked = await gateway.client.post(
        "/simulator/public/oauth2/1/revoke",
        data={"token": refresh, "token_type_hint": "refresh_token"},
        headers={"Authorization": f"Basic {basic.decode()}"},
    )
    assert revoked.status_code == 200, revoked.text
    gateway.clock.advance(3600 + 60)
    response = await fetch(gateway, request_id, fetch_body(pick(user, issued=True)))
    assert_envelope(response, 401, "invalid_token")


async def test_parallel_calls_needing_a_refresh_both_succeed(
    catalogued_gateway: Gateway,
) -> None:
    gateway = catalogued_gateway
    request_id, user = await authenticated(gateway, "complete")
    gateway.clock.advance(3600 + 60)
    body = fetch_body(pick(user, issued=True))
    first, second = await asyncio.gather(
        fetch(gateway, request_id, body), fetch(gateway, request_id, body)
    )
    assert first.status_code == 200, first.text
    assert second.status_code == 200, second.text
