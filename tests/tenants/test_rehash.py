"""Client-secret hashes move to the active key the first time the secret is seen after a
key rotation, so the old key can be retired without re-issuing every client's secret."""

from __future__ import annotations

from pathlib import Path

from digilocker_gateway.db.models import Client
from digilocker_gateway.storage.keys import Keyring, encode_key
from tests.support import DatabaseUnderTest, running_gateway

OLD = encode_key(b"o" * 32)
NEW = encode_key(b"n" * 32)


async def test_secret_hashed_under_old_key_is_rehashed_under_the_active_key(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    async with running_gateway(
        database, tmp_path, encryption_keys=f"old:{OLD}", encryption_active_key_id="old"
    ) as gateway:
        headers = gateway.headers
    async with running_gateway(
        database,
        tmp_path,
        encryption_keys=f"new:{NEW},old:{OLD}",
        encryption_active_key_id="new",
    ) as gateway:
        response = await gateway.client.get(
            "/api/digilocker/00000000-0000-4000-8000-000000000000/status", headers=headers
        )
        assert response.status_code == 404  # authenticated; the request just does not exist
        async with gateway.runtime.sessions() as session:
            client = await session.get(Client, headers["x-client-id"])
            assert client is not None
            assert client.secret_hash_key_id == "new"
    async with running_gateway(
        database, tmp_path, encryption_keys=f"new:{NEW}", encryption_active_key_id="new"
    ) as gateway:
        response = await gateway.client.get(
            "/api/digilocker/00000000-0000-4000-8000-000000000000/status", headers=headers
        )
        assert response.status_code == 404, "the old key is no longer needed to authenticate"


def test_keyring_fixture_keys_are_valid() -> None:
    assert Keyring.parse(f"new:{NEW},old:{OLD}", "new").active_id == "new"
