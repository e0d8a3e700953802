"""Everything a call or a job needs, built once in the app's lifespan (or by the CLI) and passed
down explicitly: settings, clock, database, keys, blob store, the shared upstream HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from digilocker_gateway.aadhaar.signers import AadhaarSigners
from digilocker_gateway.audit.log import ChainHeads
from digilocker_gateway.config import Settings
from digilocker_gateway.kit.clock import Clock
from digilocker_gateway.kit.locks import KeyedLocks
from digilocker_gateway.kit.secrets import SecretHasher
from digilocker_gateway.storage.blobs import BlobStore
from digilocker_gateway.storage.keys import Keyring
from digilocker_gateway.storage.sealed import PARTNER_SECRET, SealedValues
from digilocker_gateway.tenants.cache import TenantCache
from digilocker_gateway.tenants.tenant import Tenant
from digilocker_gateway.upstream.client import CallObserver, DigiLockerClient, PartnerCredentials

if TYPE_CHECKING:
    from digilocker_gateway.documents.catalogue import CatalogueCache


@dataclass(slots=True)
class Runtime:
    settings: Settings
    clock: Clock
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    read_sessions: async_sessionmaker[AsyncSession]
    keyring: Keyring
    hasher: SecretHasher
    sealed: SealedValues
    blobs: BlobStore
    http: httpx.AsyncClient
    aadhaar_signers: AadhaarSigners
    # Issued documents' XML signers (docs/document-data.md §2): the e-Aadhaar ones and the
    # issuers' own pinned certificates.
    document_signers: AadhaarSigners
    # UIDAI's offline e-KYC signers (docs/document-data.md §6).
    offline_signers: AadhaarSigners
    catalogue: CatalogueCache
    worker_id: str = field(default="worker")
    tenants: TenantCache = field(default_factory=TenantCache)
    # The last audit link this process wrote of each chain (audit/log.py).
    audit_heads: ChainHeads = field(default_factory=ChainHeads)
    grant_locks: KeyedLocks = field(default_factory=KeyedLocks)
    # Metrics and circuit breakers of DigiLocker calls (ops/upstream_guard.py); None in CLI runs.
    upstream_observer: CallObserver | None = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One transaction: committed if the block succeeds, rolled back if it raises."""
        async with self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A session for work that only reads: its statements run in autocommit, each
        consistent on its own, which spares the BEGIN and COMMIT round trips. Never write
        through it (a flush would commit at once)."""
        async with self.read_sessions() as session:
            yield session

    def partner_credentials(self, tenant: Tenant | None) -> PartnerCredentials:
        settings = self.settings
        if tenant is None:
            client_id = settings.digilocker_client_id
            client_secret = settings.digilocker_client_secret.get_secret_value()
        else:
            client_id = tenant.digilocker_client_id
            client_secret = self.sealed.open(
                PARTNER_SECRET, tenant.product_instance_id, tenant.digilocker_client_secret_sealed
            )
        return PartnerCredentials(
            base_url=settings.effective_digilocker_base_url,
            client_id=client_id,
            client_secret=client_secret,
            redirect_uri=settings.callback_url,
            token_path=settings.digilocker_token_path,
            eaadhaar_path=settings.digilocker_eaadhaar_path,
            meta_hash_fields=tuple(settings.digilocker_meta_hash_fields),
            meta_hash_encoding=settings.digilocker_meta_hash_encoding,
            max_retries=settings.upstream_max_retries,
            require_hmac=tenant is None or not tenant.allow_missing_hmac,
        )

    def upstream(self, tenant: Tenant | None) -> DigiLockerClient:
        """DigiLocker as this product instance's partner app (None: the gateway's own app,
        used for the catalogue)."""
        clock = self.clock
        return DigiLockerClient(
            self.http,
            self.partner_credentials(tenant),
            clock=lambda: clock.now().timestamp(),
            observer=self.upstream_observer,
        )
