"""The DigiLocker → Setu table: one in the code, the same in docs/errors.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from digilocker_gateway.error_mapping import DEFAULTS, TABLE, Call, gateway_error_for
from digilocker_gateway.upstream.errors import (
    UpstreamError,
    UpstreamIntegrityError,
    UpstreamMalformedResponse,
    UpstreamResponseError,
    UpstreamTimeout,
)

DOC = Path(__file__).resolve().parent.parent / "docs" / "errors.md"
CELL = re.compile(r"(\d{3}) `([a-z_]+)`")


def documented_rows() -> dict[str, tuple[tuple[int, str], tuple[int, str]]]:
    rows: dict[str, tuple[tuple[int, str], tuple[int, str]]] = {}
    section = DOC.read_text().split("## DigiLocker's answers → the gateway's codes", 1)[1]
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        name = re.match(r"`([a-z_]+)`", cells[0])
        document, aadhaar = CELL.search(cells[1]), CELL.search(cells[2])
        assert name, line
        assert document, line
        assert aadhaar, line
        rows[name.group(1)] = (
            (int(document.group(1)), document.group(2)),
            (int(aadhaar.group(1)), aadhaar.group(2)),
        )
    return rows


def answered(error: str, call: Call) -> tuple[int, str]:
    mapped = gateway_error_for(UpstreamResponseError(400, error), call)
    return mapped.status, mapped.code


def test_docs_table_is_the_code_table() -> None:
    rows = documented_rows()
    assert set(rows) == set(TABLE)
    for error, (document, aadhaar) in rows.items():
        assert answered(error, Call.DOCUMENT) == document, error
        assert answered(error, Call.AADHAAR) == aadhaar, error


@pytest.mark.parametrize("call", list(Call))
@pytest.mark.parametrize(
    "failure",
    [
        UpstreamResponseError(503, "repository_service_unavailable"),
        UpstreamResponseError(530, "unexpected_error"),
        UpstreamTimeout("read timed out"),
        UpstreamMalformedResponse("not JSON", status=200),
        UpstreamIntegrityError("hmac mismatch"),
    ],
)
def test_anything_outside_the_table_is_the_calls_upstream_failure(
    call: Call, failure: UpstreamError
) -> None:
    mapped = gateway_error_for(failure, call)
    assert (mapped.status, mapped.code) == (DEFAULTS[call]().status, DEFAULTS[call]().code)
    assert mapped.status == 500
