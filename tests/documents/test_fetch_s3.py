"""Fetch document and Aadhaar end to end with `blob_store="s3"`, against a real S3-protocol
server (moto, on 127.0.0.1): in presigned mode the fileUrl is the bucket's own URL, in proxy
mode it is the gateway's and the bucket holds only ciphertext."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from digilocker_gateway.documents.catalogue import CatalogueDocument, store_catalogue
from digilocker_gateway.storage.s3 import ClientAccess
from tests.aadhaar.test_endpoint import aadhaar_call, signed_in
from tests.documents.test_fetch import authenticated, fetch, fetch_body, pick
from tests.documents.test_revoke_and_tokens import revoke
from tests.storage.test_s3 import (
    ACCESS_KEY_ID,
    REGION,
    SECRET_ACCESS_KEY,
    admin_client,
    create_bucket,
    moto_server,
    signed_expiry,
)
from tests.support import BASE_URL, DatabaseUnderTest, Gateway, running_gateway

PREFIX = "dlg-e2e/"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def admin(endpoint: str) -> Iterator[Any]:
    client = admin_client(endpoint)
    yield client
    client.close()


def s3_settings(endpoint: str, bucket: str, mode: ClientAccess) -> dict[str, Any]:
    return {
        "blob_store": "s3",
        "s3_bucket": bucket,
        "s3_endpoint_url": endpoint,
        "s3_region": REGION,
        "s3_access_key_id": ACCESS_KEY_ID,
        "s3_secret_access_key": SECRET_ACCESS_KEY,
        "s3_prefix": PREFIX,
        "s3_addressing_style": "path",
        "s3_client_access": mode,
    }


@asynccontextmanager
async def s3_gateway(
    database: DatabaseUnderTest,
    tmp_path: Path,
    catalogue: list[CatalogueDocument],
    *,
    endpoint: str,
    bucket: str,
    mode: ClientAccess,
) -> AsyncIterator[Gateway]:
    async with running_gateway(database, tmp_path, **s3_settings(endpoint, bucket, mode)) as gw:
        async with gw.runtime.transaction() as session:
            await store_catalogue(session, catalogue, now=gw.clock.now())
        yield gw


def stored_objects(admin: Any, bucket: str) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = admin.list_objects_v2(Bucket=bucket).get("Contents", [])
    return listed


async def download_directly(url: str) -> httpx.Response:
    """A client's download, with nothing of the gateway in between."""
    async with httpx.AsyncClient() as http:
        return await http.get(url)


async def test_presigned_mode_file_url_is_the_buckets_and_expires_with_valid_upto(
    database: DatabaseUnderTest,
    tmp_path: Path,
    catalogue_documents: list[CatalogueDocument],
    endpoint: str,
    admin: Any,
) -> None:
    bucket = create_bucket(endpoint)
    async with s3_gateway(
        database, tmp_path, catalogue_documents, endpoint=endpoint, bucket=bucket, mode="presigned"
    ) as gateway:
        request_id, user = await authenticated(gateway, "complete")
        document = pick(user, issued=True)
        response = await fetch(gateway, request_id, fetch_body(document))
        assert response.status_code == 200, response.text
        body = response.json()

    assert body["fileUrl"].startswith(f"{endpoint}/{bucket}/{PREFIX}requests/{request_id}/")
    download = await download_directly(body["fileUrl"])
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"] == (
        f'attachment; filename="{document["docType"]}-{document["orgId"]}.pdf"'
    )
    assert user["name"] in PdfReader(io.BytesIO(download.content)).pages[0].extract_text()
    valid_upto = datetime.fromisoformat(body["validUpto"])
    dies_at = signed_expiry(body["fileUrl"])
    assert valid_upto.timestamp() - 2 < dies_at.timestamp() <= valid_upto.timestamp()
    [stored] = stored_objects(admin, bucket)
    head = admin.head_object(Bucket=bucket, Key=stored["Key"])
    assert head["ServerSideEncryption"] == "AES256"


async def test_proxy_mode_file_url_streams_through_the_gateway_and_bucket_holds_ciphertext(
    database: DatabaseUnderTest,
    tmp_path: Path,
    catalogue_documents: list[CatalogueDocument],
    endpoint: str,
    admin: Any,
) -> None:
    bucket = create_bucket(endpoint)
    async with s3_gateway(
        database, tmp_path, catalogue_documents, endpoint=endpoint, bucket=bucket, mode="proxy"
    ) as gateway:
        request_id, user = await authenticated(gateway, "complete")
        response = await fetch(gateway, request_id, fetch_body(pick(user, issued=True)))
        assert response.status_code == 200, response.text
        file_url = response.json()["fileUrl"]
        assert file_url.startswith(f"{BASE_URL}/files/")
        download = await gateway.client.get(file_url)

    assert download.status_code == 200
    assert download.content.startswith(b"%PDF")
    [stored] = stored_objects(admin, bucket)
    assert stored["Key"].startswith(f"{PREFIX}requests/{request_id}/")
    raw = admin.get_object(Bucket=bucket, Key=stored["Key"])["Body"].read()
    assert raw != download.content
    assert b"%PDF" not in raw
    assert user["name"].encode() not in raw


@pytest.mark.parametrize("mode", ["presigned", "proxy"])
async def test_large_document_streams_through_s3_as_a_multipart_object(
    database: DatabaseUnderTest,
    tmp_path: Path,
    catalogue_documents: list[CatalogueDocument],
    endpoint: str,
    admin: Any,
    mode: ClientAccess,
) -> None:
    bucket = create_bucket(endpoint)
    async with s3_gateway(
        database, tmp_path, catalogue_documents, endpoint=endpoint, bucket=bucket, mode=mode
    ) as gateway:
        request_id, user = await authenticated(gateway, "large-document")
        response = await fetch(gateway, request_id, fetch_body(pick(user, issued=True)))
        assert response.status_code == 200, response.text
        file_url = response.json()["fileUrl"]
        if mode == "proxy":
            download = await gateway.client.get(file_url)
        else:
            download = await download_directly(file_url)

    assert download.status_code == 200
    assert len(download.content) >= 10 * 1024 * 1024
    assert int(download.headers["content-length"]) == len(download.content)
    assert download.content.startswith(b"%PDF")
    [stored] = stored_objects(admin, bucket)
    assert admin.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    assert stored["ETag"].strip('"').rsplit("-", 1)[1].isdigit()  # assembled from parts


async def test_revoke_deletes_the_object_so_the_presigned_url_stops_working(
    database: DatabaseUnderTest,
    tmp_path: Path,
    catalogue_documents: list[CatalogueDocument],
    endpoint: str,
    admin: Any,
) -> None:
    bucket = create_bucket(endpoint)
    async with s3_gateway(
        database, tmp_path, catalogue_documents, endpoint=endpoint, bucket=bucket, mode="presigned"
    ) as gateway:
        request_id, user = await authenticated(gateway, "complete")
        response = await fetch(gateway, request_id, fetch_body(pick(user, issued=True)))
        assert response.status_code == 200, response.text
        file_url = response.json()["fileUrl"]
        assert (await download_directly(file_url)).status_code == 200

        revoked = await revoke(gateway, request_id)
        assert isinstance(revoked, httpx.Response)
        assert revoked.status_code == 200

    after = await download_directly(file_url)
    assert after.status_code in (403, 404)  # 403 when the signer may not list the bucket
    assert stored_objects(admin, bucket) == []


async def test_aadhaar_xml_file_url_is_presigned_and_serves_the_signed_xml(
    database: DatabaseUnderTest,
    tmp_path: Path,
    catalogue_documents: list[CatalogueDocument],
    endpoint: str,
) -> None:
    bucket = create_bucket(endpoint)
    async with s3_gateway(
        database, tmp_path, catalogue_documents, endpoint=endpoint, bucket=bucket, mode="presigned"
    ) as gateway:
        request_id = await signed_in(gateway, "complete")
        response = await aadhaar_call(gateway, request_id)
        assert response.status_code == 200, response.text
        xml = response.json()["aadhaar"]["xml"]

    assert xml["fileUrl"].startswith(f"{endpoint}/{bucket}/")
    download = await download_directly(xml["fileUrl"])
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/xml"
    assert download.headers["content-disposition"] == 'attachment; filename="aadhaar.xml"'
    assert download.content.lstrip().startswith(b"<?xml")
    assert b"Signature" in download.content


async def test_readyz_fails_when_the_bucket_is_missing(
    database: DatabaseUnderTest, tmp_path: Path, endpoint: str
) -> None:
    settings = s3_settings(endpoint, "dlg-bucket-that-does-not-exist", "presigned")
    async with running_gateway(database, tmp_path, **settings) as gateway:
        ready = await gateway.client.get("/readyz")
    assert ready.status_code == 503
    assert "file_store" in ready.json()["problems"]


async def test_readyz_is_ready_with_an_existing_bucket(
    database: DatabaseUnderTest, tmp_path: Path, endpoint: str
) -> None:
    settings = s3_settings(endpoint, create_bucket(endpoint), "proxy")
    async with running_gateway(database, tmp_path, **settings) as gateway:
        ready = await gateway.client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ready"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"blob_store": "s3"}, "DLG_S3_BUCKET"),
        ({"s3_kms_key_id": "alias/synthetic"}, "DLG_S3_KMS_KEY_ID"),
    ],
)
async def test_incomplete_s3_settings_are_refused_at_startup(
    database: DatabaseUnderTest, tmp_path: Path, overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        async with running_gateway(database, tmp_path, **overrides):
            pass
