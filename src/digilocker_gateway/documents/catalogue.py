"""The document catalogue: built from DigiLocker's pull meta-APIs (issuers -> doctypes ->
parameters), stored in the database, and answered from a serialised snapshot with an ETag.

Setu's own catalogue call "can take a few minutes"; ours answers in milliseconds because the
slow walk over DigiLocker happens in `refresh_catalogue` (CLI, schedule, first start), and the
API serves the stored copy. A refresh that fails part-way writes nothing: the old copy stays.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import logging
import math
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from digilocker_gateway.db.models import CatalogueEntry, CatalogueSnapshot
from digilocker_gateway.upstream.client import DigiLockerClient

logger = logging.getLogger("digilocker_gateway.catalogue")

# The formats the catalogue lists are the ones every document of a pair has. DigiLocker's
# meta-APIs say nothing about formats (docs/reference/digilocker-partner-api.md §11); every
# issued document comes as a PDF, while XML "may not be available for all documents" and only
# the issued list's `mime` of one document says whether it has it (§6, §9). So the catalogue
# lists the PDF alone; XML is fetched per document (documents/fetch.py) and shown per document
# by `/{id}/issued` (docs/reference/setu-api.md §4.3).
LISTED_FORMATS = ("pdf",)
SNAPSHOT_ID = 1


@dataclass(frozen=True, slots=True)
class CatalogueDocument:
    org_id: str
    issuer_id: str
    org_name: str
    doc_type: str
    description: str
    formats: tuple[str, ...]
    parameters: tuple[tuple[str, str], ...]  # (name, description)

    def as_api(self) -> dict[str, object]:
        return {
            "availableFormats": list(self.formats),
            "description": self.description,
            "docType": self.doc_type,
            "orgId": self.org_id,
            "orgName": self.org_name,
            "parameters": [{"name": n, "description": d} for n, d in self.parameters],
        }


ProgressCallback = Callable[[int, int], None]  # (done, total) issuers


async def fetch_catalogue(
    upstream: DigiLockerClient, *, concurrency: int = 8, progress: ProgressCallback | None = None
) -> list[CatalogueDocument]:
    """Walk DigiLocker's meta-APIs. Any failure raises and nothing is returned."""
    issuers = await upstream.pull_issuers()
    gate = asyncio.Semaphore(concurrency)
    done = 0

    async def one_issuer(issuer_index: int) -> list[CatalogueDocument]:
        nonlocal done
        issuer = issuers[issuer_index]
        async with gate:
            doctypes = await upstream.pull_doctypes(issuer.orgid)
        documents: list[CatalogueDocument] = []
        for doctype in doctypes:
            async with gate:
                parameters = await upstream.pull_parameters(issuer.orgid, doctype.doctype)
            documents.append(
                CatalogueDocument(
                    org_id=issuer.orgid,
                    issuer_id=issuer.issuerid,
                    org_name=issuer.name,
                    doc_type=doctype.doctype,
                    description=doctype.description,
                    formats=LISTED_FORMATS,
                    parameters=tuple((p.paramname, p.label) for p in parameters),
                )
            )
        done += 1
        if progress is not None:
            progress(done, len(issuers))
        return documents

    results = await asyncio.gather(*(one_issuer(i) for i in range(len(issuers))))
    return usable([document for group in results for document in group])


# Column sizes of catalogue_entries; longer identifiers cannot be real DigiLocker ones.
MAX_ORG_ID, MAX_DOC_TYPE = 40, 20


def usable(documents: list[CatalogueDocument]) -> list[CatalogueDocument]:
    """One entry per (orgId, docType), identifiers that fit: one odd row from DigiLocker must
    not fail the whole refresh (and so leave the catalogue stale or empty)."""
    seen: set[tuple[str, str]] = set()
    kept: list[CatalogueDocument] = []
    for document in documents:
        pair = (document.org_id, document.doc_type)
        if pair in seen or not document.org_id or not document.doc_type:
            continue
        if len(document.org_id) > MAX_ORG_ID or len(document.doc_type) > MAX_DOC_TYPE:
            continue
        seen.add(pair)
        kept.append(document)
    if len(kept) != len(documents):
        logger.warning(
            "catalogue: skipped %d duplicate or invalid entries", len(documents) - len(kept)
        )
    return kept


def serialise(documents: list[CatalogueDocument]) -> tuple[str, bytes]:
    ordered = sorted(documents, key=lambda d: (d.org_id, d.doc_type))
    body = json.dumps(
        {"documents": [d.as_api() for d in ordered]}, separators=(",", ":"), ensure_ascii=False
    ).encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    # mtime=0: the same catalogue always compresses to the same bytes.
    return etag, gzip.compress(body, compresslevel=6, mtime=0)


async def store_catalogue(
    session: AsyncSession, documents: list[CatalogueDocument], *, now: datetime
) -> str:
    """Replace the stored catalogue in the caller's transaction; returns the new ETag."""
    etag, body_gzip = serialise(documents)
    await session.execute(delete(CatalogueEntry))
    rows = [
        {
            "org_id": d.org_id,
            "doc_type": d.doc_type,
            "org_name": d.org_name,
            "issuer_id": d.issuer_id,
            "description": d.description,
            "formats": ",".join(d.formats),
            "parameters_json": json.dumps([{"name": n, "description": t} for n, t in d.parameters]),
        }
        for d in documents
    ]
    for start in range(0, len(rows), 1000):
        await session.execute(insert(CatalogueEntry), rows[start : start + 1000])
    await session.execute(delete(CatalogueSnapshot))
    session.add(
        CatalogueSnapshot(
            id=SNAPSHOT_ID,
            etag=etag,
            body_gzip=body_gzip,
            entry_count=len(documents),
            refreshed_at=now,
        )
    )
    await session.flush()
    return etag


@dataclass(frozen=True, slots=True)
class Snapshot:
    etag: str
    body_gzip: bytes
    body: bytes
    entry_count: int
    refreshed_at: datetime


SessionOpener = Callable[[], AbstractAsyncContextManager[AsyncSession]]


class CatalogueCache:
    """The serialised catalogue kept in memory with its ETag, the ETag being the version stamp
    of the stored copy. A request within `revalidate_seconds` of the last check is answered
    from memory without touching the database; the first one after that asks the database for
    the stored ETag (one tiny query) and reloads the body only if it changed. A refresh in
    this process calls `invalidate`, so it is seen here at once; in any other process within
    `revalidate_seconds` (DLG_CATALOGUE_REVALIDATE_SECONDS, docs/deployment.md).

    Absence is never cached: until the first refresh every call asks the database, so the
    first catalogue appears everywhere as soon as it is stored."""

    def __init__(self, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._snapshot: Snapshot | None = None
        self._checked_at = -math.inf
        self._monotonic = monotonic
        self._revalidating = asyncio.Lock()

    def invalidate(self) -> None:
        """Check the stored copy on the next call (after a refresh by this process)."""
        self._checked_at = -math.inf

    async def current(
        self, open_session: SessionOpener, *, revalidate_seconds: float
    ) -> Snapshot | None:
        cached = self._snapshot
        if cached is not None and self._monotonic() - self._checked_at < revalidate_seconds:
            return cached
        async with self._revalidating:  # one revalidation at a time, not one per request
            cached = self._snapshot
            if cached is not None and self._monotonic() - self._checked_at < revalidate_seconds:
                return cached
            checked_at = self._monotonic()
            async with open_session() as session:
                snapshot = await self._load(session, cached)
            self._snapshot = snapshot
            self._checked_at = checked_at if snapshot is not None else -math.inf
            return snapshot

    @staticmethod
    async def _load(session: AsyncSession, cached: Snapshot | None) -> Snapshot | None:
        stored = (
            await session.execute(
                select(CatalogueSnapshot.etag).where(CatalogueSnapshot.id == SNAPSHOT_ID)
            )
        ).scalar_one_or_none()
        if stored is None:
            return None
        if cached is not None and cached.etag == stored:
            return cached
        row = await session.get(CatalogueSnapshot, SNAPSHOT_ID)
        if row is None:
            return None
        return Snapshot(
            row.etag,
            row.body_gzip,
            gzip.decompress(row.body_gzip),
            row.entry_count,
            row.refreshed_at,
        )


async def lookup(session: AsyncSession, org_id: str, doc_type: str) -> CatalogueDocument | None:
    row = await session.get(CatalogueEntry, (org_id, doc_type))
    if row is None:
        return None
    parameters = tuple((p["name"], p["description"]) for p in json.loads(row.parameters_json))
    return CatalogueDocument(
        org_id=row.org_id,
        issuer_id=row.issuer_id,
        org_name=row.org_name,
        doc_type=row.doc_type,
        description=row.description,
        formats=tuple(f for f in row.formats.split(",") if f),
        parameters=parameters,
    )
