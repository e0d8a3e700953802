"""Every fault kind the simulator injects × every DigiLocker call the gateway makes gives the
outcome docs/errors.md ("Faults, call by call") documents, stores nothing of a bad answer, and
leaves the request usable once the fault is cleared.

The expected outcomes are read from the table in docs/errors.md, so the documentation and the
behaviour cannot drift apart: change one and this test fails until the other follows."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from digilocker_gateway.documents.catalogue import CatalogueDocument
from digilocker_gateway.simulator.driver import run_journey
from tests.conftest import store_held_catalogue
from tests.documents.test_fetch import authenticated, fetch, fetch_body, pick, stored_file_count
from tests.requests.test_create import assert_envelope
from tests.requests.test_recovery import set_faults, status_of
from tests.support import (
    DatabaseUnderTest,
    Gateway,
    query_of,
    running_gateway,
    sim_user,
    walk_journey,
)

DOCS = Path(__file__).resolve().parent.parent / "docs" / "errors.md"

# The table's columns → the simulator's fault entry for that kind.
FAULTS: dict[str, dict[str, Any]] = {
    "error 500": {"error_rate": 1.0, "error": "unexpected_error", "status": 500},
    "error 503": {"error_rate": 1.0, "error": "partner_service_unresponsive", "status": 503},
    "timeout": {"timeout": True},
    "drop": {"drop": True},
    "malformed": {"malformed": True},
    "wrong hmac": {"wrong_hmac": True},
    "latency": {"latency_ms": 100},
}

# The table's rows → the simulator endpoint the fault is put on.
ENDPOINTS = {
    "token exchange": "token",
    "refresh": "token",
    "user details": "user",
    "issued list": "files_issued",
    "pull": "pull_document",
    "file": "file",
    "XML": "xml",
    "e-Aadhaar": "eaadhaar",
    "revoke": "revoke",
}


@dataclass(frozen=True)
class Expected:
    """One cell: an HTTP status and code, or where the browser is sent back; and whether the
    request then needs the user to consent again."""

    status: int | None  # None: a redirect back to redirectUrl
    code: str | None  # None: success
    reconsent: bool

    @classmethod
    def parse(cls, cell: str) -> Expected:
        text = cell.replace("`", "").strip()
        reconsent = text.endswith(", re-consent")
        text = text.removesuffix(", re-consent").strip()
        head, _, rest = text.partition(" ")
        if head == "redirect":
            return cls(None, None if rest == "success" else rest, reconsent)
        return cls(int(head), rest or None, reconsent)


def documented_matrix() -> dict[tuple[str, str], Expected]:
    text = DOCS.read_text()
    section = text.split("## Faults, call by call", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in rows[0].strip("|").split("|")]
    kinds = header[2:]
    matrix: dict[tuple[str, str], Expected] = {}
    for line in rows[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        for kind, cell in zip(kinds, cells[2:], strict=True):
            matrix[(cells[0], kind)] = Expected.parse(cell)
    return matrix


MATRIX = documented_matrix()


def test_the_documented_table_covers_every_call_and_every_fault_kind() -> None:
    assert set(MATRIX) == {(call, kind) for call in ENDPOINTS for kind in FAULTS}


@pytest.fixture
async def faulty_gateway(
    database: DatabaseUnderTest, tmp_path: Path, catalogue_documents: list[CatalogueDocument]
) -> AsyncIterator[Gateway]:
    """Short upstream timeouts, so a hung DigiLocker is given up on quickly."""
    async with running_gateway(
        database,
        tmp_path,
        upstream_read_timeout_seconds=0.5,
        upstream_max_retries=1,
        api_deadline_seconds=3.0,
        callback_deadline_seconds=3.0,
    ) as gateway:
        await store_held_catalogue(gateway, catalogue_documents)
        yield gateway


def files_on_disk(gateway: Gateway) -> list[Path]:
    root = gateway.runtime.settings.data_dir / "files"
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


async def consent_again(gateway: Gateway, request_id: str, user: dict[str, Any]) -> str:
    """Walk the request's own journey URL once more; the redirect's success flag."""
    start = await gateway.client.get((await status_of(gateway, request_id))["url"])
    assert start.status_code == 302, start.text
    callback = await run_journey(
        gateway.client,
        start.headers["location"],
        identifier=user["identifier"],
        otp=user["otp"],
        pin=user["pin"],
    )
    back = await gateway.client.get(str(callback))
    assert back.status_code == 302, back.text
    return query_of(back.headers["location"])["success"]


Call = Callable[[], Awaitable[httpx.Response]]


@dataclass
class Scene:
    """An authenticated request, and the gateway call whose DigiLocker call is faulted."""

    request_id: str
    user: dict[str, Any]
    call: Call


async def scene_for(gateway: Gateway, call: str) -> Scene:
    if call == "e-Aadhaar":
        user = await sim_user(gateway, "complete")
        journey = await walk_journey(gateway, doc_type="ADHAR")
        assert journey.final_query["success"] == "true", journey.final_url
        request_id = journey.request_id
    else:
        scenario = "nothing-issued" if call == "pull" else "complete"
        request_id, user = await authenticated(gateway, scenario)
    base = f"/api/digilocker/{request_id}"

    def fetching(document: dict[str, Any], **overrides: Any) -> Call:
        return lambda: fetch(gateway, request_id, fetch_body(document, **overrides))

    if call == "refresh":
        gateway.clock.advance(3600 + 60)  # the access token has expired: the fetch renews it
        return Scene(request_id, user, fetching(pick(user, issued=True)))
    if call == "user details":
        return Scene(
            request_id, user, lambda: gateway.client.get(f"{base}/status", headers=gateway.headers)
        )
    if call == "pull":
        return Scene(request_id, user, fetching(pick(user, issued=False)))
    if call == "XML":
        return Scene(request_id, user, fetching(pick(user, issued=True, fmt="xml"), format="xml"))
    if call == "e-Aadhaar":
        return Scene(
            request_id, user, lambda: gateway.client.get(f"{base}/aadhaar", headers=gateway.headers)
        )
    if call == "revoke":
        return Scene(
            request_id, user, lambda: gateway.client.get(f"{base}/revoke", headers=gateway.headers)
        )
    return Scene(request_id, user, fetching(pick(user, issued=True)))  # issued list, file


def check(response: httpx.Response, expected: Expected) -> None:
    assert expected.status is not None
    if expected.code is None:
        assert response.status_code == expected.status, response.text
    else:
        assert_envelope(response, expected.status, expected.code)


async def check_token_exchange(gateway: Gateway, kind: str, expected: Expected) -> None:
    await set_faults(gateway, {"token": FAULTS[kind]})
    journey = await walk_journey(gateway)
    query = journey.final_query
    if expected.code is None:
        assert query["success"] == "true", journey.final_url
        return
    assert query["success"] == "false", journey.final_url
    assert query["errCode"] == expected.code
    assert (await status_of(gateway, journey.request_id))["status"] == "unauthenticated"
    await set_faults(gateway, {})
    user = await sim_user(gateway, "complete")
    # The same request id can be consented on once DigiLocker answers again.
    assert await consent_again(gateway, journey.request_id, user) == "true"
    assert (await status_of(gateway, journey.request_id))["status"] == "authenticated"


@pytest.mark.parametrize(
    ("call", "kind"), sorted(MATRIX), ids=[f"{c}/{k}" for c, k in sorted(MATRIX)]
)
async def test_fault_gives_the_documented_outcome_and_loses_nothing(
    faulty_gateway: Gateway, call: str, kind: str
) -> None:
    gateway = faulty_gateway
    expected = MATRIX[(call, kind)]
    if call == "token exchange":
        await check_token_exchange(gateway, kind, expected)
        return
    scene = await scene_for(gateway, call)
    stored_before, disk_before = await stored_file_count(gateway), files_on_disk(gateway)

    await set_faults(gateway, {ENDPOINTS[call]: FAULTS[kind]})
    response = await scene.call()
    check(response, expected)
    if expected.code is not None:
        # Nothing of the bad answer was kept, in the database or on disk.
        assert await stored_file_count(gateway) == stored_before
        assert files_on_disk(gateway) == disk_before
    if call == "revoke" and expected.code is not None:
        # Nothing changed: the request is still usable, and revoke can be retried.
        assert (await status_of(gateway, scene.request_id))["status"] == "authenticated"

    await set_faults(gateway, {})
    if expected.reconsent:
        assert_envelope(await scene.call(), 401, "invalid_token")
        assert (await status_of(gateway, scene.request_id))["reauthRequired"] is True
        assert await consent_again(gateway, scene.request_id, scene.user) == "true"
    if call == "revoke" and expected.code is None:
        assert (await status_of(gateway, scene.request_id))["status"] == "revoked"
        return
    again = await scene.call()
    assert again.status_code == 200, again.text
    if call == "user details":
        # What the failed user call could not give arrives once DigiLocker answers.
        assert "@" in again.json()["digilockerUserDetails"]["email"]
    if call == "revoke":
        assert (await status_of(gateway, scene.request_id))["status"] == "revoked"


def test_a_cell_that_names_a_code_is_read_as_an_error() -> None:
    # The parser itself: a wrongly read table would make every cell pass or fail together.
    assert Expected.parse("500 `upstream_server_error`, re-consent") == Expected(
        500, "upstream_server_error", True
    )
    assert Expected.parse("redirect success") == Expected(None, None, False)
    assert Expected.parse("redirect `invalid_grant`") == Expected(None, "invalid_grant", False)
    assert Expected.parse("200") == Expected(200, None, False)
