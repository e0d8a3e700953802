"""The catalogue API: served from the stored copy, with ETag, 304 and gzip."""

from __future__ import annotations

import gzip
import json

from digilocker_gateway.documents.catalogue import CatalogueDocument
from tests.requests.test_create import assert_envelope
from tests.support import Gateway


async def test_catalogue_before_first_refresh_returns_503(gateway: Gateway) -> None:
    response = await gateway.client.get("/api/digilocker/documents", headers=gateway.headers)
    assert_envelope(response, 503, "catalogue_not_ready")


async def test_catalogue_needs_credentials(fully_catalogued_gateway: Gateway) -> None:
    response = await fully_catalogued_gateway.client.get("/api/digilocker/documents")
    assert_envelope(response, 401, "vault_secret_error")


async def test_catalogue_lists_every_pair_in_setu_shape(
    fully_catalogued_gateway: Gateway, catalogue_documents: list[CatalogueDocument]
) -> None:
    response = await fully_catalogued_gateway.client.get(
        "/api/digilocker/documents", headers=fully_catalogued_gateway.headers
    )
    assert response.status_code == 200
    documents = response.json()["documents"]
    assert len(documents) == len(catalogue_documents) >= 10_000
    first = documents[0]
    assert set(first) == {
        "availableFormats",
        "description",
        "docType",
        "orgId",
        "orgName",
        "parameters",
    }
    assert all(set(p) == {"name", "description"} for p in first["parameters"])
    drvlc_orgs = {d["orgId"] for d in documents if d["docType"] == "DRVLC"}
    assert len(drvlc_orgs) > 1  # one doctype, many issuers


async def test_matching_if_none_match_returns_304(fully_catalogued_gateway: Gateway) -> None:
    gateway = fully_catalogued_gateway
    first = await gateway.client.get("/api/digilocker/documents", headers=gateway.headers)
    etag = first.headers["etag"]
    second = await gateway.client.get(
        "/api/digilocker/documents", headers={**gateway.headers, "If-None-Match": etag}
    )
    assert second.status_code == 304
    assert second.content == b""
    stale = await gateway.client.get(
        "/api/digilocker/documents", headers={**gateway.headers, "If-None-Match": '"stale"'}
    )
    assert stale.status_code == 200


async def test_catalogue_is_gzipped_when_accepted(fully_catalogued_gateway: Gateway) -> None:
    gateway = fully_catalogued_gateway
    response = await gateway.client.get(
        "/api/digilocker/documents",
        headers={**gateway.headers, "Accept-Encoding": "gzip"},
    )
    assert response.headers["content-encoding"] == "gzip"
    # httpx decodes transparently; the body must still be the JSON catalogue.
    assert json.loads(response.content)["documents"]
    raw = await gateway.client.send(
        gateway.client.build_request(
            "GET",
            "/api/digilocker/documents",
            headers={**gateway.headers, "Accept-Encoding": "gzip"},
        ),
        stream=True,
    )
    compressed = b"".join([chunk async for chunk in raw.aiter_raw()])
    await raw.aclose()
    assert len(compressed) < len(gzip.decompress(compressed)) / 3


def test_duplicate_and_oversized_entries_are_skipped_not_fatal() -> None:
    from digilocker_gateway.documents.catalogue import usable

    def doc(org: str, doctype: str) -> CatalogueDocument:
        return CatalogueDocument(org, "in.gov.x", "Org", doctype, "Doc", ("pdf",), ())

    documents = [doc("001", "PANCR"), doc("001", "PANCR"), doc("0" * 41, "DRVLC"), doc("002", "")]
    assert usable(documents) == [doc("001", "PANCR")]
