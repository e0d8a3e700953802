"""An S3-compatible blob store, for when one machine is not enough (docs/architecture.md §6):
every gateway process reads and writes the same bucket.

Two ways to let clients download a file (`client_access`):

- ``presigned``: the bucket is reachable by clients. Objects are stored as plaintext, protected
  by the store's server-side encryption, and `fileUrl` is a pre-signed GET URL that expires at
  the file's `validUpto`. Revoking or purging a request deletes the object, so its URL stops
  working at once.
- ``proxy``: the bucket must not be reachable by clients. Objects are sealed with the gateway's
  own stream encryption (as in `LocalBlobStore`; the associated data is the blob key) and
  server-side encryption is requested on top; `fileUrl` stays the gateway's signed URL.

Each object records how it was stored (metadata ``dlg-format``), so `open` reads objects written
under either mode: switching modes never strands a file that is still live.

boto3 is synchronous, so every call runs in a worker thread and the event loop never blocks.
Large bodies go up as a multipart upload, one part in memory at a time.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final, Literal, ParamSpec, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from digilocker_gateway.storage.blobs import (
    BlobInfo,
    BlobNotFound,
    BlobStoreError,
    BlobStoreUnavailable,
    validate_blob_key,
)
from digilocker_gateway.storage.encryption import decrypt_stream, encrypt_stream
from digilocker_gateway.storage.keys import Keyring

if TYPE_CHECKING:
    from botocore.response import StreamingBody
    from types_boto3_s3.client import S3Client
    from types_boto3_s3.type_defs import (
        CompletedPartTypeDef,
        CreateMultipartUploadRequestTypeDef,
        PutObjectRequestTypeDef,
    )

logger = logging.getLogger("digilocker_gateway.storage")

ClientAccess = Literal["presigned", "proxy"]
ServerSideEncryption = Literal["AES256", "aws:kms"]
AddressingStyle = Literal["auto", "path", "virtual"]

# S3 refuses parts below 5 MiB except the last one.
MIN_PART_SIZE: Final = 5 * 1024 * 1024
DEFAULT_PART_SIZE: Final = 8 * 1024 * 1024
# SigV4 pre-signed URLs cannot be valid for longer than seven days.
MAX_PRESIGNED_SECONDS: Final = 7 * 24 * 3600

_READ_SIZE: Final = 256 * 1024
_FORMAT_METADATA: Final = "dlg-format"
_PLAIN: Final = "plain"
_SEALED: Final = "sealed-v1"
_NOT_FOUND_CODES: Final = frozenset({"404", "NoSuchKey", "NotFound"})
_UNSAFE_FILENAME_CHARACTERS: Final = re.compile(r"[^A-Za-z0-9._-]")

_P = ParamSpec("_P")
_T = TypeVar("_T")


def create_s3_client(
    *,
    endpoint_url: str | None = None,
    region: str | None = None,
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
    addressing_style: AddressingStyle = "auto",
) -> S3Client:
    """A boto3 S3 client. Without explicit keys, boto3's usual chain applies (environment,
    shared config, instance or task role)."""
    config = Config(
        # Pre-signed URLs must carry X-Amz-Expires; only SigV4 has it (and some regions accept
        # nothing else).
        signature_version="s3v4",
        s3={"addressing_style": addressing_style},
        connect_timeout=5,
        read_timeout=60,
        retries={"mode": "standard", "max_attempts": 3},
        # The default executor runs many calls at once; a smaller pool would make them queue.
        max_pool_connections=32,
        # Recent botocore adds CRC trailers to every upload by default, which several
        # S3-compatible stores refuse; TLS already protects the bytes in transit.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    session = boto3.session.Session()
    return session.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        config=config,
    )


async def _in_thread(function: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
    task = asyncio.ensure_future(asyncio.to_thread(function, *args, **kwargs))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        # A boto3 call cannot be interrupted. Waiting for it means the cleanup that follows a
        # cancellation (aborting a multipart upload) runs after a part upload, not beside it,
        # where the part could land after the abort and be kept.
        await asyncio.wait([task])
        if not task.cancelled():
            task.exception()  # retrieved, so asyncio does not report it as never seen
        raise


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "unknown"))


def _is_not_found(exc: ClientError) -> bool:
    return _error_code(exc) in _NOT_FOUND_CODES


def presigned_lifetime(expires_at: datetime, *, now: datetime) -> int:
    """ExpiresIn for a URL that must stop working at `expires_at`: whole seconds, rounded down
    (the signature's date is whole seconds too) so the URL dies at most two seconds early and
    never late; at least 1 (S3 refuses 0), at most the seven days SigV4 allows."""
    if expires_at.tzinfo is None or now.tzinfo is None:
        raise ValueError("expires_at and now must be timezone-aware")
    seconds = math.floor((expires_at - now).total_seconds())
    return max(1, min(MAX_PRESIGNED_SECONDS, seconds))


def content_disposition(filename: str) -> str:
    # Only a conservative character set goes inside the quotes: a quote or a line break in a
    # filename would otherwise break the header S3 echoes back to the browser.
    safe = _UNSAFE_FILENAME_CHARACTERS.sub("_", filename) or "document"
    return f'attachment; filename="{safe}"'


def _normalised_prefix(prefix: str) -> str:
    stripped = prefix.strip("/")
    if not stripped:
        return ""
    return validate_blob_key(stripped) + "/"


class S3BlobStore:
    """Blobs as objects in an S3-compatible bucket, under `prefix` (see the module docstring for
    the two `client_access` modes)."""

    def __init__(
        self,
        client: S3Client,
        *,
        bucket: str,
        keyring: Keyring,
        prefix: str = "digilocker-gateway/",
        client_access: ClientAccess = "presigned",
        server_side_encryption: ServerSideEncryption | None = "AES256",
        kms_key_id: str | None = None,
        part_size: int = DEFAULT_PART_SIZE,
    ) -> None:
        if not bucket:
            raise ValueError("bucket must be set")
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes (S3's minimum)")
        if kms_key_id is not None and server_side_encryption != "aws:kms":
            raise ValueError("kms_key_id only applies with server_side_encryption='aws:kms'")
        self._client = client
        self._bucket = bucket
        self._keyring = keyring
        self._prefix = _normalised_prefix(prefix)
        self._client_access: ClientAccess = client_access
        self._server_side_encryption: ServerSideEncryption | None = server_side_encryption
        self._kms_key_id = kms_key_id
        self._part_size = part_size

    @property
    def bucket(self) -> str:
        return self._bucket

    @property
    def client(self) -> S3Client:
        return self._client

    @property
    def client_access(self) -> ClientAccess:
        return self._client_access

    def object_key(self, key: str) -> str:
        """The S3 object key a blob key is stored under."""
        return self._prefix + validate_blob_key(key)

    # --- writing ------------------------------------------------------------------------------

    async def put(self, key: str, chunks: AsyncIterator[bytes], *, content_type: str) -> BlobInfo:
        object_key = self.object_key(key)
        if not content_type.isascii() or not 0 < len(content_type) < 256:
            raise ValueError("content_type must be 1-255 ASCII characters")
        size = 0

        async def counted() -> AsyncGenerator[bytes, None]:
            nonlocal size
            async for chunk in chunks:
                size += len(chunk)
                yield chunk

        sealed = self._client_access == "proxy"
        body = (
            encrypt_stream(self._keyring, counted(), associated_data=key.encode("ascii"))
            if sealed
            else counted()
        )
        async with aclosing(body):
            await self._upload(object_key, body, content_type, _SEALED if sealed else _PLAIN)
        return BlobInfo(key=key, size=size, content_type=content_type)

    def _put_request(
        self, object_key: str, content_type: str, stored_format: str
    ) -> PutObjectRequestTypeDef:
        request: PutObjectRequestTypeDef = {
            "Bucket": self._bucket,
            "Key": object_key,
            # A sealed object is ciphertext whatever the file is (its real type is in the
            # database); labelling it as the document would only mislead.
            "ContentType": content_type if stored_format == _PLAIN else "application/octet-stream",
            "Metadata": {_FORMAT_METADATA: stored_format},
        }
        if self._server_side_encryption is not None:
            request["ServerSideEncryption"] = self._server_side_encryption
        if self._kms_key_id is not None:
            request["SSEKMSKeyId"] = self._kms_key_id
        return request

    async def _upload(
        self, object_key: str, body: AsyncIterator[bytes], content_type: str, stored_format: str
    ) -> None:
        request = self._put_request(object_key, content_type, stored_format)
        buffer = bytearray()
        upload_id: str | None = None
        parts: list[CompletedPartTypeDef] = []

        async def send_part(data: bytes) -> None:
            assert upload_id is not None
            number = len(parts) + 1
            uploaded = await _in_thread(
                self._client.upload_part,
                Bucket=self._bucket,
                Key=object_key,
                UploadId=upload_id,
                PartNumber=number,
                Body=data,
            )
            parts.append({"ETag": uploaded["ETag"], "PartNumber": number})

        try:
            async for piece in body:
                buffer += piece
                while len(buffer) >= self._part_size:
                    if upload_id is None:
                        upload_id = await self._create_multipart(request)
                    part = bytes(buffer[: self._part_size])
                    del buffer[: self._part_size]
                    await send_part(part)
            if upload_id is None:
                # Smaller than one part: a single PUT, which S3 applies atomically.
                request["Body"] = bytes(buffer)
                await _in_thread(self._client.put_object, **request)
                return
            if buffer:
                await send_part(bytes(buffer))
                buffer.clear()
            # Until this call nothing is visible under the key: completing is the atomic step.
            await _in_thread(
                self._client.complete_multipart_upload,
                Bucket=self._bucket,
                Key=object_key,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
            )
        except BaseException:
            if upload_id is not None:
                await self._abort(object_key, upload_id)
            raise

    async def _create_multipart(self, request: PutObjectRequestTypeDef) -> str:
        create: CreateMultipartUploadRequestTypeDef = {
            "Bucket": request["Bucket"],
            "Key": request["Key"],
            "ContentType": request["ContentType"],
            "Metadata": request["Metadata"],
        }
        if "ServerSideEncryption" in request:
            create["ServerSideEncryption"] = request["ServerSideEncryption"]
        if "SSEKMSKeyId" in request:
            create["SSEKMSKeyId"] = request["SSEKMSKeyId"]
        created = await _in_thread(self._client.create_multipart_upload, **create)
        return created["UploadId"]

    async def _abort(self, object_key: str, upload_id: str) -> None:
        # Uploaded parts are stored (and billed) until the upload is aborted; a failed source
        # must not leave them behind.
        try:
            await _in_thread(
                self._client.abort_multipart_upload,
                Bucket=self._bucket,
                Key=object_key,
                UploadId=upload_id,
            )
        except (ClientError, BotoCoreError) as exc:
            logger.warning(
                "could not abort a multipart upload (%s); the bucket's "
                "AbortIncompleteMultipartUpload lifecycle rule will remove its parts",
                type(exc).__name__,
            )

    # --- reading ------------------------------------------------------------------------------

    async def open(self, key: str) -> AsyncIterator[bytes]:
        object_key = self.object_key(key)
        try:
            response = await _in_thread(
                self._client.get_object, Bucket=self._bucket, Key=object_key
            )
        except ClientError as exc:
            if _is_not_found(exc):
                raise BlobNotFound(key) from None
            raise BlobStoreError(f"S3 GetObject failed: {_error_code(exc)}") from exc
        body = response["Body"]
        if response.get("Metadata", {}).get(_FORMAT_METADATA) == _SEALED:
            return self._decrypted(key, body)
        return _read_body(body)

    async def _decrypted(self, key: str, body: StreamingBody) -> AsyncGenerator[bytes, None]:
        source = _read_body(body)
        plaintext = decrypt_stream(self._keyring, source, associated_data=key.encode("ascii"))
        async with aclosing(source), aclosing(plaintext):
            async for chunk in plaintext:
                yield chunk

    async def presigned_url(
        self, key: str, *, expires_at: datetime, filename: str, content_type: str
    ) -> str | None:
        object_key = self.object_key(key)
        if self._client_access != "presigned":
            return None
        # botocore dates the signature with the system clock, so the lifetime is measured
        # from the same clock for the URL to die at `expires_at`.
        lifetime = presigned_lifetime(expires_at, now=datetime.now(UTC))
        return await _in_thread(
            self._client.generate_presigned_url,
            "get_object",
            Params={
                "Bucket": self._bucket,
                "Key": object_key,
                "ResponseContentType": content_type,
                "ResponseContentDisposition": content_disposition(filename),
                # As the gateway's own download: the document must not sit in shared caches.
                "ResponseCacheControl": "private, no-store",
            },
            ExpiresIn=lifetime,
        )

    # --- the rest of the protocol -------------------------------------------------------------

    async def delete(self, key: str) -> None:
        object_key = self.object_key(key)
        try:
            await _in_thread(self._client.delete_object, Bucket=self._bucket, Key=object_key)
        except ClientError as exc:
            if not _is_not_found(exc):
                raise BlobStoreError(f"S3 DeleteObject failed: {_error_code(exc)}") from exc

    async def exists(self, key: str) -> bool:
        object_key = self.object_key(key)
        try:
            await _in_thread(self._client.head_object, Bucket=self._bucket, Key=object_key)
        except ClientError as exc:
            # Without s3:ListBucket, S3 answers 403 for a missing key, so only a real 404 is
            # "absent"; anything else is an error to surface, not a silent False.
            if _is_not_found(exc):
                return False
            raise BlobStoreError(f"S3 HeadObject failed: {_error_code(exc)}") from exc
        return True

    def locator(self, key: str) -> str:
        return validate_blob_key(key)

    async def stored_before(self, moment: datetime) -> AsyncGenerator[str, None]:
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self._bucket, Prefix=self._prefix
        )
        iterator = iter(pages)
        while (page := await _in_thread(next, iterator, None)) is not None:
            for item in page.get("Contents", []):
                if item["LastModified"] < moment and item["Key"].startswith(self._prefix):
                    yield item["Key"][len(self._prefix) :]

    async def delete_located(self, locator: str) -> None:
        await self.delete(locator)

    async def sweep_incomplete(self, *, started_before: datetime) -> int:
        # A process killed during a multipart upload leaves its parts stored (and billed) until
        # the upload is aborted; uploads started before the cut-off belong to no live writer.
        removed = 0
        pages = self._client.get_paginator("list_multipart_uploads").paginate(
            Bucket=self._bucket, Prefix=self._prefix
        )
        iterator = iter(pages)
        while (page := await _in_thread(next, iterator, None)) is not None:
            for upload in page.get("Uploads", []):
                if upload["Initiated"] < started_before:
                    await self._abort(upload["Key"], upload["UploadId"])
                    removed += 1
        return removed

    async def check(self) -> None:
        try:
            await _in_thread(self._client.head_bucket, Bucket=self._bucket)
        except ClientError as exc:
            raise BlobStoreUnavailable(
                f"S3 bucket {self._bucket!r} is not usable: {_error_code(exc)}"
            ) from None
        except BotoCoreError as exc:
            raise BlobStoreUnavailable(
                f"S3 bucket {self._bucket!r} is not reachable: {type(exc).__name__}"
            ) from None

    async def aclose(self) -> None:
        """Close the client's connection pool."""
        await asyncio.to_thread(self._client.close)


async def _read_body(body: StreamingBody) -> AsyncGenerator[bytes, None]:
    try:
        while data := await _in_thread(body.read, _READ_SIZE):
            yield data
    finally:
        body.close()
