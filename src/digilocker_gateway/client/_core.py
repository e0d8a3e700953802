"""What the sync and async clients share, with no I/O: settings from arguments or the
environment, the calls as data, reading answers into models or exceptions, the retry rule and
the catalogue's cache."""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import httpx
from pydantic import BaseModel, ValidationError

from digilocker_gateway.client.errors import (
    DigiLockerError,
    GatewayOnlyError,
    NetworkError,
    RateLimitError,
    RequestTimeoutError,
    error_for,
)
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
    WebhookDeliveryList,
    WebhookEndpoint,
    WebhookEndpointList,
    WebhookReplay,
)

Model = TypeVar("Model", bound=BaseModel)
Progress = Callable[[int, int | None], None]
"""Called as `progress(bytes_so_far, total_bytes_or_None)` while a body arrives."""

# Setu's own hosts (docs/reference/setu-api.md): they have none of the gateway's extensions.
SETU_HOSTS = frozenset({"dg-sandbox.setu.co", "dg.setu.co"})
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
DEFAULT_MAX_RETRIES = 2
# Codes whose answer says nothing changed and a later try may work (docs/errors.md,
# docs/reference/setu-api.md §4.3, §4.6); 502-504 come from proxies, without the envelope.
RETRYABLE_CODES = frozenset({"upstream_server_error", "catalogue_not_ready", "get_xml_failed"})
RETRYABLE_STATUSES = frozenset({502, 503, 504})
CATALOGUE_MAX_AGE_SECONDS = 7 * 24 * 3600

ENV_BASE_URL = ("DLG_CLIENT_BASE_URL", "SETU_BASE_URL")
ENV_CLIENT_ID = ("DLG_CLIENT_ID", "SETU_CLIENT_ID")
ENV_CLIENT_SECRET = ("DLG_CLIENT_SECRET", "SETU_CLIENT_SECRET")
ENV_PRODUCT_INSTANCE_ID = ("DLG_CLIENT_PRODUCT_INSTANCE_ID", "SETU_PRODUCT_INSTANCE_ID")


@dataclass(frozen=True)
class Credentials:
    """The three credentials every call carries (docs/reference/setu-api.md §1)."""

    client_id: str
    client_secret: str = field(repr=False)
    product_instance_id: str

    def headers(self) -> dict[str, str]:
        return {
            "x-client-id": self.client_id,
            "x-client-secret": self.client_secret,
            "x-product-instance-id": self.product_instance_id,
        }


def _from_env(value: str | None, names: tuple[str, ...], environ: Mapping[str, str]) -> str:
    if value:
        return value
    for name in names:
        if environ.get(name):
            return environ[name]
    raise ValueError(f"missing: pass it, or set {' or '.join(names)}")


def resolve(
    base_url: str | None,
    client_id: str | None,
    client_secret: str | None,
    product_instance_id: str | None,
    environ: Mapping[str, str] | None = None,
) -> tuple[str, Credentials]:
    """The base URL and credentials from the arguments, else from DLG_CLIENT_* then SETU_*."""
    environ = os.environ if environ is None else environ
    try:
        base = _from_env(base_url, ENV_BASE_URL, environ)
        credentials = Credentials(
            client_id=_from_env(client_id, ENV_CLIENT_ID, environ),
            client_secret=_from_env(client_secret, ENV_CLIENT_SECRET, environ),
            product_instance_id=_from_env(product_instance_id, ENV_PRODUCT_INSTANCE_ID, environ),
        )
    except ValueError as exc:
        raise ValueError(f"DigiLocker client settings {exc}") from None
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"base_url must be an absolute http(s) URL, not {base!r}")
    return base.rstrip("/"), credentials


def is_setu(base_url: str) -> bool:
    """Whether `base_url` is one of Setu's own hosts."""
    return (urlsplit(base_url).hostname or "").lower() in SETU_HOSTS


@dataclass(frozen=True)
class Call:
    """One API call as data: what to send, how to read the answer, and whether it is safe to
    send again."""

    method: str
    path: str
    model: type[BaseModel] | None  # None: the answer has no body (204)
    json: Any = None
    files: Any = None
    data: Mapping[str, str] | None = None
    params: Mapping[str, str] | None = None
    safe: bool = False
    gateway_only: str | None = None  # the extension's name, when Setu has no such call


def _request_path(request_id: str, tail: str) -> str:
    return f"/api/digilocker/{quote(request_id, safe='')}/{tail}"


def create_call(
    redirect_url: str, doc_type: str | Sequence[str] | None, expected: Mapping[str, Any] | None
) -> Call:
    body: dict[str, Any] = {"redirectUrl": redirect_url}
    if doc_type:
        body["docType"] = doc_type if isinstance(doc_type, str) else ",".join(doc_type)
    several = body.get("docType", "").count(",") > 0
    if expected is not None:
        body["expected"] = dict(expected)
    # Never retried: a create whose answer was lost would make a second request.
    return Call(
        "POST",
        "/api/digilocker",
        DigiLockerRequest,
        json=body,
        gateway_only="expected"
        if expected is not None
        else ("several doc types" if several else None),
    )


def status_call(request_id: str) -> Call:
    return Call("GET", _request_path(request_id, "status"), RequestStatus, safe=True)


def aadhaar_call(request_id: str) -> Call:
    return Call("GET", _request_path(request_id, "aadhaar"), AadhaarResult, safe=True)


def revoke_call(request_id: str) -> Call:
    # Revoking twice is harmless and a failed revoke changes nothing (setu-api.md §4.6).
    return Call("GET", _request_path(request_id, "revoke"), RevokeResult, safe=True)


def parameters_of(
    parameters: Mapping[str, str] | Sequence[DocumentParameter] | None,
) -> list[dict[str, str]]:
    if parameters is None:
        return []
    if isinstance(parameters, Mapping):
        return [{"name": name, "value": str(value)} for name, value in parameters.items()]
    return [{"name": item.name, "value": item.value} for item in parameters]


def fetch_document_call(
    request_id: str,
    *,
    doc_type: str,
    org_id: str,
    parameters: Mapping[str, str] | Sequence[DocumentParameter] | None,
    format: str,
    with_data: bool,
    uri: str | None = None,
) -> Call:
    if uri is not None and parameters:
        raise ValueError("give parameters or uri, not both")
    body: dict[str, Any] = {
        "docType": doc_type,
        "orgId": org_id,
        "format": format,
        "consent": "Y",
        "parameters": parameters_of(parameters),
    }
    extensions = []
    if uri is not None:
        body["uri"] = uri
        extensions.append("uri")
    if with_data:
        body["withData"] = True
        extensions.append("withData")
    # Not retried: a pull whose answer was lost is not known to be harmless to repeat.
    return Call(
        "POST",
        _request_path(request_id, "document"),
        FetchedDocument,
        json=body,
        gateway_only=" and ".join(extensions) or None,
    )


def issued_call(request_id: str) -> Call:
    return Call(
        "GET",
        _request_path(request_id, "issued"),
        IssuedDocuments,
        safe=True,
        gateway_only="the issued list",
    )


def fetch_issued_call(
    request_id: str, document: IssuedDocument, *, format: str | None, with_data: bool
) -> Call:
    """Fetch document by a listed document's `uri` (docs/journey-options.md §3)."""
    if document.org_id is None:
        raise ValueError(
            f"the issued {document.doc_type} has no orgId (the catalogue does not list its "
            "issuer), so fetch document cannot take it"
        )
    if format is None:
        formats = document.available_formats
        format = "pdf" if "pdf" in formats or not formats else formats[0]
    return fetch_document_call(
        request_id,
        doc_type=document.doc_type,
        org_id=document.org_id,
        parameters=None,
        format=format,
        with_data=with_data,
        uri=document.uri,
    )


def account_check_call(mobile: str | None, aadhaar: str | None) -> Call:
    if (mobile is None) == (aadhaar is None):
        raise ValueError("give exactly one of mobile or aadhaar")
    body = {"mobile": mobile} if mobile is not None else {"aadhaar": aadhaar}
    # Not retried: every try counts against the per-minute limit (docs/journey-options.md §4).
    return Call(
        "POST",
        "/api/digilocker/accounts/verify",
        AccountCheck,
        json=body,
        gateway_only="the account check",
    )


WEBHOOKS_PATH = "/api/digilocker/webhooks"
WEBHOOKS = "the webhook API"


def _webhook_path(endpoint_id: str, tail: str = "") -> str:
    return f"{WEBHOOKS_PATH}/{quote(endpoint_id, safe='')}{tail}"


def create_webhook_call(url: str, event_types: Sequence[str] | None, enabled: bool) -> Call:
    body: dict[str, Any] = {"url": url, "enabled": enabled}
    if event_types is not None:
        body["eventTypes"] = list(event_types)
    # Not retried: a lost answer would leave a second endpoint, and its secret unseen.
    return Call("POST", WEBHOOKS_PATH, CreatedWebhookEndpoint, json=body, gateway_only=WEBHOOKS)


def list_webhooks_call() -> Call:
    return Call("GET", WEBHOOKS_PATH, WebhookEndpointList, safe=True, gateway_only=WEBHOOKS)


def get_webhook_call(endpoint_id: str) -> Call:
    return Call(
        "GET", _webhook_path(endpoint_id), WebhookEndpoint, safe=True, gateway_only=WEBHOOKS
    )


def update_webhook_call(
    endpoint_id: str, url: str | None, event_types: Sequence[str] | None, enabled: bool | None
) -> Call:
    body: dict[str, Any] = {}
    if url is not None:
        body["url"] = url
    if event_types is not None:
        body["eventTypes"] = list(event_types)
    if enabled is not None:
        body["enabled"] = enabled
    return Call(
        "PATCH", _webhook_path(endpoint_id), WebhookEndpoint, json=body, gateway_only=WEBHOOKS
    )


def delete_webhook_call(endpoint_id: str) -> Call:
    # Not retried: a second delete after a lost answer would say not_found.
    return Call("DELETE", _webhook_path(endpoint_id), None, gateway_only=WEBHOOKS)


def rotate_webhook_secret_call(endpoint_id: str, overlap_seconds: int | None) -> Call:
    body = {} if overlap_seconds is None else {"overlapSeconds": overlap_seconds}
    return Call(
        "POST",
        _webhook_path(endpoint_id, "/rotate-secret"),
        RotatedWebhookSecret,
        json=body,
        gateway_only=WEBHOOKS,
    )


def webhook_deliveries_call(
    endpoint_id: str | None, request_id: str | None, status: str | None, limit: int | None
) -> Call:
    params = {
        name: str(value)
        for name, value in (("requestId", request_id), ("status", status), ("limit", limit))
        if value is not None
    }
    path = (
        _webhook_path(endpoint_id, "/deliveries") if endpoint_id else WEBHOOKS_PATH + "/deliveries"
    )
    return Call("GET", path, WebhookDeliveryList, params=params, safe=True, gateway_only=WEBHOOKS)


def replay_webhooks_call(
    endpoint_id: str,
    delivery_id: int | None,
    failed_since: datetime | None,
    request_id: str | None,
) -> Call:
    chosen = [value for value in (delivery_id, failed_since, request_id) if value is not None]
    if len(chosen) != 1:
        raise ValueError("give exactly one of delivery_id, failed_since or request_id")
    body: dict[str, Any] = {}
    if delivery_id is not None:
        body["deliveryId"] = delivery_id
    if failed_since is not None:
        if failed_since.tzinfo is None:
            raise ValueError("failed_since must carry a time zone")
        body["failedSince"] = failed_since.isoformat()
    if request_id is not None:
        body["requestId"] = request_id
    # Not retried: a second replay would queue the events once more.
    return Call(
        "POST",
        _webhook_path(endpoint_id, "/replay"),
        WebhookReplay,
        json=body,
        gateway_only=WEBHOOKS,
    )


def offline_ekyc_call(
    archive: bytes,
    *,
    share_code: str,
    mobile: str | None,
    email: str | None,
    expected: Mapping[str, Any] | None,
) -> Call:
    data = {"shareCode": share_code}
    if mobile:
        data["mobile"] = mobile
    if email:
        data["email"] = email
    if expected is not None:
        data["expected"] = json.dumps(dict(expected))
    return Call(
        "POST",
        "/api/aadhaar/offline",
        AadhaarResult,
        files={"file": ("offline-ekyc.zip", archive, "application/zip")},
        data=data,
        gateway_only="offline e-KYC",
    )


def refuse_on_setu(call: Call, base_url: str, gateway: bool) -> None:
    if call.gateway_only is not None and not gateway:
        raise GatewayOnlyError(
            f"{call.gateway_only} is a gateway extension; {urlsplit(base_url).hostname} "
            "(Setu) does not offer it",
            code="gateway_only",
        )


def error_of(response: httpx.Response, body: bytes) -> DigiLockerError:
    """The exception for an error answer, from Setu's envelope when it has one."""
    code = detail = trace_id = None
    try:
        envelope = json.loads(body).get("error")
    except (ValueError, AttributeError):
        envelope = None
    if isinstance(envelope, dict):
        code = envelope.get("code") if isinstance(envelope.get("code"), str) else None
        detail = envelope.get("detail") if isinstance(envelope.get("detail"), str) else None
        trace = envelope.get("traceId")
        trace_id = trace if isinstance(trace, str) else None
    error = error_for(
        response.status_code, code, detail, trace_id or response.headers.get("x-trace-id")
    )
    if isinstance(error, RateLimitError):
        error.retry_after = retry_after_of(response)
    return error


def retry_after_of(response: httpx.Response) -> float | None:
    """`Retry-After` in seconds (the gateway sends seconds; an HTTP date is read as absent)."""
    try:
        seconds = float(response.headers.get("retry-after", ""))
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def result_of(model: type[Model], response: httpx.Response, body: bytes) -> Model:
    """The typed result of a 2xx answer (create may answer 200 or 201, setu-api.md §2)."""
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise DigiLockerError(
            f"the answer is not a {model.__name__}: {exc.error_count()} field problem(s)",
            code="invalid_response",
            status=response.status_code,
            trace_id=response.headers.get("x-trace-id"),
        ) from None


def network_error(exc: httpx.TransportError) -> NetworkError:
    """A transport failure as part of the tree; the message never carries the URL's query."""
    if isinstance(exc, httpx.TimeoutException):
        return RequestTimeoutError(f"no answer in time ({type(exc).__name__})", code="timeout")
    return NetworkError(f"the connection failed ({type(exc).__name__})", code="network_error")


def retryable(exc: BaseException) -> bool:
    """Whether a safe call may be sent again after `exc`."""
    if isinstance(exc, NetworkError):
        return True
    if isinstance(exc, DigiLockerError) and exc.status is not None:
        return exc.code in RETRYABLE_CODES or exc.status in RETRYABLE_STATUSES
    return False


def total_of(response: httpx.Response) -> int | None:
    length = response.headers.get("content-length")
    # With Content-Encoding the length counts compressed bytes; the decoded total is unknown.
    if length is None or not length.isdigit() or response.headers.get("content-encoding"):
        return None
    return int(length)


@dataclass
class CachedCatalogue:
    body: bytes
    etag: str | None
    stored_at: float
    parsed: Catalogue | None = None  # read once per process, not on every call


class CatalogueCache:
    """The last catalogue answer, in memory and, with `directory`, on disk. Revalidated with
    `If-None-Match` when the server gave an ETag (the gateway does); without one (Setu), reused
    for `max_age` seconds, as Setu advises storing the list (docs/reference/setu-api.md §4.3)."""

    def __init__(
        self,
        directory: Path | None = None,
        *,
        max_age: float = CATALOGUE_MAX_AGE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.directory = directory
        self.max_age = max_age
        self.clock = clock
        self._memory: dict[str, CachedCatalogue] = {}

    def _paths(self, base_url: str) -> tuple[Path, Path] | None:
        if self.directory is None:
            return None
        key = hashlib.sha256(base_url.encode()).hexdigest()[:16]
        return self.directory / f"catalogue-{key}.json", self.directory / f"catalogue-{key}.meta"

    def get(self, base_url: str) -> CachedCatalogue | None:
        if base_url in self._memory:
            return self._memory[base_url]
        paths = self._paths(base_url)
        if paths is None or not paths[0].exists() or not paths[1].exists():
            return None
        try:
            meta = json.loads(paths[1].read_text())
            cached = CachedCatalogue(paths[0].read_bytes(), meta.get("etag"), meta["storedAt"])
        except (OSError, ValueError, KeyError):
            return None
        self._memory[base_url] = cached
        return cached

    def fresh(self, cached: CachedCatalogue) -> bool:
        """Usable without asking the server: only when there is no ETag to revalidate."""
        return cached.etag is None and self.clock() - cached.stored_at < self.max_age

    def put(
        self, base_url: str, body: bytes, etag: str | None, parsed: Catalogue | None = None
    ) -> None:
        cached = CachedCatalogue(body, etag, self.clock(), parsed)
        self._memory[base_url] = cached
        paths = self._paths(base_url)
        if paths is None:
            return
        paths[0].parent.mkdir(parents=True, exist_ok=True)
        for path, content in (
            (paths[0], body),
            (paths[1], json.dumps({"etag": etag, "storedAt": cached.stored_at}).encode()),
        ):
            partial = path.with_suffix(path.suffix + ".partial")
            partial.write_bytes(content)
            partial.replace(path)


def catalogue_of(cached: CachedCatalogue) -> Catalogue:
    if cached.parsed is None:
        catalogue = Catalogue.model_validate_json(cached.body)
        cached.parsed = catalogue.model_copy(update={"etag": cached.etag})
    return cached.parsed
