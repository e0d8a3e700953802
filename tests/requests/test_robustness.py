"""Failures in the middle of a call: unexpected errors, revokes racing fetches, and calls
racing each other to refresh the same grant."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from digilocker_gateway.db.models import ProductInstance, RequestRecord
from digilocker_gateway.errors import TokenRevoked
from digilocker_gateway.requests import service
from digilocker_gateway.requests.files import blob_key_for, keep_file
from digilocker_gateway.tenants.tenant import Tenant
from tests.requests.test_create import assert_envelope
from tests.support import REDIRECT_URL, Gateway, walk_journey


async def test_unexpected_error_answers_500_envelope_with_trace_id(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("token=secret-value must not leak")

    monkeypatch.setattr(service, "create_request", broken)
    response = await gateway.client.post(
        "/api/digilocker", json={"redirectUrl": REDIRECT_URL}, headers=gateway.headers
    )
    assert_envelope(response, 500, "internal_server_error")
    assert "secret-value" not in response.text


async def test_file_downloaded_after_revoke_is_not_kept(gateway: Gateway) -> None:
    journey = await walk_journey(gateway)
    async with gateway.runtime.sessions() as session:
        row = await session.get(RequestRecord, journey.request_id)
        assert row is not None
        product = await session.get(ProductInstance, row.product_instance_id)
        assert product is not None
        tenant = Tenant.of(product)
    blob_key = blob_key_for(journey.request_id)

    async def body() -> AsyncIterator[bytes]:
        yield b"%PDF-1.4 synthetic"

    await gateway.runtime.blobs.put(blob_key, body(), content_type="application/pdf")
    revoked = await gateway.client.get(
        f"/api/digilocker/{journey.request_id}/revoke", headers=gateway.headers
    )
    assert revoked.status_code == 200
    with pytest.raises(TokenRevoked):
        await keep_file(
            gateway.runtime,
            tenant,
            request_id=journey.request_id,
            blob_key=blob_key,
            kind="document",
            content_type="application/pdf",
            size=18,
            doc_type="PANCR",
            org_id="001891",
            valid_upto=gateway.clock.now(),
            filename="x.pdf",
        )
    assert not await gateway.runtime.blobs.exists(blob_key)
