"""The embedded default's dev client: created on first `serve`, its credentials kept in the data
folder (dev only) so every later start can print the same curl example."""

from __future__ import annotations

import json
import os

from digilocker_gateway.config import Settings
from digilocker_gateway.errors import Unauthorized
from digilocker_gateway.runtime_build import standalone_runtime
from digilocker_gateway.tenants.service import authenticate, create_client

DEV_CLIENT_FILE = "dev-client.json"


async def ensure_dev_client(settings: Settings) -> dict[str, str]:
    path = settings.data_dir / DEV_CLIENT_FILE
    async with standalone_runtime(settings, with_upstream=False) as runtime:
        if path.exists():
            saved = json.loads(path.read_text())
            async with runtime.transaction() as session:
                try:
                    await authenticate(
                        session,
                        runtime.hasher,
                        client_id=saved.get("x-client-id"),
                        client_secret=saved.get("x-client-secret"),
                        product_instance_id=saved.get("x-product-instance-id"),
                    )
                    return {key: str(value) for key, value in saved.items()}
                except Unauthorized:
                    pass  # stale file (database reset): make a new client
        async with runtime.transaction() as session:
            created = await create_client(
                session,
                hasher=runtime.hasher,
                sealed=runtime.sealed,
                clock=runtime.clock,
                name="dev",
                digilocker_client_id=settings.digilocker_client_id,
                digilocker_client_secret=settings.digilocker_client_secret.get_secret_value(),
                request_lifetime_seconds=settings.request_lifetime_seconds,
            )
    headers = created.as_headers()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(headers, handle, indent=2)
    return headers
