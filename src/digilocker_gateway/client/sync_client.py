"""`DigiLockerClient`: the blocking client, one method per call of the API."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

import digilocker_gateway.client._core as _core
from digilocker_gateway.client._core import CatalogueCache, Progress
from digilocker_gateway.client.errors import DigiLockerError, WaitTimeoutError
from digilocker_gateway.client.models import (
    AadhaarResult,
    AccountCheck,
    Catalogue,
    CreatedWebhookEndpoint,
    DigiLockerRequest,
    DocumentParameter,
    FetchedDocument,
    IssuedDocument,
    IssuedDocuments,
    RequestStatus,
    RevokeResult,
    RotatedWebhookSecret,
    WebhookDelivery,
    WebhookDeliveryList,
    WebhookEndpoint,
    WebhookEndpointList,
    WebhookReplay,
)

__all__ = ["DigiLockerClient"]

Model = TypeVar("Model", bound=BaseModel)


class DigiLockerClient:
    """A client of the gateway's Setu-compatible API, or of Setu's own hosts unchanged.

    `base_url` and the three credentials come from the arguments, else from
    `DLG_CLIENT_BASE_URL`, `DLG_CLIENT_ID`, `DLG_CLIENT_SECRET`,
    `DLG_CLIENT_PRODUCT_INSTANCE_ID`, else from `SETU_BASE_URL`, `SETU_CLIENT_ID`,
    `SETU_CLIENT_SECRET`, `SETU_PRODUCT_INSTANCE_ID`. Safe calls (status, catalogue, Aadhaar,
    revoke, download, the issued list, reading webhooks and deliveries) are retried up to
    `max_retries` times with exponential backoff on network errors and on the answers the API
    calls retryable; the calls that change something (create, fetch document, the account
    check, adding, changing, deleting and replaying webhooks) never are. The gateway's
    extensions raise `GatewayOnlyError` before sending when `base_url` is one of Setu's hosts
    (`gateway` overrides the guess).
    `transport` replaces the network (tests); `catalogue_cache` keeps the catalogue between
    calls (in memory by default; `CatalogueCache(directory)` keeps it on disk too).

    Use it as a context manager, or call `close()`."""

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
        transport: httpx.BaseTransport | None = None,
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
        self._http = httpx.Client(timeout=timeout, transport=transport)

    # -- plumbing ---------------------------------------------------------------------------

    def __enter__(self) -> DigiLockerClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def _retrying(self, safe: bool) -> Retrying:
        return Retrying(
            stop=stop_after_attempt(self.max_retries + 1 if safe else 1),
            wait=wait_exponential_jitter(
                multiplier=self.retry_backoff, jitter=self.retry_backoff, max=8.0
            ),
            retry=retry_if_exception(_core.retryable),
            reraise=True,
        )

    def _send_once(
        self, call: _core.Call, headers: Mapping[str, str], progress: Progress | None
    ) -> tuple[httpx.Response, bytes]:
        request = self._http.build_request(
            call.method,
            self.base_url + call.path,
            json=call.json,
            files=call.files,
            data=call.data,
            params=call.params,
            headers={**self._credentials.headers(), **headers},
        )
        try:
            response = self._http.send(request, stream=True)
            try:
                total, chunks = _core.total_of(response), []
                received = 0
                for chunk in response.iter_bytes():
                    chunks.append(chunk)
                    received += len(chunk)
                    if progress is not None:
                        progress(received, total)
            finally:
                response.close()
        except httpx.TransportError as exc:
            raise _core.network_error(exc) from exc
        body = b"".join(chunks)
        if response.status_code >= 400:
            raise _core.error_of(response, body)
        return response, body

    def _send(
        self,
        call: _core.Call,
        headers: Mapping[str, str] | None = None,
        progress: Progress | None = None,
    ) -> tuple[httpx.Response, bytes]:
        _core.refuse_on_setu(call, self.base_url, self.is_gateway)
        for attempt in self._retrying(call.safe):
            with attempt:
                return self._send_once(call, headers or {}, progress)
        raise AssertionError("unreachable")  # pragma: no cover - tenacity reraises

    def _result(self, call: _core.Call, model: type[Model]) -> Model:
        response, body = self._send(call)
        return _core.result_of(model, response, body)

    # -- the API ----------------------------------------------------------------------------

    def create(
        self,
        redirect_url: str,
        *,
        doc_type: str | Sequence[str] | None = None,
        expected: Mapping[str, Any] | None = None,
    ) -> DigiLockerRequest:
        """Create a request; send the user's browser to the answer's `url`. `doc_type` names
        the documents to pre-select (several only on the gateway); `expected` (gateway only,
        docs/identity-match.md) makes every answer carry `match`. Never retried."""
        return self._result(_core.create_call(redirect_url, doc_type, expected), DigiLockerRequest)

    def status(self, request_id: str) -> RequestStatus:
        """The request's status and, once authenticated, the user's DigiLocker details."""
        return self._result(_core.status_call(request_id), RequestStatus)

    def catalogue(self, *, refresh: bool = False, progress: Progress | None = None) -> Catalogue:
        """Every fetchable document. Kept in `catalogue_cache`: revalidated by ETag against the
        gateway (a 304 costs nothing), reused for its max age against Setu, which sends no
        ETag; `refresh=True` asks the server again regardless. `progress` sees the bytes."""
        cached = self.catalogue_cache.get(self.base_url)
        if cached is not None and not refresh and self.catalogue_cache.fresh(cached):
            return _core.catalogue_of(cached)
        headers = {"if-none-match": cached.etag} if cached and cached.etag and not refresh else {}
        call = _core.Call("GET", "/api/digilocker/documents", Catalogue, safe=True)
        response, body = self._send(call, headers, progress)
        if response.status_code == 304 and cached is not None:
            self.catalogue_cache.put(self.base_url, cached.body, cached.etag, cached.parsed)
            return _core.catalogue_of(cached)
        etag = response.headers.get("etag")
        catalogue = _core.result_of(Catalogue, response, body).model_copy(update={"etag": etag})
        self.catalogue_cache.put(self.base_url, body, etag, catalogue)
        return catalogue

    def fetch_document(
        self,
        request_id: str,
        *,
        doc_type: str,
        org_id: str,
        parameters: Mapping[str, str] | Sequence[DocumentParameter] | None = None,
        format: str = "pdf",
        with_data: bool = False,
        uri: str | None = None,
    ) -> FetchedDocument:
        """Fetch a document (not Aadhaar) the user consented to; the answer's `file_url`
        downloads it (see `download`). Sends `consent: "Y"`. Gateway only: `with_data` adds
        the document's fields as `data` (a `DocumentData`); `uri`, from `issued`, names a
        listed document instead of `parameters` (see `fetch_issued`). Never retried."""
        call = _core.fetch_document_call(
            request_id,
            doc_type=doc_type,
            org_id=org_id,
            parameters=parameters,
            format=format,
            with_data=with_data,
            uri=uri,
        )
        return self._result(call, FetchedDocument)

    def aadhaar(self, request_id: str) -> AadhaarResult:
        """The user's verified e-Aadhaar as Setu's OKYC JSON (masked number, photo, address)."""
        return self._result(_core.aadhaar_call(request_id), AadhaarResult)

    def revoke(self, request_id: str) -> RevokeResult:
        """Revoke the request's DigiLocker access; revoking twice answers the same."""
        return self._result(_core.revoke_call(request_id), RevokeResult)

    def offline_ekyc(
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
        return self._result(call, AadhaarResult)

    # -- gateway extensions (GatewayOnlyError against Setu's hosts) --------------------------

    def issued(self, request_id: str) -> IssuedDocuments:
        """Gateway only: the documents the user holds in DigiLocker, cut to the doc types they
        consented to share (docs/journey-options.md §3). Fetch a `fetchable` one with
        `fetch_issued`, no parameters needed."""
        return self._result(_core.issued_call(request_id), IssuedDocuments)

    def fetch_issued(
        self,
        request_id: str,
        document: IssuedDocument,
        *,
        format: str | None = None,
        with_data: bool = False,
    ) -> FetchedDocument:
        """Gateway only: fetch a document from `issued` by its `uri` (docs/journey-options.md
        §3), in `format` (default pdf when listed, else its first format). The answer's
        `parameters_verified` is False: no parameters were checked. A listed document without
        an `org_id` cannot be fetched (`ValueError`, nothing sent). Never retried."""
        call = _core.fetch_issued_call(request_id, document, format=format, with_data=with_data)
        return self._result(call, FetchedDocument)

    def verify_account(
        self, *, mobile: str | None = None, aadhaar: str | None = None
    ) -> AccountCheck:
        """Gateway only: whether a mobile (10 digits) or an Aadhaar number (12) has a
        DigiLocker account, to choose the journey's `flow` (docs/journey-options.md §4). Give
        exactly one (`ValueError` otherwise). Limited per minute by the gateway
        (`RateLimitError`); never retried, as every try counts."""
        return self._result(_core.account_check_call(mobile, aadhaar), AccountCheck)

    def create_webhook(
        self, url: str, *, event_types: Sequence[str] | None = None, enabled: bool = True
    ) -> CreatedWebhookEndpoint:
        """Gateway only: add an endpoint the gateway will POST signed events to
        (docs/webhooks.md §1, §6); `event_types` None or empty: every event. The answer's
        `secret` is shown only now: keep it for `verify_webhook`. Never retried."""
        call = _core.create_webhook_call(url, event_types, enabled)
        return self._result(call, CreatedWebhookEndpoint)

    def list_webhooks(self) -> list[WebhookEndpoint]:
        """Gateway only: this product instance's webhook endpoints (never their secrets)."""
        return (self._result(_core.list_webhooks_call(), WebhookEndpointList)).endpoints

    def get_webhook(self, endpoint_id: str) -> WebhookEndpoint:
        """Gateway only: one webhook endpoint (`NotFoundError` if it is not this instance's)."""
        return self._result(_core.get_webhook_call(endpoint_id), WebhookEndpoint)

    def update_webhook(
        self,
        endpoint_id: str,
        *,
        url: str | None = None,
        event_types: Sequence[str] | None = None,
        enabled: bool | None = None,
    ) -> WebhookEndpoint:
        """Gateway only: change an endpoint's URL, event types (empty: every event) or enabled
        flag; what is None stays. Enabling a disabled endpoint sends its pending deliveries."""
        call = _core.update_webhook_call(endpoint_id, url, event_types, enabled)
        return self._result(call, WebhookEndpoint)

    def delete_webhook(self, endpoint_id: str) -> None:
        """Gateway only: delete an endpoint and its pending deliveries. Never retried."""
        self._send(_core.delete_webhook_call(endpoint_id))

    def rotate_webhook_secret(
        self, endpoint_id: str, *, overlap_seconds: int | None = None
    ) -> RotatedWebhookSecret:
        """Gateway only: a new signing secret (shown only now); the old one keeps signing for
        `overlap_seconds` (default: the gateway's setting, a day), so `verify_webhook` can take
        both while receivers move. Never retried."""
        call = _core.rotate_webhook_secret_call(endpoint_id, overlap_seconds)
        return self._result(call, RotatedWebhookSecret)

    def webhook_deliveries(
        self,
        endpoint_id: str | None = None,
        *,
        request_id: str | None = None,
        status: str | None = None,
        limit: int | None = None,
    ) -> list[WebhookDelivery]:
        """Gateway only: deliveries newest first, with their attempts: of one endpoint, or of
        every endpoint when `endpoint_id` is None; `request_id` and `status` (pending,
        delivered, failed) narrow them, `limit` (1-1000, default 100) caps them."""
        call = _core.webhook_deliveries_call(endpoint_id, request_id, status, limit)
        return (self._result(call, WebhookDeliveryList)).deliveries

    def replay_webhooks(
        self,
        endpoint_id: str,
        *,
        delivery_id: int | None = None,
        failed_since: datetime | None = None,
        request_id: str | None = None,
    ) -> int:
        """Gateway only: send events to the endpoint again, with their original `webhook-id`:
        one delivery, every failed delivery since an aware `failed_since`, or every event of a
        request. Give exactly one (`ValueError` otherwise). Answers how many were queued; never
        retried, as a second replay would queue them again."""
        call = _core.replay_webhooks_call(endpoint_id, delivery_id, failed_since, request_id)
        return (self._result(call, WebhookReplay)).queued

    def wait_for_authentication(
        self, request_id: str, *, timeout: float = 300.0, interval: float = 2.0
    ) -> RequestStatus:
        """Poll `status` until the request is no longer `unauthenticated` (the user consented,
        or it was revoked) and return that status; `WaitTimeoutError` after `timeout` s."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.status(request_id)
            if status.status != "unauthenticated":
                return status
            if time.monotonic() + interval > deadline:
                raise WaitTimeoutError(
                    f"request still unauthenticated after {timeout:g} s", code="wait_timeout"
                )
            time.sleep(interval)

    def download(
        self, file_url: str, path: str | Path, *, progress: Progress | None = None
    ) -> Path:
        """Stream a `file_url` to `path` (written whole or not at all) and return the path.
        Sends no credentials: a `fileUrl` needs none, and may be on another host."""
        target = Path(path)
        partial = target.with_name(target.name + ".partial")

        def once() -> None:
            try:
                with self._http.stream("GET", file_url) as response:
                    if response.status_code >= 400:
                        raise _core.error_of(response, response.read())
                    total, received = _core.total_of(response), 0
                    with partial.open("wb") as handle:
                        for chunk in response.iter_bytes():
                            handle.write(chunk)
                            received += len(chunk)
                            if progress is not None:
                                progress(received, total)
            except httpx.TransportError as exc:
                raise _core.network_error(exc) from exc

        try:
            for attempt in self._retrying(safe=True):
                with attempt:
                    once()
        except DigiLockerError:
            partial.unlink(missing_ok=True)
            raise
        partial.replace(target)
        return target
