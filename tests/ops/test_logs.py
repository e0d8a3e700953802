"""The structured logs: one access line per API call with its fields, the trace id taken from
`traceparent`, and — over a whole journey, a document fetch, an Aadhaar fetch and an offline
upload — not one secret or personal value in anything logged, at any level."""

from __future__ import annotations

import base64
import io
import json
import logging
from collections.abc import Iterator
from typing import Any, Literal
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from digilocker_gateway.config import DEV_PARTNER_CLIENT_SECRET
from digilocker_gateway.db.models import RequestRecord
from digilocker_gateway.ops.logs import ACCESS_LOGGER, build_formatter
from digilocker_gateway.storage.sealed import ACCESS_TOKEN, REFRESH_TOKEN
from tests.aadhaar.test_offline_upload import offline_zip, upload
from tests.documents.test_fetch import fetch, fetch_body, pick
from tests.support import Gateway, query_of, sim_user, walk_journey

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


class Captured:
    """Every record from the root logger down, rendered as JSON and as console lines."""

    def __init__(self) -> None:
        self.json = io.StringIO()
        self.console = io.StringIO()
        self.records: list[logging.LogRecord] = []

    def text(self) -> str:
        raw = "\n".join(f"{r.getMessage()} {r.args!r} {vars(r)!r}" for r in self.records)
        return "\n".join((self.json.getvalue(), self.console.getvalue(), raw))

    def access_lines(self) -> list[dict[str, Any]]:
        lines = [json.loads(line) for line in self.json.getvalue().splitlines() if line]
        return [line for line in lines if line.get("logger") == ACCESS_LOGGER]


class _Keep(logging.Handler):
    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__(logging.DEBUG)
        self._records = records

    def emit(self, record: logging.LogRecord) -> None:
        self._records.append(record)


@pytest.fixture
def captured() -> Iterator[Captured]:
    """All records at DEBUG (create_app holds the libraries that log personal data at
    WARNING, ops/logs.py)."""
    capture = Captured()
    handlers: list[logging.Handler] = [_Keep(capture.records)]
    styles: tuple[tuple[io.StringIO, Literal["json", "console"]], ...] = (
        (capture.json, "json"),
        (capture.console, "console"),
    )
    for stream, style in styles:
        rendering = logging.StreamHandler(stream)
        rendering.setFormatter(build_formatter(style))
        handlers.append(rendering)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.DEBUG)
    for handler in handlers:
        root.addHandler(handler)
    try:
        yield capture
    finally:
        for handler in handlers:
            root.removeHandler(handler)
        root.setLevel(level)


async def _tokens(gateway: Gateway, request_id: str) -> list[str]:
    runtime = gateway.runtime
    async with runtime.reading() as session:
        row = (
            await session.execute(select(RequestRecord).where(RequestRecord.id == request_id))
        ).scalar_one()
    found = []
    for field, sealed in (
        (ACCESS_TOKEN, row.access_token_enc),
        (REFRESH_TOKEN, row.refresh_token_enc),
    ):
        if sealed is not None:
            found.append(runtime.sealed.open(field, row.id, sealed))
    return found


def _forbidden_forms(value: str | bytes) -> list[str]:
    if isinstance(value, bytes):
        return [repr(value)[2:-1], base64.b64encode(value).decode(), value.hex()]
    return [value]


async def test_journey_fetches_and_upload_log_no_secret_or_personal_value(
    catalogued_gateway: Gateway, captured: Captured
) -> None:
    gateway = catalogued_gateway
    user = await sim_user(gateway, "complete")
    doctypes = sorted({"ADHAR", *(d["docType"] for d in user["documents"])})
    journey = await walk_journey(gateway, scenario="complete", doc_type=",".join(doctypes))
    assert journey.final_query["success"] == "true"
    request_id = journey.request_id
    callback = query_of(journey.callback_url)

    document = await fetch(gateway, request_id, fetch_body(pick(user, issued=True)))
    assert document.status_code == 200, document.text
    file_url = document.json()["fileUrl"]
    pdf = (await gateway.client.get(file_url)).content
    aadhaar = await gateway.client.get(
        f"/api/digilocker/{request_id}/aadhaar", headers=gateway.headers
    )
    assert aadhaar.status_code == 200, aadhaar.text
    answer = aadhaar.json()["aadhaar"]
    xml = (await gateway.client.get(answer["xml"]["fileUrl"])).content
    archive = await offline_zip(gateway)
    offline = await upload(gateway, archive, mobile=user["mobile"], email="")
    assert offline.status_code == 200, offline.text
    status = await gateway.client.get(
        f"/api/digilocker/{request_id}/status", headers=gateway.headers
    )
    assert status.status_code == 200

    secrets: dict[str, str | bytes] = {
        "client secret": gateway.headers["x-client-secret"],
        "partner secret": DEV_PARTNER_CLIENT_SECRET,
        "authorization code": callback["code"],
        "state": callback["state"],
        "file url token": urlsplit(file_url).path.rsplit("/", 1)[-1],
        "aadhaar xml url token": urlsplit(answer["xml"]["fileUrl"]).path.rsplit("/", 1)[-1],
        "aadhaar number": user["aadhaar"],
        "mobile": user["mobile"],
        "name": user["name"],
        "date of birth": answer["dateOfBirth"],
        "photo": answer["photo"][20:80],
        "document bytes": pdf[200:232],
        "aadhaar xml bytes": xml[-64:-16],
        "offline zip bytes": archive[100:132],
    }
    for number, token in enumerate(await _tokens(gateway, request_id)):
        secrets[f"token {number}"] = token
    assert len(secrets) >= 16  # both tokens were found

    logged = captured.text()
    assert len(captured.records) > 10
    for what, value in secrets.items():
        for form in _forbidden_forms(value):
            assert form not in logged, f"the {what} was logged"


async def test_each_api_call_logs_one_access_line_with_its_fields(
    gateway: Gateway, captured: Captured
) -> None:
    created = await gateway.create_request()
    await gateway.client.get(
        f"/api/digilocker/{created['id']}/status",
        headers={**gateway.headers, "traceparent": TRACEPARENT},
    )
    await gateway.client.get("/api/digilocker/nope/status", headers=gateway.headers)

    lines = captured.access_lines()
    assert [(line["route"], line["status"]) for line in lines] == [
        ("/api/digilocker", 200),
        ("/api/digilocker/{request_id}/status", 200),
        ("/api/digilocker/{request_id}/status", 404),
    ]
    create, status, missing = lines
    assert create["event"] == "api call"
    assert create["method"] == "POST"
    assert create["product_instance"] == gateway.headers["x-product-instance-id"]
    assert create["level"] == "info"
    assert isinstance(create["duration_ms"], float)
    assert create["time"].endswith("Z")
    assert status["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert status["request_id"] == created["id"]
    assert create["trace_id"] != status["trace_id"]
    assert missing["request_id"] == "nope"


async def test_journey_steps_are_logged_with_their_outcome(
    gateway: Gateway, captured: Captured
) -> None:
    await walk_journey(gateway, scenario="complete")
    await walk_journey(gateway, scenario="complete", decision="deny")

    steps = [
        (line.get("journey_step"), line.get("error_code"))
        for line in captured.access_lines()
        if line.get("journey_step")
    ]
    assert steps == [
        ("journey_opened", None),
        ("authenticated", None),
        ("journey_opened", None),
        ("denied", "user_consent_not_given"),
    ]


async def test_traceparent_gives_the_call_its_trace_id(gateway: Gateway) -> None:
    response = await gateway.client.get(
        "/api/digilocker/nope/status", headers={**gateway.headers, "traceparent": TRACEPARENT}
    )
    assert response.headers["x-trace-id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert response.json()["error"]["traceId"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    invalid = await gateway.client.get(
        "/api/digilocker/nope/status",
        headers={**gateway.headers, "traceparent": "00-" + "0" * 32 + "-00f067aa0ba902b7-01"},
    )
    assert invalid.headers["x-trace-id"].startswith("1-")
