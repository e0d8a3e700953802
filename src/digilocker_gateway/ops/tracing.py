"""OpenTelemetry tracing (docs/operations.md §5), with `DLG_OTEL_ENABLED=true` and the `otel`
extra installed: a span for each API call (the FastAPI instrumentation), each DigiLocker call
(httpx's, on the runtime's one upstream client) and each database statement (SQLAlchemy's, on
the runtime's engine). Off, this module is never imported, so OpenTelemetry costs nothing.

The spans go to the process's tracer provider when one is set up already (for example by
`opentelemetry-instrument`, or a test); otherwise to one of our own that exports over OTLP/HTTP,
configured by the standard `OTEL_*` variables (`OTEL_EXPORTER_OTLP_ENDPOINT`,
`OTEL_SERVICE_NAME`, …).

Nothing secret or personal reaches a span: URLs are recorded without their query string (the
callback's `code` and `state`) and with every path segment that is not a plain word replaced by
`{id}` (request ids, signed file tokens, DigiLocker document URIs); headers are not recorded
(OpenTelemetry records none unless `OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_*` asks: never set
those here, they would record the credential headers); SQL is recorded as statements with
placeholders, never their values. The embedded simulator and the probes are not traced.

A call without a `traceparent` takes the trace id of its span, so the access log, the error
envelope's `traceId` and the trace are one id.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI

from digilocker_gateway.config import SIMULATOR_MOUNT

if TYPE_CHECKING:
    from opentelemetry.trace import Span, TracerProvider

    from digilocker_gateway.runtime import Runtime

try:
    from opentelemetry import trace
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
    from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
except ImportError as missing:  # pragma: no cover - only without the extra
    raise ImportError(
        "DLG_OTEL_ENABLED=true needs OpenTelemetry: pip install 'digilocker-gateway[otel]'"
    ) from missing

# The attributes, old and stable semantic conventions alike, that carry a URL or its parts.
_URL_ATTRIBUTES = ("http.url", "url.full", "http.target")
_PATH_ATTRIBUTES = ("url.path",)
_QUERY_ATTRIBUTES = ("url.query",)
# A word of the API's or DigiLocker's paths (`status`, `oauth2`, `1`); ids, tokens and document
# URIs have digits, capitals, dots or dashes in them.
_PLAIN_SEGMENT = re.compile(r"[a-z_]{1,40}[0-9]?|[0-9]{1,2}")
# Not traced: the embedded simulator (it is DigiLocker, seen as the upstream spans) and probes.
_EXCLUDED = ",".join((SIMULATOR_MOUNT + "/", "/healthz", "/readyz", "/metrics"))


def scrubbed_path(path: str) -> str:
    """`path` with each segment that is not a plain word (or a short number) replaced by
    `{id}`: /api/digilocker/9f1c…/status -> /api/digilocker/{id}/status."""
    return "/".join(
        segment if not segment or _PLAIN_SEGMENT.fullmatch(segment) else "{id}"
        for segment in path.split("/")
    )


def _scrub(span: Span, scheme: str, host: str, path: str) -> None:
    attributes: Any = getattr(span, "attributes", None) or {}
    clean = scrubbed_path(path)
    for name in _URL_ATTRIBUTES:
        if name in attributes:
            value = clean if name == "http.target" else f"{scheme}://{host}{clean}"
            span.set_attribute(name, value)
    for name in _PATH_ATTRIBUTES:
        if name in attributes:
            span.set_attribute(name, clean)
    for name in _QUERY_ATTRIBUTES:
        if name in attributes:
            span.set_attribute(name, "")


def _server_request_hook(span: Span, scope: dict[str, Any]) -> None:
    if not span.is_recording():
        return
    headers = list(scope.get("headers", ()))
    host = next((v.decode("latin-1") for k, v in headers if k == b"host"), "")
    _scrub(span, scope.get("scheme", "http"), host, scope.get("path", ""))
    if not any(name == b"traceparent" for name, _ in headers):
        # A call that starts its trace here: the gateway's own trace id (logs, the envelope's
        # traceId, x-trace-id; kit/web.py reads it from traceparent) is the span's.
        context = span.get_span_context()
        value = f"00-{context.trace_id:032x}-{context.span_id:016x}-01"
        scope["headers"] = [*headers, (b"traceparent", value.encode())]


async def _upstream_request_hook(span: Span, request: Any) -> None:
    if not span.is_recording():
        return
    url = request.url
    if isinstance(url, tuple):  # httpcore's form: (scheme, host, port, target)
        scheme, host, port, target = url
        scheme, host = scheme.decode(), f"{host.decode()}:{port}" if port else host.decode()
        path = target.decode().split("?", 1)[0]
    else:
        scheme, host, path = url.scheme, url.netloc.decode(), url.path
    method = request.method.decode() if isinstance(request.method, bytes) else request.method
    span.update_name(f"DigiLocker {method} {scrubbed_path(path)}")
    _scrub(span, scheme, host, path)


def tracer_provider() -> TracerProvider:
    """The process's SDK tracer provider, or a new one exporting over OTLP, set globally."""
    current = trace.get_tracer_provider()
    if isinstance(current, SdkTracerProvider):
        return current
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = SdkTracerProvider(resource=Resource.create({"service.name": "digilocker-gateway"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return provider


class Tracing:
    """Instruments one app, then its runtime once the lifespan has built it."""

    def __init__(self, app: FastAPI) -> None:
        self._provider = tracer_provider()
        FastAPIInstrumentor.instrument_app(
            app,
            tracer_provider=self._provider,
            server_request_hook=_server_request_hook,
            excluded_urls=_EXCLUDED,
            exclude_spans=["receive", "send"],
        )
        self._runtime: Runtime | None = None

    def instrument_runtime(self, runtime: Runtime) -> None:
        HTTPXClientInstrumentor.instrument_client(
            runtime.http, tracer_provider=self._provider, request_hook=_upstream_request_hook
        )
        # The instrumentation declares SQLAlchemy < 2.1 but only listens to the engine's
        # cursor events, which 2.1 keeps; tests/ops/test_tracing.py checks the spans come.
        SQLAlchemyInstrumentor().instrument(
            engine=runtime.engine.sync_engine,
            tracer_provider=self._provider,
            skip_dep_check=True,
        )
        self._runtime = runtime

    def close(self) -> None:
        if self._runtime is not None:
            HTTPXClientInstrumentor.uninstrument_client(self._runtime.http)
            SQLAlchemyInstrumentor().uninstrument()
            self._runtime = None
        force_flush = getattr(self._provider, "force_flush", None)
        if callable(force_flush):
            force_flush()
