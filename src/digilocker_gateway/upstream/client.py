"""`DigiLockerClient`: DigiLocker's Authorized Partner API, called as one partner app.

The client owns no connection pool: it composes the app's shared `httpx.AsyncClient` (which
carries the explicit timeouts) with the pure functions of `protocol.py`. Every failure is raised
from the `errors.py` tree.

Retries: only idempotent calls (GETs and the signed meta-API posts) are retried, only after a
transport failure or a 5xx (v2.4 reports provider faults as 530,
docs/reference/digilocker-partner-api.md §15), at most `max_retries` times with exponential backoff.
Token exchange, refresh, pull-document and revoke are never retried: each changes state at
DigiLocker (a code is single use, a refresh rotates the refresh token), so a retry after a lost
answer would fail or act twice.

Nothing here logs tokens, secrets, URLs (document URIs are personal), XML or file bytes.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import quote

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    stop_after_attempt,
    stop_any,
    wait_exponential_jitter,
)
from tenacity.stop import stop_base

from digilocker_gateway.kit import deadline as call_deadline
from digilocker_gateway.upstream.errors import (
    UpstreamError,
    UpstreamMalformedResponse,
    UpstreamResponseError,
    UpstreamTimeout,
)
from digilocker_gateway.upstream.protocol import (
    DEFAULT_META_HASH_FIELDS,
    DocTypeInfo,
    HmacChecker,
    IssuedDocument,
    Issuer,
    MetaHashEncoding,
    SearchParameter,
    TokenResponse,
    UserDetails,
    meta_hash,
    parse_account_registered,
    parse_doctypes,
    parse_error,
    parse_issued_documents,
    parse_issuers,
    parse_pull_document,
    parse_search_parameters,
    parse_token_response,
    parse_user_details,
)
from digilocker_gateway.upstream.streams import FileStream, map_httpx_errors, read_whole

__all__ = [
    "DEFAULT_MAX_FILE_BYTES",
    "CallObserver",
    "DigiLockerClient",
    "FileStream",
    "PartnerCredentials",
]

logger = logging.getLogger("digilocker_gateway.upstream")

# The default bound on one file answer; documents are small (uploads are capped at 10 MB,
# docs/reference/digilocker-partner-api.md §14), so anything far beyond that is a fault, not a
# document.
DEFAULT_MAX_FILE_BYTES = 32 * 1024 * 1024

_NOT_JSON = object()


@dataclass(frozen=True, slots=True)
class PartnerCredentials:
    """One partner app at DigiLocker and how to talk to it. Paths are below `base_url`, which
    ends at `/public` (docs/reference/digilocker-partner-api.md §1, §2)."""

    base_url: str
    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str
    # "/oauth2/2/token" for the OIDC variant (docs/reference/digilocker-partner-api.md §4)
    token_path: str = "/oauth2/1/token"
    user_path: str = "/oauth2/1/user"
    issued_path: str = "/oauth2/2/files/issued"
    # The spec says /2/; clients use /3/ (docs/reference/digilocker-partner-api.md §10).
    eaadhaar_path: str = "/oauth2/3/xml/eaadhaar"
    meta_hash_fields: tuple[str, ...] = DEFAULT_META_HASH_FIELDS
    meta_hash_encoding: MetaHashEncoding = "hex"
    verify_hmac: bool = True
    # A file answer without `hmac` is refused unless a product instance turns this off
    # (unsafe: a truncated or altered file could then pass; docs/errors.md).
    require_hmac: bool = True
    max_retries: int = 2
    backoff_seconds: float = 0.2

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.backoff_seconds < 0:
            raise ValueError("max_retries and backoff_seconds must not be negative")


class CallObserver(Protocol):
    """Watches every call from outside (metrics, the circuit breaker; docs/operations.md):
    `admit` runs once before a call and may refuse it by raising `UpstreamUnavailable`;
    `finished` hears how each attempt ended — its response (any status) or its failure."""

    def admit(self, operation: str) -> None: ...

    def finished(
        self,
        operation: str,
        seconds: float,
        response: httpx.Response | None,
        failure: BaseException | None,
    ) -> None: ...


class DigiLockerClient:
    """DigiLocker as seen by one partner app. Cheap to build; build one per call if convenient.

    `clock` returns UNIX seconds for the meta-APIs' `ts`; `sleep` waits between retries. Both
    default to the real thing and exist so tests need not wait or depend on the time.
    `observer` hears of every call (CallObserver).
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        credentials: PartnerCredentials,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        observer: CallObserver | None = None,
    ) -> None:
        self._http = http
        self._credentials = credentials
        self._clock = clock or time.time
        self._sleep = sleep or asyncio.sleep
        self._observer = observer

    @property
    def credentials(self) -> PartnerCredentials:
        return self._credentials

    # OAuth (docs/reference/digilocker-partner-api.md §4, §13) ----------------------------

    async def exchange_code(self, code: str, code_verifier: str) -> TokenResponse:
        """Trade the callback's `code` for tokens. Client credentials go as form fields: every
        integrator in production sends a form body, whatever the spec's JSON schema says
        (docs/reference/digilocker-partner-api.md §4)."""
        credentials = self._credentials
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": credentials.redirect_uri,
            "code_verifier": code_verifier,
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret,
        }
        payload = await self._json("token", "POST", credentials.token_path, data=form)
        return parse_token_response(payload)

    async def refresh(self, refresh_token: str) -> TokenResponse:
        """New tokens for a refresh token. DigiLocker rotates the refresh token too: store the
        one returned (docs/reference/digilocker-partner-api.md §4)."""
        credentials = self._credentials
        form = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret,
        }
        payload = await self._json("refresh", "POST", credentials.token_path, data=form)
        return parse_token_response(payload)

    async def revoke(self, token: str, token_type_hint: str | None = None) -> None:
        """Revoke a token and, at DigiLocker, the rest of its grant
        (docs/reference/digilocker-partner-api.md §13). Form body, Basic client credentials ([V24]
        and a public JS client)."""
        form = {"token": token}
        if token_type_hint:
            form["token_type_hint"] = token_type_hint
        headers = {"Authorization": self._basic_auth()}
        response = await self._send(
            "revoke", "POST", "/oauth2/1/revoke", data=form, headers=headers, retry=False
        )
        if not response.is_success:
            _raise_for_error("revoke", response)

    # Bearer resource APIs (docs/reference/digilocker-partner-api.md §5, §6, §12) ---------

    async def user(self, access_token: str) -> UserDetails:
        payload = await self._json(
            "user", "GET", self._credentials.user_path, token=access_token, retry=True
        )
        return parse_user_details(payload)

    async def issued_documents(self, access_token: str) -> list[IssuedDocument]:
        payload = await self._json(
            "issued", "GET", self._credentials.issued_path, token=access_token, retry=True
        )
        return list(parse_issued_documents(payload).items)

    async def pull_document(
        self, access_token: str, orgid: str, doctype: str, parameters: Mapping[str, str]
    ) -> str:
        """Ask the issuer for a document; its URI on success. Never retried: a pull that
        reached the issuer may already have added the document (`uri_exists` next time)."""
        form = {"orgid": orgid, "doctype": doctype, "consent": "Y"}
        clashing = form.keys() & parameters.keys()
        if clashing:
            raise ValueError(f"search parameters may not set {sorted(clashing)}")
        form.update(parameters)
        payload = await self._json(
            "pull document", "POST", "/oauth2/1/pull/pulldocument", data=form, token=access_token
        )
        return parse_pull_document(payload)

    # Signed meta-APIs (docs/reference/digilocker-partner-api.md §11) ---------------------

    async def pull_issuers(self) -> list[Issuer]:
        payload = await self._meta("issuers", "/oauth2/1/pull/issuers", {})
        return parse_issuers(payload)

    async def pull_doctypes(self, orgid: str) -> list[DocTypeInfo]:
        payload = await self._meta("doctypes", "/oauth2/1/pull/doctype", {"orgid": orgid})
        return parse_doctypes(payload)

    async def pull_parameters(self, orgid: str, doctype: str) -> list[SearchParameter]:
        fields = {"orgid": orgid, "doctype": doctype}
        payload = await self._meta("parameters", "/oauth2/1/pull/parameters", fields)
        return parse_search_parameters(payload)

    async def verify_account(self, *, uid: str | None = None, mobile: str | None = None) -> bool:
        """Whether DigiLocker has an account for this Aadhaar (`uid`) or mobile number
        (`/account/2/verify`, docs/reference/digilocker-partner-api.md §18). Signed like the
        meta-APIs; read-only, so retried. The number is personal data: it goes only into the
        form, never into an error message."""
        fields = {"uid": uid} if uid else {}
        if mobile:
            fields["mobile"] = mobile
        if not fields:
            raise ValueError("verify_account needs uid or mobile")
        payload = await self._meta("verify account", "/account/2/verify", fields)
        return parse_account_registered(payload)

    def signed_meta_form(self, fields: Mapping[str, str]) -> dict[str, str]:
        """The meta-API form for `fields`: `clientid`, the fields, `ts` (now, UNIX seconds;
        DigiLocker refuses one older than 30 minutes) and the `hmac` hash over them."""
        credentials = self._credentials
        form = {"clientid": credentials.client_id, **fields, "ts": str(int(self._clock()))}
        form["hmac"] = meta_hash(
            {**form, "client_secret": credentials.client_secret},
            field_order=credentials.meta_hash_fields,
            encoding=credentials.meta_hash_encoding,
        )
        return form

    # Files (docs/reference/digilocker-partner-api.md §8, §9, §10) ------------------------

    def stream_file(
        self, access_token: str, uri: str, *, max_bytes: int = DEFAULT_MAX_FILE_BYTES
    ) -> AbstractAsyncContextManager[FileStream]:
        """A document's bytes by URI (`/oauth2/1/file/{uri}`)."""
        path = f"/oauth2/1/file/{_path_segment(uri)}"
        return self._stream("file", path, access_token, max_bytes)

    def stream_xml(
        self, access_token: str, uri: str, *, max_bytes: int = DEFAULT_MAX_FILE_BYTES
    ) -> AbstractAsyncContextManager[FileStream]:
        """An issued document's certificate XML by URI (`/oauth2/1/xml/{uri}`)."""
        path = f"/oauth2/1/xml/{_path_segment(uri)}"
        return self._stream("xml", path, access_token, max_bytes)

    async def fetch_eaadhaar(
        self, access_token: str, *, max_bytes: int = DEFAULT_MAX_FILE_BYTES
    ) -> tuple[bytes, str]:
        """The user's whole e-Aadhaar XML, hmac checked, and its content type; call only when
        the grant says `eaadhaar=Y` (docs/reference/digilocker-partner-api.md §10)."""
        opened = self._stream("eaadhaar", self._credentials.eaadhaar_path, access_token, max_bytes)
        async with opened as stream:
            body = await read_whole(stream)
            return body, stream.content_type or "application/octet-stream"

    @asynccontextmanager
    async def _stream(
        self, operation: str, path: str, access_token: str, max_bytes: int
    ) -> AsyncIterator[FileStream]:
        # `identity`: the hmac covers the body as sent, so it must not arrive compressed.
        headers = {"Accept-Encoding": "identity"}
        response = await self._send(
            operation, "GET", path, token=access_token, headers=headers, retry=True, stream=True
        )
        try:
            if not response.is_success:
                with map_httpx_errors(operation):
                    await response.aread()
                _raise_for_error(operation, response)
            encoding = response.headers.get("content-encoding", "identity").strip().lower()
            if encoding not in ("", "identity"):
                # Asked for `identity`: compressed bytes would be stored as the document, and
                # whether the hmac covers them or the decoded body is unknown.
                raise UpstreamMalformedResponse(f"{operation}: unexpected content-encoding")
            credentials = self._credentials
            checker = HmacChecker(credentials.client_secret) if credentials.verify_hmac else None
            yield FileStream(
                response,
                operation=operation,
                checker=checker,
                require_hmac=credentials.require_hmac,
                max_bytes=max_bytes,
                deadline=call_deadline.current(),
            )
        finally:
            await response.aclose()

    # Plumbing ----------------------------------------------------------------------------

    async def _meta(self, operation: str, path: str, fields: Mapping[str, str]) -> object:
        # Posts, but read-only at DigiLocker: safe to retry, re-signed each time so `ts` is fresh.
        return await self._json(
            operation, "POST", path, data=lambda: self.signed_meta_form(fields), retry=True
        )

    async def _json(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        data: Mapping[str, str] | Callable[[], Mapping[str, str]] | None = None,
        token: str | None = None,
        retry: bool = False,
    ) -> object:
        response = await self._send(operation, method, path, data=data, token=token, retry=retry)
        if not response.is_success:
            _raise_for_error(operation, response)
        payload = _json_or_sentinel(response)
        if payload is _NOT_JSON:
            raise UpstreamMalformedResponse(
                f"{operation}: the answer is not JSON", status=response.status_code
            )
        return payload

    async def _send(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        data: Mapping[str, str] | Callable[[], Mapping[str, str]] | None = None,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        retry: bool,
        stream: bool = False,
    ) -> httpx.Response:
        """Send, retrying (when `retry`) after transport failures and 5xx answers, with
        exponential backoff and jitter (tenacity), never past the call's deadline
        (kit/deadline.py). Returns the last response, whatever its status; raises the last
        transport failure, or UpstreamTimeout when the deadline passes."""
        url = self._credentials.base_url.rstrip("/") + path
        all_headers = {"Accept": "application/json", **(headers or {})}
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        attempts = 1 + (self._credentials.max_retries if retry else 0)
        deadline = call_deadline.current()
        observer = self._observer
        if observer is not None:
            observer.admit(operation)

        async def attempt() -> httpx.Response:
            form = data() if callable(data) else data
            request = self._http.build_request(method, url, data=form, headers=all_headers)
            started = time.perf_counter()
            try:
                with map_httpx_errors(operation):
                    try:
                        async with asyncio.timeout_at(deadline):
                            response = await self._http.send(request, stream=stream)
                    except TimeoutError:
                        raise UpstreamTimeout(f"{operation}: the call's deadline passed") from None
            except BaseException as failure:
                if observer is not None:
                    observer.finished(operation, time.perf_counter() - started, None, failure)
                raise
            if observer is not None:
                observer.finished(operation, time.perf_counter() - started, response, None)
            logger.debug("%s: HTTP %d", operation, response.status_code)
            return response

        def worth_retrying(state: RetryCallState) -> bool:
            outcome = state.outcome
            if outcome is None:
                return False
            if outcome.failed:
                failure = outcome.exception()
                return isinstance(failure, UpstreamError) and failure.temporary
            return bool(outcome.result().status_code >= 500)

        async def before_sleep(state: RetryCallState) -> None:
            outcome = state.outcome
            if outcome is not None and not outcome.failed:
                await outcome.result().aclose()  # a 5xx answer we are about to retry
            reason = (
                type(outcome.exception()).__name__
                if outcome is not None and outcome.failed
                else f"HTTP {outcome.result().status_code}"
                if outcome is not None
                else "?"
            )
            logger.warning(
                "%s: attempt %d failed (%s); retrying in %.2fs",
                operation,
                state.attempt_number,
                reason,
                state.upcoming_sleep,
            )

        backoff = self._credentials.backoff_seconds
        retrying = AsyncRetrying(
            stop=stop_any(stop_after_attempt(attempts), _StopAtDeadline(deadline)),
            wait=wait_exponential_jitter(multiplier=backoff, jitter=backoff),
            retry=worth_retrying,
            before_sleep=before_sleep,
            sleep=self._sleep,
            retry_error_callback=_last_outcome,
        )
        response: httpx.Response = await retrying(attempt)
        return response

    def _basic_auth(self) -> str:
        credentials = self._credentials
        pair = f"{credentials.client_id}:{credentials.client_secret}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")


class _StopAtDeadline(stop_base):
    """Stop retrying when the next pause would end past the call's deadline."""

    def __init__(self, deadline: float | None) -> None:
        self._deadline = deadline

    def __call__(self, retry_state: RetryCallState) -> bool:
        if self._deadline is None:
            return False
        upcoming = retry_state.upcoming_sleep or 0.0
        return asyncio.get_running_loop().time() + upcoming >= self._deadline


def _last_outcome(state: RetryCallState) -> httpx.Response:
    """When retries run out on a 5xx answer, that answer is the result (the caller reads its
    error object); when they run out on a failure, it is raised."""
    assert state.outcome is not None
    return state.outcome.result()  # type: ignore[no-any-return]


def _path_segment(uri: str) -> str:
    # The URI goes raw into the path (a public Java client); anything outside the unreserved set
    # is percent-encoded defensively, `/` included, so a URI can never leave its path
    # (docs/reference/digilocker-partner-api.md §8).
    if not uri:
        raise ValueError("a document URI must not be empty")
    return quote(uri, safe="")


def _json_or_sentinel(response: httpx.Response) -> object:
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError):
        return _NOT_JSON


def _raise_for_error(operation: str, response: httpx.Response) -> None:
    """Raise for a non-2xx answer: DigiLocker's error object, keyed on its `error` string."""
    payload = _json_or_sentinel(response)
    parsed = parse_error(payload) if payload is not _NOT_JSON else None
    if parsed is not None:
        error, description = parsed
        logger.info("%s: DigiLocker answered %d %s", operation, response.status_code, error)
        raise UpstreamResponseError(response.status_code, error, description)
    raise UpstreamMalformedResponse(
        f"{operation}: an error answer without DigiLocker's error object",
        status=response.status_code,
    )
