"""Storage: the keyring and encryption at rest, blob stores for fetched files, and the signed,
expiring tokens behind file URLs (design.md, "Secrets" and the journey's step 6)."""

from __future__ import annotations

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
    KeyringTextCipher,
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
    "KeyringTextCipher",
    "LocalBlobStore",
    "SignedFile",
    "SignedUrlError",
    "UnknownEncryptionKey",
    "UnknownKeyId",
    "decrypt_stream",
    "decrypt_text",
    "encrypt_stream",
    "encrypt_text",
    "sign_file_token",
    "validate_blob_key",
    "verify_file_token",
]
