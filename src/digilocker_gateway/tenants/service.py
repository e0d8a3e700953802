"""Create API clients and authenticate every `/api` call against them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from digilocker_gateway.db.models import Client, ProductInstance
from digilocker_gateway.errors import MissingCredentials, Unauthorized
from digilocker_gateway.kit.clock import Clock
from digilocker_gateway.kit.secrets import SecretHasher, random_secret
from digilocker_gateway.storage.sealed import PARTNER_SECRET, SealedValues


@dataclass(frozen=True, slots=True)
class CreatedClient:
    client_id: str
    client_secret: str  # shown once, never stored
    product_instance_id: str

    def as_headers(self) -> dict[str, str]:
        return {
            "x-client-id": self.client_id,
            "x-client-secret": self.client_secret,
            "x-product-instance-id": self.product_instance_id,
        }


async def create_client(
    session: AsyncSession,
    *,
    hasher: SecretHasher,
    sealed: SealedValues,
    clock: Clock,
    name: str,
    digilocker_client_id: str,
    digilocker_client_secret: str,
    request_lifetime_seconds: int,
    redirect_allowed_hosts: list[str] | None = None,
    aadhaar_allow_unverified: bool = False,
    allow_missing_hmac: bool = False,
    journey_browser_binding: bool = True,
    refuse_number_mismatch: bool = False,
) -> CreatedClient:
    """A client with one product instance holding the business's DigiLocker partner app."""
    secret = random_secret()
    key_id, secret_hash = hasher.hash(secret)
    now = clock.now()
    client = Client(
        id=str(uuid.uuid4()),
        name=name,
        secret_hash=secret_hash,
        secret_hash_key_id=key_id,
        created_at=now,
    )
    instance_id = str(uuid.uuid4())
    instance = ProductInstance(
        id=instance_id,
        client_id=client.id,
        name=name,
        digilocker_client_id=digilocker_client_id,
        digilocker_client_secret_enc=sealed.seal(
            PARTNER_SECRET, instance_id, digilocker_client_secret
        ),
        redirect_allowed_hosts=",".join(h.lower() for h in redirect_allowed_hosts)
        if redirect_allowed_hosts
        else None,
        request_lifetime_seconds=request_lifetime_seconds,
        aadhaar_allow_unverified=aadhaar_allow_unverified,
        allow_missing_hmac=allow_missing_hmac,
        journey_browser_binding=journey_browser_binding,
        refuse_number_mismatch=refuse_number_mismatch,
        created_at=now,
    )
    session.add(client)
    await session.flush()
    session.add(instance)
    await session.flush()
    return CreatedClient(client.id, secret, instance_id)


async def authenticate(
    session: AsyncSession,
    hasher: SecretHasher,
    *,
    client_id: str | None,
    client_secret: str | None,
    product_instance_id: str | None,
) -> ProductInstance:
    """The product instance the three Setu headers name, or 401. Every failure looks the same to
    the caller, so the answer does not tell which header was wrong."""
    if not client_id or not client_secret or not product_instance_id:
        raise MissingCredentials()
    row = (
        await session.execute(
            select(Client, ProductInstance)
            .join(ProductInstance, ProductInstance.client_id == Client.id)
            .where(Client.id == client_id, ProductInstance.id == product_instance_id)
        )
    ).first()
    if row is None:
        # Hash anyway so a wrong id takes as long as a wrong secret.
        hasher.hash(client_secret)
        raise Unauthorized()
    client, instance = row
    if not hasher.matches(
        client_secret, key_id=client.secret_hash_key_id, expected=client.secret_hash
    ):
        raise Unauthorized()
    if client.secret_hash_key_id != hasher.key_id:
        # Hashed under a key being retired: move it to the active key now that we hold the
        # secret, so the old key can eventually be dropped (docs/deployment.md, rotation).
        client.secret_hash_key_id, client.secret_hash = hasher.hash(client_secret)
        await session.flush()
    return instance


# The product instance settings `admin set-options` changes (docs/journey-options.md §5).
JOURNEY_OPTION_COLUMNS = frozenset(
    {
        "max_request_lifetime_seconds",
        "max_consent_validity_seconds",
        "default_flow",
        "default_purpose",
        "allowed_extensions",
        "account_checks_per_minute",
    }
)


async def set_journey_options(
    session: AsyncSession, product_instance_id: str, changes: dict[str, object]
) -> ProductInstance | None:
    """Set the named journey-option columns of a product instance (None clears one back to
    the gateway's default); None when there is no such instance. Running gateways see the
    change once their credential cache entry ends (tenants/cache.py)."""
    unknown = set(changes) - JOURNEY_OPTION_COLUMNS
    if unknown:
        raise ValueError(f"not journey options: {sorted(unknown)}")
    instance = await session.get(ProductInstance, product_instance_id)
    if instance is None:
        return None
    for name, value in changes.items():
        setattr(instance, name, value)
    await session.flush()
    return instance
