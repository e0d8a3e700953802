"""The S3 blob store against a real S3-protocol server (moto in server mode, on 127.0.0.1):
round trips, multipart streaming, server-side encryption, clean failure, proxy-mode ciphertext,
pre-signed URLs and key validation."""

from __future__ import annotations

import asyncio
import base64
import os
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import httpx
import pytest
from botocore.config import Config
from moto.server import ThreadedMotoServer

from digilocker_gateway.storage.blobs import (
    BlobNotFound,
    BlobStoreUnavailable,
    InvalidBlobKey,
    LocalBlobStore,
)
from digilocker_gateway.storage.encryption import DecryptionError
from digilocker_gateway.storage.keys import Keyring
from digilocker_gateway.storage.s3 import (
    MAX_PRESIGNED_SECONDS,
    MIN_PART_SIZE,
    ClientAccess,
    S3BlobStore,
    content_disposition,
    create_s3_client,
    presigned_lifetime,
)

REGION = "ap-south-1"
ACCESS_KEY_ID = "AKIASYNTHETICTEST01"
SECRET_ACCESS_KEY = "synthetic-secret-for-moto-only"
KEY = "requests/6f1c2a9e-synthetic/0a1b2c3d"
MiB = 1024 * 1024


# --- a real S3-protocol server, shared with tests/documents/test_fetch_s3.py -----------------


@contextmanager
def moto_server() -> Iterator[str]:
    """A moto S3 server on 127.0.0.1 and a free port; yields its endpoint URL."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def admin_client(endpoint: str) -> Any:
    """A plain boto3 client for looking behind the store's back."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


def create_bucket(endpoint: str) -> str:
    """A new, empty bucket with a unique name, so tests never see each other's objects."""
    name = f"dlg-test-{uuid.uuid4().hex[:16]}"
    client = admin_client(endpoint)
    try:
        client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    finally:
        client.close()
    return name


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def bucket(endpoint: str) -> str:
    return create_bucket(endpoint)


@pytest.fixture
def admin(endpoint: str) -> Iterator[Any]:
    client = admin_client(endpoint)
    yield client
    client.close()


def keyring() -> Keyring:
    return Keyring.parse(f"k1:{base64.b64encode(bytes([7]) * 32).decode()}", None)


@contextmanager
def s3_store(
    endpoint: str, bucket: str, *, client_access: ClientAccess = "presigned", **options: Any
) -> Iterator[S3BlobStore]:
    client = create_s3_client(
        endpoint_url=endpoint,
        region=REGION,
        access_key_id=ACCESS_KEY_ID,
        secret_access_key=SECRET_ACCESS_KEY,
        addressing_style="path",
    )
    try:
        yield S3BlobStore(
            client, bucket=bucket, keyring=keyring(), client_access=client_access, **options
        )
    finally:
        client.close()


async def feed(pieces: list[bytes]) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece


async def read_all(store: S3BlobStore, key: str) -> bytes:
    return b"".join([chunk async for chunk in await store.open(key)])


def odd_chunks(data: bytes, size: int = 99_991) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def pending_uploads(admin: Any, bucket: str) -> list[Any]:
    uploads: list[Any] = admin.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    return uploads


def raw_object(admin: Any, bucket: str, store: S3BlobStore, key: str) -> bytes:
    body: bytes = admin.get_object(Bucket=bucket, Key=store.object_key(key))["Body"].read()
    return body


# --- round trips ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["presigned", "proxy"])
async def test_small_blob_round_trips_then_delete_removes_it(
    endpoint: str, bucket: str, mode: ClientAccess
) -> None:
    data = b"%PDF-1.7 synthetic document " + os.urandom(3000)
    with s3_store(endpoint, bucket, client_access=mode) as store:
        info = await store.put(KEY, feed([data[:5], data[5:]]), content_type="application/pdf")

        assert (info.key, info.size, info.content_type) == (KEY, len(data), "application/pdf")
        assert await store.exists(KEY)
        assert await read_all(store, KEY) == data

        await store.delete(KEY)
        assert not await store.exists(KEY)
        with pytest.raises(BlobNotFound):
            await store.open(KEY)


@pytest.mark.parametrize("mode", ["presigned", "proxy"])
async def test_large_stream_in_odd_chunks_goes_up_in_parts_while_it_is_read(
    endpoint: str, bucket: str, admin: Any, mode: ClientAccess
) -> None:
    data = os.urandom(10 * MiB + 777)
    uploads_seen_mid_stream: list[int] = []

    async def source() -> AsyncIterator[bytes]:
        for index, piece in enumerate(odd_chunks(data)):
            # Near the end of the stream, the first 8 MiB part must already be at the server:
            # the document is sent part by part, not gathered whole first.
            if index == len(data) // 99_991 - 1:
                uploads_seen_mid_stream.append(len(pending_uploads(admin, bucket)))
            yield piece

    with s3_store(endpoint, bucket, client_access=mode) as store:
        info = await store.put(KEY, source(), content_type="application/pdf")

        assert info.size == len(data)
        assert uploads_seen_mid_stream == [1]
        assert pending_uploads(admin, bucket) == []
        etag = admin.head_object(Bucket=bucket, Key=store.object_key(KEY))["ETag"]
        assert etag.strip('"').endswith("-2")  # a multipart object of two parts
        assert await read_all(store, KEY) == data


async def test_put_replaces_the_blob_under_the_same_key(endpoint: str, bucket: str) -> None:
    with s3_store(endpoint, bucket) as store:
        await store.put(KEY, feed([b"first version"]), content_type="application/xml")
        await store.put(KEY, feed([b"second"]), content_type="application/xml")
        assert await read_all(store, KEY) == b"second"


async def test_missing_blob_open_raises_not_found_and_delete_is_quiet(
    endpoint: str, bucket: str
) -> None:
    with s3_store(endpoint, bucket) as store:
        with pytest.raises(BlobNotFound) as raised:
            await store.open("requests/none/missing")
        assert raised.value.key == "requests/none/missing"
        await store.delete("requests/none/missing")
        assert not await store.exists("requests/none/missing")


async def test_objects_live_under_the_configured_prefix(
    endpoint: str, bucket: str, admin: Any
) -> None:
    with s3_store(endpoint, bucket, prefix="tenant-a/files") as store:
        await store.put(KEY, feed([b"x"]), content_type="application/pdf")
    listed = admin.list_objects_v2(Bucket=bucket)["Contents"]
    assert [item["Key"] for item in listed] == [f"tenant-a/files/{KEY}"]


# --- server-side encryption -------------------------------------------------------------------


@pytest.mark.parametrize("size", [100, 9 * MiB], ids=["single-put", "multipart"])
async def test_objects_are_written_with_sse_aes256_requested(
    endpoint: str, bucket: str, admin: Any, size: int
) -> None:
    with s3_store(endpoint, bucket) as store:
        await store.put(KEY, feed(odd_chunks(os.urandom(size))), content_type="application/pdf")
        head = admin.head_object(Bucket=bucket, Key=store.object_key(KEY))
    assert head["ServerSideEncryption"] == "AES256"


async def test_kms_encryption_sends_the_configured_key(
    endpoint: str, bucket: str, admin: Any
) -> None:
    kms_key = "arn:aws:kms:ap-south-1:123456789012:key/00000000-synthetic"
    with s3_store(endpoint, bucket, server_side_encryption="aws:kms", kms_key_id=kms_key) as store:
        await store.put(KEY, feed([b"data"]), content_type="application/pdf")
        head = admin.head_object(Bucket=bucket, Key=store.object_key(KEY))
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", kms_key)


async def test_without_sse_no_encryption_header_is_sent(
    endpoint: str, bucket: str, admin: Any
) -> None:
    with s3_store(endpoint, bucket, server_side_encryption=None) as store:
        await store.put(KEY, feed([b"data"]), content_type="application/pdf")
        head = admin.head_object(Bucket=bucket, Key=store.object_key(KEY))
    assert "ServerSideEncryption" not in head


# --- failure leaves nothing behind -------------------------------------------------------------


class SourceFailed(Exception):
    pass


async def failing_after(data: bytes) -> AsyncIterator[bytes]:
    for piece in odd_chunks(data):
        yield piece
    raise SourceFailed("upstream connection dropped")


@pytest.mark.parametrize("sent", [1000, 9 * MiB], ids=["before-first-part", "after-a-part"])
async def test_failing_source_leaves_no_object_and_no_pending_upload(
    endpoint: str, bucket: str, admin: Any, sent: int
) -> None:
    with s3_store(endpoint, bucket) as store:
        with pytest.raises(SourceFailed):
            await store.put(KEY, failing_after(os.urandom(sent)), content_type="application/pdf")
        assert not await store.exists(KEY)
    assert pending_uploads(admin, bucket) == []
    assert admin.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


async def test_failing_replacement_keeps_the_previous_blob(endpoint: str, bucket: str) -> None:
    with s3_store(endpoint, bucket) as store:
        await store.put(KEY, feed([b"the good one"]), content_type="application/pdf")
        with pytest.raises(SourceFailed):
            await store.put(KEY, failing_after(os.urandom(9 * MiB)), content_type="text/plain")
        assert await read_all(store, KEY) == b"the good one"


async def test_cancelled_upload_aborts_its_multipart_upload(
    endpoint: str, bucket: str, admin: Any
) -> None:
    first_part_sent = asyncio.Event()

    async def stalls_after_a_part() -> AsyncIterator[bytes]:
        for piece in odd_chunks(os.urandom(9 * MiB)):
            yield piece
        yield b"more"  # the store sends the first part before asking for this chunk
        first_part_sent.set()
        await asyncio.Event().wait()  # the upstream hangs
        yield b"never"

    with s3_store(endpoint, bucket) as store:
        upload = asyncio.create_task(
            store.put(KEY, stalls_after_a_part(), content_type="application/pdf")
        )
        await asyncio.wait_for(first_part_sent.wait(), timeout=30)
        assert len(pending_uploads(admin, bucket)) == 1
        upload.cancel()
        with pytest.raises(asyncio.CancelledError):
            await upload
        assert not await store.exists(KEY)
    assert pending_uploads(admin, bucket) == []


async def test_cancel_during_a_part_upload_aborts_only_after_that_part_is_done(
    endpoint: str, bucket: str, admin: Any
) -> None:
    part_started, release_part = threading.Event(), threading.Event()
    calls: list[str] = []

    with s3_store(endpoint, bucket) as store:
        client = store.client
        real_upload_part, real_abort = client.upload_part, client.abort_multipart_upload

        # Real calls to the real server, only held back: a part upload that is still in flight
        # when the task is cancelled (a boto3 call cannot be interrupted).
        def held_upload_part(**kwargs: Any) -> Any:
            part_started.set()
            release_part.wait(timeout=30)
            result = real_upload_part(**kwargs)
            calls.append("part uploaded")
            return result

        def recorded_abort(**kwargs: Any) -> Any:
            calls.append("abort")
            return real_abort(**kwargs)

        client.upload_part = held_upload_part  # type: ignore[method-assign]
        client.abort_multipart_upload = recorded_abort  # type: ignore[method-assign]
        upload = asyncio.create_task(
            store.put(KEY, feed(odd_chunks(os.urandom(9 * MiB))), content_type="application/pdf")
        )
        assert await asyncio.to_thread(part_started.wait, 30)
        upload.cancel()
        await asyncio.sleep(0.2)  # an abort that did not wait would run now
        release_part.set()
        with pytest.raises(asyncio.CancelledError):
            await upload

    assert calls == ["part uploaded", "abort"]
    assert pending_uploads(admin, bucket) == []


# --- proxy mode: gateway encryption -----------------------------------------------------------


async def test_proxy_mode_stores_ciphertext_not_the_document(
    endpoint: str, bucket: str, admin: Any
) -> None:
    data = b"<Certificate>synthetic marksheet of Asha Verma</Certificate>" * 50
    with s3_store(endpoint, bucket, client_access="proxy") as store:
        await store.put(KEY, feed([data]), content_type="application/xml")
        raw = raw_object(admin, bucket, store, KEY)
        head = admin.head_object(Bucket=bucket, Key=store.object_key(KEY))
        assert await read_all(store, KEY) == data

    assert raw != data
    assert b"Asha Verma" not in raw
    assert raw.startswith(b"DLGB")  # the gateway's stream format (storage/encryption.py)
    assert head["ServerSideEncryption"] == "AES256"  # requested on top of it
    assert head["ContentType"] == "application/octet-stream"


async def test_proxy_object_copied_to_another_key_does_not_decrypt(
    endpoint: str, bucket: str, admin: Any
) -> None:
    other = "requests/other-request/stolen"
    with s3_store(endpoint, bucket, client_access="proxy") as store:
        await store.put(KEY, feed([b"secret document"]), content_type="application/pdf")
        admin.copy_object(
            Bucket=bucket,
            Key=store.object_key(other),
            CopySource={"Bucket": bucket, "Key": store.object_key(KEY)},
        )
        with pytest.raises(DecryptionError):
            await read_all(store, other)


async def test_presigned_mode_stores_plaintext(endpoint: str, bucket: str, admin: Any) -> None:
    with s3_store(endpoint, bucket) as store:
        await store.put(KEY, feed([b"plain bytes"]), content_type="application/pdf")
        assert raw_object(admin, bucket, store, KEY) == b"plain bytes"


@pytest.mark.parametrize(
    ("written_as", "read_as"), [("proxy", "presigned"), ("presigned", "proxy")]
)
async def test_blob_written_in_one_mode_opens_after_switching_mode(
    endpoint: str, bucket: str, written_as: ClientAccess, read_as: ClientAccess
) -> None:
    with s3_store(endpoint, bucket, client_access=written_as) as writer:
        await writer.put(KEY, feed([b"still live"]), content_type="application/pdf")
    with s3_store(endpoint, bucket, client_access=read_as) as reader:
        assert await read_all(reader, KEY) == b"still live"


# --- pre-signed URLs --------------------------------------------------------------------------


async def test_presigned_url_downloads_the_file_with_plain_httpx(
    endpoint: str, bucket: str
) -> None:
    data = b"%PDF-1.7 synthetic" + os.urandom(2000)
    expires_at = datetime.now(UTC) + timedelta(minutes=10)
    with s3_store(endpoint, bucket) as store:
        await store.put(KEY, feed([data]), content_type="application/pdf")
        url = await store.presigned_url(
            KEY, expires_at=expires_at, filename="DGCER-001.pdf", content_type="application/pdf"
        )
    assert url is not None
    assert url.startswith(endpoint)
    async with httpx.AsyncClient() as http:
        response = await http.get(url)
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == 'attachment; filename="DGCER-001.pdf"'
    assert response.headers["cache-control"] == "private, no-store"


async def test_presigned_url_of_deleted_blob_is_refused(endpoint: str, bucket: str) -> None:
    with s3_store(endpoint, bucket) as store:
        await store.put(KEY, feed([b"revoked soon"]), content_type="application/pdf")
        url = await store.presigned_url(
            KEY,
            expires_at=datetime.now(UTC) + timedelta(minutes=10),
            filename="a.pdf",
            content_type="application/pdf",
        )
        await store.delete(KEY)
    assert url is not None
    async with httpx.AsyncClient() as http:
        response = await http.get(url)
    # S3 answers 404, or 403 when the URL's signer may not list the bucket (moto does that).
    assert response.status_code in (403, 404)
    assert b"revoked soon" not in response.content


def signed_expiry(url: str) -> datetime:
    """When a SigV4 pre-signed URL stops working: its X-Amz-Date plus X-Amz-Expires."""
    query = parse_qs(urlsplit(url).query)
    signed_at = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return signed_at + timedelta(seconds=int(query["X-Amz-Expires"][0]))


# moto serves pre-signed URLs after their expiry (it does not check X-Amz-Expires), so the
# expiry is checked in the URL itself: S3 refuses the URL from X-Amz-Date + X-Amz-Expires on.
async def test_presigned_url_expires_at_the_given_time_never_later(
    endpoint: str, bucket: str
) -> None:
    expires_at = datetime.now(UTC) + timedelta(seconds=1234, microseconds=500_000)
    with s3_store(endpoint, bucket) as store:
        url = await store.presigned_url(
            KEY, expires_at=expires_at, filename="a.pdf", content_type="application/pdf"
        )
    assert url is not None
    dies_at = signed_expiry(url)
    assert expires_at - timedelta(seconds=2) < dies_at <= expires_at


async def test_presigned_url_for_a_past_expiry_lives_one_second(endpoint: str, bucket: str) -> None:
    with s3_store(endpoint, bucket) as store:
        url = await store.presigned_url(
            KEY,
            expires_at=datetime.now(UTC) - timedelta(hours=1),
            filename="a.pdf",
            content_type="application/pdf",
        )
    assert url is not None
    assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == ["1"]


async def test_proxy_mode_and_local_store_give_no_presigned_url(
    endpoint: str, bucket: str, tmp_path: Any
) -> None:
    arguments: dict[str, Any] = {
        "expires_at": datetime.now(UTC) + timedelta(minutes=5),
        "filename": "a.pdf",
        "content_type": "application/pdf",
    }
    with s3_store(endpoint, bucket, client_access="proxy") as store:
        assert await store.presigned_url(KEY, **arguments) is None
    assert await LocalBlobStore(tmp_path, keyring()).presigned_url(KEY, **arguments) is None


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(59.9, 59), (0.4, 1), (-30, 1), (MAX_PRESIGNED_SECONDS + 3600, MAX_PRESIGNED_SECONDS)],
)
def test_presigned_lifetime_rounds_down_within_s3_limits(seconds: float, expected: int) -> None:
    now = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert presigned_lifetime(now + timedelta(seconds=seconds), now=now) == expected


def test_content_disposition_keeps_header_breaking_characters_out() -> None:
    assert content_disposition('a"b\r\nc.pdf') == 'attachment; filename="a_b__c.pdf"'
    assert content_disposition("") == 'attachment; filename="document"'


# --- keys, readiness, configuration -----------------------------------------------------------


@pytest.mark.parametrize(
    "key", ["", "../outside", "/etc/passwd", "requests/", "requests//blob", "requests/./b"]
)
async def test_unsafe_key_is_refused_before_any_request(key: str) -> None:
    # Port 9 (discard) has no S3 server: had the key passed, the error would be a connection
    # error, not InvalidBlobKey.
    with s3_store("http://127.0.0.1:9", "dlg-unreachable") as store:
        with pytest.raises(InvalidBlobKey):
            await store.put(key, feed([b"x"]), content_type="application/pdf")
        with pytest.raises(InvalidBlobKey):
            await store.open(key)
        with pytest.raises(InvalidBlobKey):
            await store.delete(key)
        with pytest.raises(InvalidBlobKey):
            await store.exists(key)
        with pytest.raises(InvalidBlobKey):
            await store.presigned_url(
                key, expires_at=datetime.now(UTC), filename="a", content_type="text/plain"
            )


async def test_check_passes_for_an_existing_bucket(endpoint: str, bucket: str) -> None:
    with s3_store(endpoint, bucket) as store:
        await store.check()


async def test_check_on_missing_bucket_raises_unavailable(endpoint: str) -> None:
    with s3_store(endpoint, "dlg-no-such-bucket") as store:
        with pytest.raises(BlobStoreUnavailable, match="dlg-no-such-bucket"):
            await store.check()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"part_size": MIN_PART_SIZE - 1}, "part_size"),
        ({"kms_key_id": "alias/synthetic"}, "kms_key_id"),
        ({"prefix": "../escape"}, "blob key"),
    ],
)
def test_store_refuses_unusable_options(options: dict[str, Any], message: str) -> None:
    client = create_s3_client(
        endpoint_url="http://127.0.0.1:9",
        region=REGION,
        access_key_id=ACCESS_KEY_ID,
        secret_access_key=SECRET_ACCESS_KEY,
    )
    try:
        with pytest.raises(ValueError, match=message):
            S3BlobStore(client, bucket="dlg-unused", keyring=keyring(), **options)
    finally:
        client.close()


async def test_sweep_aborts_an_abandoned_multipart_upload_and_lists_blobs_by_locator(
    endpoint: str, bucket: str, admin: Any
) -> None:
    with s3_store(endpoint, bucket) as store:
        await store.put(KEY, feed([b"%PDF-1.7 synthetic"]), content_type="application/pdf")
        # What a process killed in the middle of a large upload leaves: parts, no object.
        admin.create_multipart_upload(Bucket=bucket, Key=store.object_key("requests/killed/x"))
        assert len(pending_uploads(admin, bucket)) == 1

        # moto dates every upload 2010-11-10, so only the "old enough" side is seen here.
        past = datetime.now(UTC) - timedelta(hours=1)
        future = datetime.now(UTC) + timedelta(minutes=1)
        assert await store.sweep_incomplete(started_before=future) == 1
        assert pending_uploads(admin, bucket) == []

        assert [locator async for locator in store.stored_before(future)] == [store.locator(KEY)]
        assert [locator async for locator in store.stored_before(past)] == []
        await store.delete_located(store.locator(KEY))
        assert not await store.exists(KEY)
