"""The catalogue API: served from the stored copy, with ETag, 304 and gzip."""

from __future__ import annotations

import contextlib
import gzip
import json
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession

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


class _Stopwatch:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _entry(org_id: str) -> CatalogueDocument:
    return CatalogueDocument(
        org_id, "in.gov.x", "Org", "PANCR", "PAN", ("pdf",), (("panno", "PAN"),)
    )


async def test_cache_answers_from_memory_and_sees_another_process_refresh_in_bounded_time(
    gateway: Gateway,
) -> None:
    """Two caches over one database stand for two processes: one stores a new catalogue, the
    other serves its copy from memory until `revalidate_seconds` have passed, then the new one."""
    from digilocker_gateway.documents.catalogue import CatalogueCache, store_catalogue

    runtime = gateway.runtime
    opened = 0

    @contextlib.asynccontextmanager
    async def counting_session() -> AsyncIterator[AsyncSession]:
        nonlocal opened
        opened += 1
        async with runtime.reading() as session:
            yield session

    watch = _Stopwatch()
    other_process = CatalogueCache(monotonic=watch)
    assert await other_process.current(counting_session, revalidate_seconds=5) is None
    assert await other_process.current(counting_session, revalidate_seconds=5) is None
    assert opened == 2  # absence is not cached: the first catalogue shows up at once

    async with runtime.transaction() as session:
        first = await store_catalogue(session, [_entry("000001")], now=gateway.clock.now())
    snapshot = await other_process.current(counting_session, revalidate_seconds=5)
    assert snapshot is not None
    assert snapshot.etag == first
    for _ in range(20):
        cached = await other_process.current(counting_session, revalidate_seconds=5)
        assert cached is snapshot
    assert opened == 3  # answered from memory within the window

    async with runtime.transaction() as session:
        second = await store_catalogue(
            session, [_entry("000001"), _entry("000002")], now=gateway.clock.now()
        )
    assert second != first
    watch.now += 4.9
    stale = await other_process.current(counting_session, revalidate_seconds=5)
    assert stale is not None
    assert stale.etag == first
    watch.now += 0.2
    fresh = await other_process.current(counting_session, revalidate_seconds=5)
    assert fresh is not None
    assert fresh.etag == second
    assert json.loads(fresh.body)["documents"][1]["orgId"] == "000002"
    watch.now += 5.1
    same = await other_process.current(counting_session, revalidate_seconds=5)
    assert same is fresh  # an unchanged ETag keeps the body already in memory

    # The process that refreshed invalidates its own cache and serves the new copy at once.
    async with runtime.transaction() as session:
        third = await store_catalogue(session, [_entry("000003")], now=gateway.clock.now())
    other_process.invalidate()
    latest = await other_process.current(counting_session, revalidate_seconds=5)
    assert latest is not None
    assert latest.etag == third


async def test_catalogue_route_serves_a_refresh_by_another_process_after_the_bound(
    fully_catalogued_gateway: Gateway,
) -> None:
    gateway = fully_catalogued_gateway
    first = await gateway.client.get("/api/digilocker/documents", headers=gateway.headers)
    async with gateway.runtime.transaction() as session:
        from digilocker_gateway.documents.catalogue import store_catalogue

        etag = await store_catalogue(session, [_entry("000009")], now=gateway.clock.now())
    assert etag != first.headers["etag"]
    gateway.runtime.catalogue.invalidate()  # as if the bound had passed
    second = await gateway.client.get("/api/digilocker/documents", headers=gateway.headers)
    assert second.headers["etag"] == etag
    assert [d["orgId"] for d in second.json()["documents"]] == ["000009"]
