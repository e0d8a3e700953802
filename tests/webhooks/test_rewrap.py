"""`keys rewrap` reseals webhook signing secrets too, so the old key can go and the endpoint
still signs with the secret its receiver holds."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from digilocker_gateway.db.models import WebhookEndpoint
from digilocker_gateway.runtime_build import close_runtime
from digilocker_gateway.storage.encryption import text_key_id
from digilocker_gateway.storage.rewrap import rewrap_all
from digilocker_gateway.webhooks.service import signing_secrets
from tests.storage.test_rewrap import NEW, OLD, _runtime
from tests.support import DatabaseUnderTest, running_gateway
from tests.webhooks.receiver import receiving
from tests.webhooks.support import add_endpoint


async def test_rewrap_moves_webhook_secrets_to_the_active_key(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    with receiving() as receiver:
        async with running_gateway(database, tmp_path, encryption_keys=OLD) as gateway:
            endpoint = await add_endpoint(gateway, receiver)
            await gateway.client.post(
                f"/api/digilocker/webhooks/{endpoint['id']}/rotate-secret",
                json={"overlapSeconds": 3600},
                headers=gateway.headers,
            )
    rotated = await _runtime(database, tmp_path, f"{NEW},{OLD}", "new")
    try:
        report = await rewrap_all(rotated, include_files=False)
        assert report.unreadable == 0
    finally:
        await close_runtime(rotated)
    new_only = await _runtime(database, tmp_path, NEW, "new")
    try:
        async with new_only.reading() as session:
            row = (await session.execute(select(WebhookEndpoint))).scalar_one()
        assert row.previous_secret_enc is not None
        assert text_key_id(row.secret_enc) == text_key_id(row.previous_secret_enc) == "new"
        assert (
            signing_secrets(row, new_only.sealed, new_only.clock.now())[1] == (endpoint["secret"])
        )
    finally:
        await close_runtime(new_only)
