"""OpenTelemetry tracing (docs/operations.md §5), into the SDK's in-memory exporter: a status
call is a server span with its database statements beneath it, a document fetch has its
DigiLocker calls beneath it too; no span carries a secret or a personal value; and with tracing
off nothing of ours or of OpenTelemetry's SDK is even imported."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from digilocker_gateway.documents.catalogue import CatalogueDocument
from digilocker_gateway.ops.tracing import scrubbed_path
from tests.conftest import store_held_catalogue
from tests.documents.test_fetch import fetch, fetch_body, pick
from tests.support import (
    DatabaseUnderTest,
    Gateway,
    query_of,
    running_gateway,
    sim_user,
    walk_journey,
)

_EXPORTER = InMemorySpanExporter()


@pytest.fixture(scope="module")
def exporter() -> Iterator[InMemorySpanExporter]:
    """The process's tracer provider, exporting into memory (set once: OpenTelemetry allows
    one global provider per process; the gateway uses the one it finds)."""
    current = trace.get_tracer_provider()
    if not isinstance(current, TracerProvider):
        current = TracerProvider()
        trace.set_tracer_provider(current)
    current.add_span_processor(SimpleSpanProcessor(_EXPORTER))
    yield _EXPORTER
    _EXPORTER.clear()


@pytest.fixture
async def traced(
    database: DatabaseUnderTest,
    tmp_path: Path,
    catalogue_documents: list[CatalogueDocument],
    exporter: InMemorySpanExporter,
) -> AsyncIterator[Gateway]:
    async with running_gateway(database, tmp_path, otel_enabled=True) as gateway:
        await store_held_catalogue(gateway, catalogue_documents)
        exporter.clear()
        yield gateway


def _server_span(spans: tuple[ReadableSpan, ...], name: str) -> ReadableSpan:
    found = [span for span in spans if span.name == name and span.kind is trace.SpanKind.SERVER]
    assert len(found) == 1, sorted(span.name for span in spans)
    return found[0]


def _beneath(spans: tuple[ReadableSpan, ...], root: ReadableSpan) -> list[ReadableSpan]:
    """The spans of `root`'s trace that descend from it."""
    by_id = {span.context.span_id: span for span in spans if span.context is not None}
    assert root.context is not None
    found = []
    for span in spans:
        parent = span.parent
        while parent is not None:
            if parent.span_id == root.context.span_id:
                found.append(span)
                break
            above = by_id.get(parent.span_id)
            parent = above.parent if above is not None else None
    return found


def _all_text(spans: tuple[ReadableSpan, ...]) -> str:
    parts: list[str] = []
    for span in spans:
        parts.append(span.name)
        parts.extend(f"{key}={value!s}" for key, value in (span.attributes or {}).items())
        for event in span.events:
            parts.extend(f"{key}={value!s}" for key, value in (event.attributes or {}).items())
    return "\n".join(parts)


async def test_a_status_call_and_a_fetch_are_traced_with_their_database_and_upstream_calls(
    traced: Gateway, exporter: InMemorySpanExporter
) -> None:
    gateway = traced
    user = await sim_user(gateway, "complete")
    journey = await walk_journey(
        gateway,
        scenario="complete",
        doc_type=",".join(sorted({d["docType"] for d in user["documents"]})),
    )
    assert journey.final_query["success"] == "true"
    request_id = journey.request_id

    exporter.clear()
    status = await gateway.client.get(
        f"/api/digilocker/{request_id}/status", headers=gateway.headers
    )
    assert status.status_code == 200
    spans = exporter.get_finished_spans()
    root = _server_span(spans, "GET /api/digilocker/{request_id}/status")
    assert root.attributes is not None
    assert root.attributes.get("http.route") == "/api/digilocker/{request_id}/status"
    below = _beneath(spans, root)
    statements = [span for span in below if "db.statement" in (span.attributes or {})]
    assert statements, [span.name for span in below]
    assert any(
        "digilocker_requests" in str(dict(s.attributes or {})["db.statement"]) for s in statements
    )
    # The envelope's and the log's trace id is the trace's.
    assert status.headers["x-trace-id"] == f"{root.context.trace_id:032x}"

    exporter.clear()
    document = await fetch(gateway, request_id, fetch_body(pick(user, issued=True)))
    assert document.status_code == 200, document.text
    spans = exporter.get_finished_spans()
    root = _server_span(spans, "POST /api/digilocker/{request_id}/document")
    below = _beneath(spans, root)
    # Client spans: DigiLocker calls (httpx) and database statements (SQLAlchemy).
    clients = [span for span in below if span.kind is trace.SpanKind.CLIENT]
    upstream = [span for span in clients if "db.system" not in (span.attributes or {})]
    assert upstream, [span.name for span in below]
    assert all(span.name.startswith("DigiLocker ") for span in upstream), [
        (span.name, dict(span.attributes or {})) for span in upstream
    ]
    assert any("/file/{id}" in span.name for span in upstream), [s.name for s in upstream]
    assert any("db.statement" in (span.attributes or {}) for span in below)
    # The embedded simulator (DigiLocker here) is not traced as API calls of its own.
    servers = [span.name for span in spans if span.kind is trace.SpanKind.SERVER]
    assert not any("/simulator" in name for name in servers), servers

    file_token = urlsplit(document.json()["fileUrl"]).path.rsplit("/", 1)[-1]
    callback = query_of(journey.callback_url)
    exporter.clear()
    download = await gateway.client.get(document.json()["fileUrl"])
    assert download.status_code == 200
    text = _all_text(exporter.get_finished_spans())
    assert "/files/{id}" in text
    for what, value in {
        "authorization code": callback["code"],
        "state": callback["state"],
        "file url token": file_token,
        "client secret": gateway.headers["x-client-secret"],
        "document uri": pick(user, issued=True).get("uri", file_token),
    }.items():
        assert value not in text, f"the {what} is in a span"


async def test_no_span_of_a_journey_carries_a_secret_or_personal_value(
    traced: Gateway, exporter: InMemorySpanExporter
) -> None:
    gateway = traced
    user = await sim_user(gateway, "complete")
    journey = await walk_journey(gateway, scenario="complete")
    assert journey.final_query["success"] == "true"
    callback = query_of(journey.callback_url)
    status = await gateway.client.get(
        f"/api/digilocker/{journey.request_id}/status", headers=gateway.headers
    )
    assert status.status_code == 200
    spans = exporter.get_finished_spans()
    assert _server_span(spans, "GET /digilocker/callback")
    text = _all_text(spans)
    values: dict[str, Any] = {
        "authorization code": callback["code"],
        "state": callback["state"],
        "client secret": gateway.headers["x-client-secret"],
        "mobile": user["mobile"],
        "aadhaar number": user["aadhaar"],
        "name": user["name"],
    }
    for what, value in values.items():
        assert str(value) not in text, f"the {what} is in a span"


async def test_with_tracing_off_a_process_tracer_provider_gets_no_span_of_a_call(
    database: DatabaseUnderTest, tmp_path: Path, exporter: InMemorySpanExporter
) -> None:
    """A tracer provider set up outside the gateway (`opentelemetry-instrument`, another
    library) while DLG_OTEL_ENABLED is off: FastAPI's own spans would record the callback's
    raw query, so they are off too, and no span names the call at all."""
    async with running_gateway(database, tmp_path) as gateway:
        exporter.clear()
        journey = await walk_journey(gateway, scenario="complete")
        assert journey.final_query["success"] == "true"
        callback = query_of(journey.callback_url)
        spans = exporter.get_finished_spans()
    text = _all_text(spans)
    assert "/digilocker/callback" not in text
    assert callback["code"] not in text
    assert callback["state"] not in text


@pytest.mark.parametrize(
    ("path", "scrubbed"),
    [
        (
            "/api/digilocker/9f1c2d3e-1111-4a4a-8b8b-0123456789ab/status",
            "/api/digilocker/{id}/status",
        ),
        ("/public/oauth2/1/file/in.gov.cbse-HSCER-12345678", "/public/oauth2/1/file/{id}"),
        ("/files/eyJhbGciOi.abc_DEF-123", "/files/{id}"),
        ("/api/digilocker", "/api/digilocker"),
        ("/", "/"),
    ],
)
def test_paths_keep_only_their_plain_words(path: str, scrubbed: str) -> None:
    assert scrubbed_path(path) == scrubbed


def test_with_tracing_off_opentelemetry_is_not_imported(tmp_path: Path) -> None:
    """Neither the SDK, the instrumentations, the exporter nor ops/tracing.py. (The API package
    alone may be: recent FastAPI imports it for telemetry of its own, which stays off without a
    configured provider.)"""
    program = (
        "import sys\n"
        "from digilocker_gateway.app import create_app\n"
        "from digilocker_gateway.config import Settings\n"
        f"create_app(Settings(data_dir={str(tmp_path)!r}))\n"
        "ours = ('digilocker_gateway.ops.tracing', 'opentelemetry.sdk', "
        "'opentelemetry.instrumentation', 'opentelemetry.exporter')\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(ours))\n"
        "print(','.join(loaded) or 'none')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "none", done.stdout
