"""Storage: the keyring and encryption at rest, blob stores for fetched files, and the signed,
expiring tokens behind file URLs (docs/architecture.md §4 and §1, step 6)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from digilocker_gateway.storage.blobs import (
    BlobInfo,
    BlobNotFound,
    BlobStore,
    BlobStoreError,
    BlobStoreUnavailable,
    InvalidBlobKey,
    LocalBlobStore,
    validate_blob_key,
)
from digilocker_gateway.storage.encryption import (
    DecryptionError,
    UnknownEncryptionKey,
    decrypt_stream,
    decrypt_text,
    encrypt_stream,
    encrypt_text,
)
from digilocker_gateway.storage.keys import Keyring, KeyringError, UnknownKeyId
from digilocker_gateway.storage.signed_urls import (
    ExpiredSignedUrl,
    InvalidSignedUrl,
    SignedFile,
    SignedUrlError,
    sign_file_token,
    verify_file_token,
)

if TYPE_CHECKING:
    from digilocker_gateway.storage.s3 import S3BlobStore, create_s3_client


def __getattr__(name: str) -> Any:
    # boto3 takes a noticeable while to import; only deployments that use S3 should pay for it.
    if name in ("S3BlobStore", "create_s3_client"):
        from digilocker_gateway.storage import s3

        return getattr(s3, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BlobInfo",
    "BlobNotFound",
    "BlobStore",
    "BlobStoreError",
    "BlobStoreUnavailable",
    "DecryptionError",
    "ExpiredSignedUrl",
    "InvalidBlobKey",
    "InvalidSignedUrl",
    "Keyring",
    "KeyringError",
    "LocalBlobStore",
    "S3BlobStore",
    "SignedFile",
    "SignedUrlError",
    "UnknownEncryptionKey",
    "UnknownKeyId",
    "create_s3_client",
    "decrypt_stream",
    "decrypt_text",
    "encrypt_stream",
    "encrypt_text",
    "sign_file_token",
    "validate_blob_key",
    "verify_file_token",
]
