"""`AsyncDigiLockerClient`: the asyncio client, the same methods as `DigiLockerClient`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

import digilocker_gateway.client._core as _core
from digilocker_gateway.client._core import CatalogueCache, Progress
from digilocker_gateway.client.errors import DigiLockerError, WaitTimeoutError
from digilocker_gateway.client.models import (
    AadhaarResult,
    Catalogue,
    DigiLockerRequest,
    DocumentParameter,
    FetchedDocument,
    RequestStatus,
    RevokeResult,
)

__all__ = ["AsyncDigiLockerClient"]

Model = TypeVar("Model", bound=BaseModel)


class AsyncDigiLockerClient:
    """A client of the gateway's Setu-compatible API, or of Setu's own hosts unchanged.

    `base_url` and the three credentials come from the arguments, else from
    `DLG_CLIENT_BASE_URL`, `DLG_CLIENT_ID`, `DLG_CLIENT_SECRET`,
    `DLG_CLIENT_PRODUCT_INSTANCE_ID`, else from `SETU_BASE_URL`, `SETU_CLIENT_ID`,
    `SETU_CLIENT_SECRET`, `SETU_PRODUCT_INSTANCE_ID`. Safe calls (status, catalogue, Aadhaar,
    revoke, download) are retried up to `max_retries` times with exponential backoff on network
    errors and on the answers the API calls retryable; create and fetch document never are.
    `transport` replaces the network (tests); `catalogue_cache` keeps the catalogue between
    calls (in memory by default; `CatalogueCache(directory)` keeps it on disk too).

    Use it as an async context manager, or call `aclose()`."""

    def __init__(
        self,
        base_url: str | None = None,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        product_instance_id: str | None = None,
        timeout: float | httpx.Timeout = _core.DEFAULT_TIMEOUT,
        max_retries: int = _core.DEFAULT_MAX_RETRIES,
        retry_backoff: float = 0.5,
        transport: httpx.AsyncBaseTransport | None = None,
        catalogue_cache: CatalogueCache | None = None,
        gateway: bool | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.base_url, self._credentials = _core.resolve(
            base_url, client_id, client_secret, product_instance_id, environ
        )
        self.is_gateway = not _core.is_setu(self.base_url) if gateway is None else gateway
        self.max_retries = max_retries
        self.retry_backoff = retry_backoff
        self.catalogue_cache = catalogue_cache or CatalogueCache()
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport)

    # -- plumbing ---------------------------------------------------------------------------

    async def __aenter__(self) -> AsyncDigiLockerClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connections."""
        await self._http.aclose()

    def _retrying(self, safe: bool) -> AsyncRetrying:
        return AsyncRetrying(
            stop=stop_after_attempt(self.max_retries + 1 if safe else 1),
            wait=wait_exponential_jitter(
                multiplier=self.retry_backoff, jitter=self.retry_backoff, max=8.0
            ),
            retry=retry_if_exception(_core.retryable),
            reraise=True,
        )

    async def _send_once(
        self, call: _core.Call, headers: Mapping[str, str], progress: Progress | None
    ) -> tuple[httpx.Response, bytes]:
        request = self._http.build_request(
            call.method,
            self.base_url + call.path,
            json=call.json,
            files=call.files,
            data=call.data,
            headers={**self._credentials.headers(), **headers},
        )
        try:
            response = await self._http.send(request, stream=True)
            try:
                total, chunks = _core.total_of(response), []
                received = 0
                async for chunk in response.aiter_bytes():
                    chunks.append(chunk)
                    received += len(chunk)
                    if progress is not None:
                        progress(received, total)
            finally:
                await response.aclose()
        except httpx.TransportError as exc:
            raise _core.network_error(exc) from exc
        body = b"".join(chunks)
        if response.status_code >= 400:
            raise _core.error_of(response, body)
        return response, body

    async def _send(
        self,
        call: _core.Call,
        headers: Mapping[str, str] | None = None,
        progress: Progress | None = None,
    ) -> tuple[httpx.Response, bytes]:
        _core.refuse_on_setu(call, self.base_url, self.is_gateway)
        async for attempt in self._retrying(call.safe):
            with attempt:
                return await self._send_once(call, headers or {}, progress)
        raise AssertionError("unreachable")  # pragma: no cover - tenacity reraises

    async def _result(self, call: _core.Call, model: type[Model]) -> Model:
        response, body = await self._send(call)
        return _core.result_of(model, response, body)

    # -- the API ----------------------------------------------------------------------------

    async def create(
        self,
        redirect_url: str,
        *,
        doc_type: str | Sequence[str] | None = None,
        expected: Mapping[str, Any] | None = None,
    ) -> DigiLockerRequest:
        """Create a request; send the user's browser to the answer's `url`. `doc_type` names
        the documents to pre-select (several only on the gateway); `expected` (gateway only,
        docs/identity-match.md) makes every answer carry `match`. Never retried."""
        return await self._result(
            _core.create_call(redirect_url, doc_type, expected), DigiLockerRequest
        )

    async def status(self, request_id: str) -> RequestStatus:
        """The request's status and, once authenticated, the user's DigiLocker details."""
        return await self._result(_core.status_call(request_id), RequestStatus)

    async def catalogue(
        self, *, refresh: bool = False, progress: Progress | None = None
    ) -> Catalogue:
        """Every fetchable document. Kept in `catalogue_cache`: revalidated by ETag against the
        gateway (a 304 costs nothing), reused for its max age against Setu, which sends no
        ETag; `refresh=True` asks the server again regardless. `progress` sees the bytes."""
        cached = self.catalogue_cache.get(self.base_url)
        if cached is not None and not refresh and self.catalogue_cache.fresh(cached):
            return _core.catalogue_of(cached)
        headers = {"if-none-match": cached.etag} if cached and cached.etag and not refresh else {}
        call = _core.Call("GET", "/api/digilocker/documents", Catalogue, safe=True)
        response, body = await self._send(call, headers, progress)
        if response.status_code == 304 and cached is not None:
            self.catalogue_cache.put(self.base_url, cached.body, cached.etag, cached.parsed)
            return _core.catalogue_of(cached)
        etag = response.headers.get("etag")
        catalogue = _core.result_of(Catalogue, response, body).model_copy(update={"etag": etag})
        self.catalogue_cache.put(self.base_url, body, etag, catalogue)
        return catalogue

    async def fetch_document(
        self,
        request_id: str,
        *,
        doc_type: str,
        org_id: str,
        parameters: Mapping[str, str] | Sequence[DocumentParameter] | None = None,
        format: str = "pdf",
        with_data: bool = False,
    ) -> FetchedDocument:
        """Fetch a document (not Aadhaar) the user consented to; the answer's `file_url`
        downloads it (see `download`). Sends `consent: "Y"`. `with_data` (gateway only) adds
        the document's verified fields as `data`. Never retried."""
        call = _core.fetch_document_call(
            request_id,
            doc_type=doc_type,
            org_id=org_id,
            parameters=parameters,
            format=format,
            with_data=with_data,
        )
        return await self._result(call, FetchedDocument)

    async def aadhaar(self, request_id: str) -> AadhaarResult:
        """The user's verified e-Aadhaar as Setu's OKYC JSON (masked number, photo, address)."""
        return await self._result(_core.aadhaar_call(request_id), AadhaarResult)

    async def revoke(self, request_id: str) -> RevokeResult:
        """Revoke the request's DigiLocker access; revoking twice answers the same."""
        return await self._result(_core.revoke_call(request_id), RevokeResult)

    async def offline_ekyc(
        self,
        archive: bytes | Path,
        *,
        share_code: str,
        mobile: str | None = None,
        email: str | None = None,
        expected: Mapping[str, Any] | None = None,
    ) -> AadhaarResult:
        """Gateway only: verify a UIDAI offline e-KYC ZIP (docs/document-data.md §6) and
        answer the same body as `aadhaar`. Never retried."""
        content = archive.read_bytes() if isinstance(archive, Path) else archive
        call = _core.offline_ekyc_call(
            content, share_code=share_code, mobile=mobile, email=email, expected=expected
        )
        return await self._result(call, AadhaarResult)

    async def wait_for_authentication(
        self, request_id: str, *, timeout: float = 300.0, interval: float = 2.0
    ) -> RequestStatus:
        """Poll `status` until the request is no longer `unauthenticated` (the user consented,
        or it was revoked) and return that status; `WaitTimeoutError` after `timeout` s."""
        deadline = time.monotonic() + timeout
        while True:
            status = await self.status(request_id)
            if status.status != "unauthenticated":
                return status
            if time.monotonic() + interval > deadline:
                raise WaitTimeoutError(
                    f"request still unauthenticated after {timeout:g} s", code="wait_timeout"
                )
            await asyncio.sleep(interval)

    async def download(
        self, file_url: str, path: str | Path, *, progress: Progress | None = None
    ) -> Path:
        """Stream a `file_url` to `path` (written whole or not at all) and return the path.
        Sends no credentials: a `fileUrl` needs none, and may be on another host."""
        target = Path(path)
        partial = target.with_name(target.name + ".partial")

        async def once() -> None:
            try:
                async with self._http.stream("GET", file_url) as response:
                    if response.status_code >= 400:
                        raise _core.error_of(response, await response.aread())
                    total, received = _core.total_of(response), 0
                    with partial.open("wb") as handle:
                        async for chunk in response.aiter_bytes():
                            handle.write(chunk)
                            received += len(chunk)
                            if progress is not None:
                                progress(received, total)
            except httpx.TransportError as exc:
                raise _core.network_error(exc) from exc

        try:
            async for attempt in self._retrying(safe=True):
                with attempt:
                    await once()
        except DigiLockerError:
            partial.unlink(missing_ok=True)
            raise
        partial.replace(target)
        return target
