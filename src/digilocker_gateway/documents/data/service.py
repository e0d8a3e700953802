"""What fetch-document answers beyond Setu's fields: `data` (with `withData`) and `match`
(when the request was created with `expected`), docs/document-data.md §2 and
docs/identity-match.md §4.

Both need the document's certificate XML. With `format: "xml"` that is the file itself, read
as it streams into the blob store; with `format: "pdf"` the XML is fetched beside it, first, so
that a refused number (`refuse_number_mismatch`) stops the fetch before the PDF is downloaded. A
document without XML is described from the issued list. Neither object is ever logged.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

from digilocker_gateway.documents.catalogue import CatalogueDocument
from digilocker_gateway.documents.data.certificate import (
    DocumentSource,
    data_from_xml,
    data_without_xml,
    holder_of,
)
from digilocker_gateway.errors import CustomerDetailMismatch
from digilocker_gateway.identity.expected import ExpectedIdentity
from digilocker_gateway.identity.match import has_number_mismatch, match_identity
from digilocker_gateway.requests.files import CONTENT_TYPES
from digilocker_gateway.runtime import Runtime
from digilocker_gateway.tenants.tenant import Tenant
from digilocker_gateway.upstream.client import DigiLockerClient
from digilocker_gateway.upstream.errors import UpstreamResponseError

__all__ = ["DocumentExtras"]

XML = CONTENT_TYPES["xml"]


class _Capture:
    """Keeps a copy of a stream's bytes up to a bound; past it, keeps nothing."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._kept: bytearray | None = bytearray()

    async def tee(self, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        async for chunk in chunks:
            if self._kept is not None:
                self._kept.extend(chunk)
                if len(self._kept) > self._limit:
                    self._kept = None
            yield chunk

    def kept(self) -> bytes | None:
        return None if self._kept is None else bytes(self._kept)


class DocumentExtras:
    """One fetch's `data` and `match`, worked out only if the caller wants either."""

    def __init__(
        self,
        runtime: Runtime,
        tenant: Tenant,
        entry: CatalogueDocument,
        *,
        with_data: bool,
        expected: ExpectedIdentity | None,
    ) -> None:
        self._runtime = runtime
        self._tenant = tenant
        self._entry = entry
        self._with_data = with_data
        self._expected = expected
        self._capture: _Capture | None = None
        self._answer: tuple[dict[str, Any] | None, dict[str, Any] | None] | None = None

    @property
    def wanted(self) -> bool:
        return self._with_data or self._expected is not None

    async def before_download(
        self,
        upstream: DigiLockerClient,
        access_token: str,
        *,
        uri: str,
        mime: tuple[str, ...],
        file_format: str,
    ) -> None:
        """Fetch and read the XML beside a PDF, or get ready to read the XML file itself. May
        raise CustomerDetailMismatch, before anything is stored."""
        if not self.wanted:
            return
        if file_format == "xml":
            self._capture = _Capture(self._runtime.settings.document_data_max_bytes)
            return
        raw = None
        # An empty `mime` is a document just pulled, not yet listed: its XML may exist.
        if not mime or XML in mime:
            raw = await self._read_xml(upstream, access_token, uri)
        await self._work_out(raw, uri)

    def watch(self, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        """The file's chunks, copied aside when they are the XML to read."""
        return chunks if self._capture is None else self._capture.tee(chunks)

    async def answer(self, uri: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """`(data, match)`: each None when not asked for. May raise CustomerDetailMismatch."""
        if not self.wanted:
            return None, None
        if self._answer is None:
            await self._work_out(None if self._capture is None else self._capture.kept(), uri)
        assert self._answer is not None
        return self._answer

    async def _read_xml(
        self, upstream: DigiLockerClient, access_token: str, uri: str
    ) -> bytes | None:
        settings = self._runtime.settings
        limit = settings.document_data_max_bytes
        kept = bytearray()
        try:
            opened = upstream.stream_xml(access_token, uri, max_bytes=settings.max_document_bytes)
            async with opened as download, aclosing(download.iter_chunks()) as chunks:
                async for chunk in chunks:
                    kept.extend(chunk)
                    if len(kept) > limit:
                        return None  # too large to read: described from the issued list
        except UpstreamResponseError as exc:
            # docs/reference/digilocker-partner-api.md §9: a document without XML answers 404
            # invalid_uri; it is then described from the issued list. Other errors propagate.
            if exc.error != "invalid_uri":
                raise
            return None
        return bytes(kept)

    async def _work_out(self, raw: bytes | None, uri: str) -> None:
        entry = self._entry
        source = DocumentSource(entry.doc_type, entry.org_id, entry.org_name, uri)
        if raw is None:
            data = data_without_xml(source)
        else:
            data = data_from_xml(raw, await self._runtime.document_signers.get(), source)
        match: dict[str, Any] | None = None
        if self._expected is not None:
            found = match_identity(self._expected, holder_of(data))
            if self._tenant.refuse_number_mismatch and has_number_mismatch(found):
                raise CustomerDetailMismatch(
                    "The document's number is not the one expected for this request."
                )
            match = {field: outcome.as_json() for field, outcome in found.items()}
        self._answer = (data if self._with_data else None, match)
