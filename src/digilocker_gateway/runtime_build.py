"""Building and closing a `Runtime`: for the app's lifespan and for one-off CLI commands."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from digilocker_gateway.aadhaar.signers import AadhaarSigners
from digilocker_gateway.config import Settings
from digilocker_gateway.db.engine import build_sessionmaker, engine_for
from digilocker_gateway.db.migrate import ensure_schema
from digilocker_gateway.documents.catalogue import CatalogueCache
from digilocker_gateway.kit.clock import Clock, SystemClock
from digilocker_gateway.kit.private_files import private_directory
from digilocker_gateway.kit.secrets import SecretHasher
from digilocker_gateway.runtime import Runtime
from digilocker_gateway.storage.blobs import BlobStore, LocalBlobStore
from digilocker_gateway.storage.keys import Keyring
from digilocker_gateway.storage.sealed import SealedValues
from digilocker_gateway.upstream.transport import upstream_http_client

logger = logging.getLogger("digilocker_gateway")

DEV_KEY_FILE = "dev-encryption.key"


def load_keyring(settings: Settings) -> Keyring:
    if settings.encryption_keys is not None:
        return Keyring.parse(
            settings.encryption_keys.get_secret_value(), settings.encryption_active_key_id
        )
    keyring, created = Keyring.generate_dev(settings.data_dir / DEV_KEY_FILE)
    if created:
        logger.warning(
            "dev mode: generated an encryption key at %s; set DLG_ENCRYPTION_KEYS in production",
            settings.data_dir / DEV_KEY_FILE,
        )
    return keyring


def build_blob_store(settings: Settings, keyring: Keyring) -> BlobStore:
    """The blob store the settings choose: local disk, or an S3-compatible bucket."""
    if settings.blob_store == "local":
        return LocalBlobStore(settings.data_dir / "files", keyring)
    assert settings.s3_bucket, "Settings refuse an S3 store without a bucket"
    # Imported here so the embedded default never loads boto3.
    from digilocker_gateway.storage.s3 import S3BlobStore, create_s3_client

    secret = settings.s3_secret_access_key
    client = create_s3_client(
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
        access_key_id=settings.s3_access_key_id,
        secret_access_key=None if secret is None else secret.get_secret_value(),
        addressing_style=settings.s3_addressing_style,
    )
    return S3BlobStore(
        client,
        bucket=settings.s3_bucket,
        keyring=keyring,
        prefix=settings.s3_prefix,
        client_access=settings.s3_client_access,
        server_side_encryption=settings.s3_server_side_encryption,
        kms_key_id=settings.s3_kms_key_id,
    )


def secret_hasher(keyring: Keyring) -> SecretHasher:
    active = keyring.active_id
    older = tuple(
        (key_id, key) for key_id, key in keyring.subkeys("client-secrets") if key_id != active
    )
    return SecretHasher(active, keyring.subkey("client-secrets", active), older)


async def build_runtime(
    settings: Settings,
    *,
    clock: Clock | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    catalogue: CatalogueCache | None = None,
    worker_id: str = "worker",
    check_schema: bool = True,
) -> Runtime:
    private_directory(settings.data_dir)
    engine = engine_for(settings)
    if check_schema:  # off only where the database is already known to be at head (tests)
        try:
            await ensure_schema(engine, migrate=settings.migrate_on_start)
        except BaseException:
            await engine.dispose()
            raise
    keyring = load_keyring(settings)
    http = upstream_http_client(settings, transport)
    return Runtime(
        settings=settings,
        clock=clock or SystemClock(),
        engine=engine,
        sessions=build_sessionmaker(engine),
        read_sessions=build_sessionmaker(engine, autocommit=True),
        keyring=keyring,
        hasher=secret_hasher(keyring),
        sealed=SealedValues(keyring),
        blobs=build_blob_store(settings, keyring),
        http=http,
        aadhaar_signers=AadhaarSigners(settings, http),
        document_signers=AadhaarSigners(
            settings,
            http,
            [*settings.aadhaar_signer_cert_files, *settings.document_signer_cert_files],
        ),
        offline_signers=AadhaarSigners(settings, http, settings.aadhaar_offline_signer_cert_files),
        catalogue=catalogue or CatalogueCache(),
        worker_id=worker_id,
    )


async def close_runtime(runtime: Runtime) -> None:
    await runtime.http.aclose()
    close_blobs = getattr(runtime.blobs, "aclose", None)
    if close_blobs is not None:
        await close_blobs()
    await runtime.engine.dispose()


@asynccontextmanager
async def standalone_runtime(
    settings: Settings, *, with_upstream: bool = True
) -> AsyncIterator[Runtime]:
    """A runtime for a CLI command. On the embedded default the simulator runs in process, so
    `catalogue refresh` works without a running gateway."""
    transport: httpx.AsyncBaseTransport | None = None
    if with_upstream and settings.uses_embedded_simulator:
        from digilocker_gateway.simulator.embedded import standalone_transport

        transport = standalone_transport(settings)
    runtime = await build_runtime(settings, transport=transport)
    try:
        yield runtime
    finally:
        await close_runtime(runtime)
