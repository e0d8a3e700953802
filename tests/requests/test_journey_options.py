"""Journey options on create (docs/journey-options.md §1, §2), end to end through the gateway
and the embedded simulator: each option reaches DigiLocker's authorize call and changes what
the user sees; status tells what was consented to and until when."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from digilocker_gateway.db.models import RequestRecord
from digilocker_gateway.kit.timefmt import IST, to_ist_iso
from digilocker_gateway.simulator.driver import JourneyPage, run_journey
from tests.audit.test_audit import audit_of
from tests.documents.test_fetch import fetch_body
from tests.support import (
    BASE_URL,
    REDIRECT_URL,
    Gateway,
    query_of,
    sim_user,
)

SETU_AUTHORIZE_PARAMETERS = {
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "code_challenge",
    "code_challenge_method",
}


async def create(gateway: Gateway, **fields: Any) -> dict[str, Any]:
    return await gateway.create_request(redirectUrl=REDIRECT_URL, **fields)


async def authorize_parameters(gateway: Gateway, created: dict[str, Any]) -> dict[str, str]:
    start = await gateway.client.get(created["url"])
    assert start.status_code == 302, start.text
    return query_of(start.headers["location"])


async def walk(
    gateway: Gateway,
    *,
    scenario: str = "complete",
    username: str | None = None,
    **fields: Any,
) -> tuple[str, list[JourneyPage], dict[str, str]]:
    """Create with `fields`, walk the journey, follow the callback: the request id, the
    simulator pages seen, and the query the caller's redirectUrl received."""
    created = await create(gateway, **fields)
    user = await sim_user(gateway, scenario)
    pages: list[JourneyPage] = []
    callback = await run_journey(
        gateway.client,
        created["url"],
        identifier=user["identifier"],
        otp=user["otp"],
        pin=user["pin"],
        username=username,
        pages=pages,
    )
    assert str(callback).startswith(BASE_URL + "/digilocker/callback"), str(callback)
    back = await gateway.client.get(str(callback))
    assert back.status_code == 302, back.text
    return created["id"], pages, query_of(back.headers["location"])


async def status_of(gateway: Gateway, request_id: str) -> dict[str, Any]:
    response = await gateway.client.get(
        f"/api/digilocker/{request_id}/status", headers=gateway.headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def steps(pages: list[JourneyPage]) -> list[str]:
    return [page.step for page in pages]


async def test_setu_body_sends_only_setu_authorize_parameters(gateway: Gateway) -> None:
    created = await create(gateway)

    params = await authorize_parameters(gateway, created)

    assert set(params) == SETU_AUTHORIZE_PARAMETERS


async def test_doc_types_join_doc_type_and_are_pre_ticked(gateway: Gateway) -> None:
    request_id, pages, query = await walk(
        gateway, scenario="nothing-issued", docType="PANCR", docTypes=["SSCER", "PANCR", "HSCER"]
    )

    consent = pages[-1].html
    for doc_type in ("PANCR", "SSCER", "HSCER"):
        assert f'name="doctype" value="{doc_type}" checked' in consent
    assert consent.count('name="doctype"') == 3
    assert query["success"] == "true"
    status = await status_of(gateway, request_id)
    assert sorted(status["consentedDocTypes"]) == ["HSCER", "PANCR", "SSCER"]


async def test_doc_types_as_one_comma_string_is_read_as_the_list(gateway: Gateway) -> None:
    created = await create(gateway, docTypes="PANCR, DRVLC")

    params = await authorize_parameters(gateway, created)

    assert params["req_doctype"] == "PANCR,DRVLC"


async def test_signup_flow_signs_a_known_user_up(gateway: Gateway) -> None:
    _, pages, query = await walk(gateway, flow="signup", username="asha.options")

    assert steps(pages) == ["identify", "otp", "account", "consent"]
    assert "Create your DigiLocker account" in pages[0].html
    assert 'data-new-account="Y"' in pages[-1].html
    assert query["success"] == "true"


async def test_signin_flow_is_sent_as_dl_flow(gateway: Gateway) -> None:
    created = await create(gateway, flow="SignIn")

    params = await authorize_parameters(gateway, created)

    assert params["dl_flow"] == "signin"


async def test_pinless_sign_in_skips_the_pin_page(gateway: Gateway) -> None:
    _, pages, query = await walk(gateway, pinless=True)

    assert steps(pages) == ["identify", "otp", "consent"]
    assert all('name="pin"' not in page.html for page in pages)
    assert query["success"] == "true"


async def test_pinless_sign_up_asks_plsignup(gateway: Gateway) -> None:
    created = await create(gateway, flow="signup", pinless=True)

    params = await authorize_parameters(gateway, created)

    assert params["plsignup"] == "Y"
    assert "pla" not in params


async def test_usernameless_sign_up_asks_no_username(gateway: Gateway) -> None:
    _, pages, query = await walk(gateway, scenario="new-user", usernameless=True)

    account = next(page for page in pages if page.step == "account")
    assert 'name="username"' not in account.html
    assert query["success"] == "true"


async def test_purpose_is_shown_on_the_consent_page_and_kept_in_the_audit_trail(
    gateway: Gateway,
) -> None:
    request_id, pages, _ = await walk(gateway, purpose="Loan KYC for account 42")

    assert (
        '<p class="purpose" id="purpose"><strong>Purpose:</strong> Loan KYC for account 42</p>'
        in pages[-1].html
    )
    given = [r for r in await audit_of(gateway, request_id) if r["action"] == "consent.given"]
    assert [r["details"]["purpose"] for r in given] == ["Loan KYC for account 42"]


async def test_without_a_purpose_the_audit_trail_says_null(gateway: Gateway) -> None:
    request_id, _, _ = await walk(gateway)

    given = [r for r in await audit_of(gateway, request_id) if r["action"] == "consent.given"]
    assert [r["details"]["purpose"] for r in given] == [None]


async def test_consent_validity_is_shown_told_by_status_and_ends_the_grant(
    catalogued_gateway: Gateway,
) -> None:
    gateway = catalogued_gateway
    now = gateway.clock.now()
    request_id, pages, _ = await walk(gateway, docType="PANCR", consentValidSeconds=1800)
    until = datetime.fromtimestamp(int((now + timedelta(seconds=1800)).timestamp()), UTC)

    shown = until.astimezone(IST).isoformat(timespec="seconds")
    assert f'id="consent-valid-till">Consent valid till <time datetime="{shown}">' in (
        pages[-1].html
    )
    status = await status_of(gateway, request_id)
    assert status["consentValidUntil"] == to_ist_iso(until)
    user = await sim_user(gateway, "complete")
    pan = next(d for d in user["documents"] if d["docType"] == "PANCR")
    body = fetch_body(pan)
    fetched = await gateway.client.post(
        f"/api/digilocker/{request_id}/document", json=body, headers=gateway.headers
    )
    assert fetched.status_code == 200, fetched.text

    gateway.clock.advance(1801)
    late = await gateway.client.post(
        f"/api/digilocker/{request_id}/document", json=body, headers=gateway.headers
    )

    assert late.status_code == 401, late.text
    assert late.json()["error"]["code"] == "invalid_token"
    issued = await gateway.client.get(
        f"/api/digilocker/{request_id}/issued", headers=gateway.headers
    )
    assert issued.status_code == 401
    assert issued.json()["error"]["code"] == "invalid_token"

    # Past the end the caller chose, the journey link offers no new consent.
    again = await gateway.client.get(f"{BASE_URL}/digilocker/journey/{request_id}")
    assert again.status_code == 410, again.text
    assert "The consent period has ended" in again.text


async def test_consent_valid_until_without_offset_is_india_time(gateway: Gateway) -> None:
    until = (gateway.clock.now() + timedelta(days=2)).astimezone(IST).replace(microsecond=0)
    created = await create(gateway, consentValidUntil=until.replace(tzinfo=None).isoformat())

    params = await authorize_parameters(gateway, created)

    assert params["consent_valid_till"] == str(int(until.timestamp()))


async def test_request_lifetime_sets_valid_upto(gateway: Gateway) -> None:
    created = await create(gateway, requestLifetimeSeconds=600)

    assert created["validUpto"] == to_ist_iso(gateway.clock.now() + timedelta(seconds=600))
    gateway.clock.advance(601)
    gone = await gateway.client.get(
        f"/api/digilocker/{created['id']}/status", headers=gateway.headers
    )
    assert gone.status_code == 404


async def test_mobile_hint_prefills_sign_in_is_sealed_and_never_logged(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    user = await sim_user(gateway, "complete")
    mobile = user["mobile"]

    request_id, pages, query = await walk(gateway, hint=f"+91 {mobile[:5]} {mobile[5:]}")

    assert f'name="identifier" value="{mobile}"' in pages[0].html
    assert query["success"] == "true"
    async with gateway.runtime.reading() as session:
        row = await session.get(RequestRecord, request_id)
    assert row is not None
    assert row.hint_enc is not None
    assert mobile not in row.hint_enc
    # The gateway's and the simulator's own logs (the test's browser, httpx, logs its URLs).
    ours = [r for r in caplog.records if r.name.startswith("digilocker_gateway")]
    assert ours
    assert all(mobile not in record.getMessage() for record in ours)


async def test_masked_aadhaar_hint_is_accepted_and_not_kept(gateway: Gateway) -> None:
    created = await create(gateway, hint="XXXX XXXX 1234")

    params = await authorize_parameters(gateway, created)

    assert "verified_mobile" not in params
    async with gateway.runtime.reading() as session:
        row = await session.get(RequestRecord, created["id"])
    assert row is not None
    assert row.hint_enc is None


async def test_status_before_consent_has_no_consent_fields(gateway: Gateway) -> None:
    created = await create(gateway, docTypes=["PANCR"])

    status = await status_of(gateway, created["id"])

    assert status["consentedDocTypes"] is None
    assert status["consentValidUntil"] is None


async def test_product_instance_defaults_apply_when_the_body_names_none(gateway: Gateway) -> None:
    headers = await gateway.new_client_headers()
    async with gateway.runtime.transaction() as session:
        from digilocker_gateway.tenants.service import set_journey_options

        await set_journey_options(
            session,
            headers["x-product-instance-id"],
            {"default_flow": "signup", "default_purpose": "Account opening"},
        )
    response = await gateway.client.post(
        "/api/digilocker", json={"redirectUrl": REDIRECT_URL}, headers=headers
    )
    assert response.status_code == 200, response.text

    params = await authorize_parameters(gateway, response.json())

    assert params["dl_flow"] == "signup"
    assert params["purpose"] == "Account opening"


# Bad input: 400 invalid_payload naming the field, and no request is created.
BAD_BODIES: list[tuple[dict[str, Any], str]] = [
    ({"docTypes": [f"DOC{n:02d}" for n in range(16)]}, "docTypes"),
    ({"docType": "PANCR", "docTypes": [f"DOC{n:02d}" for n in range(15)]}, "docTypes"),
    ({"docTypes": ["pan card"]}, "docTypes"),
    ({"flow": "register"}, "flow"),
    ({"pinless": "perhaps"}, "pinless"),
    ({"consentValidUntil": "2001-01-01T00:00:00+05:30"}, "consentValidUntil"),
    ({"consentValidUntil": "2999-01-01T00:00:00+05:30"}, "consentValidUntil"),
    ({"consentValidUntil": "next tuesday"}, "consentValidUntil"),
    ({"consentValidSeconds": 0}, "consentValidSeconds"),
    ({"consentValidSeconds": 400 * 24 * 3600}, "consentValidSeconds"),
    ({"consentValidSeconds": 60, "consentValidUntil": "2999-01-01T00:00:00Z"}, "consentValid"),
    ({"purpose": "x" * 101}, "purpose"),
    ({"purpose": "KYC <script>"}, "purpose"),
    ({"requestLifetimeSeconds": 8 * 24 * 3600}, "requestLifetimeSeconds"),
    ({"requestLifetimeSeconds": -5}, "requestLifetimeSeconds"),
    ({"hint": "12345"}, "hint"),
    ({"hint": "999941057058"}, "hint"),  # a whole Aadhaar number is never taken
]


async def request_count(gateway: Gateway) -> int:
    async with gateway.runtime.reading() as session:
        return int((await session.execute(select(func.count(RequestRecord.id)))).scalar_one())


@pytest.mark.parametrize(("fields", "named"), BAD_BODIES)
async def test_bad_option_is_400_invalid_payload_naming_it_and_creates_nothing(
    gateway: Gateway, fields: dict[str, Any], named: str
) -> None:
    before = await request_count(gateway)

    response = await gateway.client.post(
        "/api/digilocker", json={"redirectUrl": REDIRECT_URL, **fields}, headers=gateway.headers
    )

    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_payload"
    assert named in error["detail"]
    assert await request_count(gateway) == before


async def test_unknown_doc_type_is_refused_naming_it(catalogued_gateway: Gateway) -> None:
    gateway = catalogued_gateway

    response = await gateway.client.post(
        "/api/digilocker",
        json={"redirectUrl": REDIRECT_URL, "docTypes": ["PANCR", "NOSUCH", "ADHAR"]},
        headers=gateway.headers,
    )

    assert response.status_code == 400
    detail = response.json()["error"]["detail"]
    assert "NOSUCH" in detail
    assert "PANCR" not in detail
    assert "ADHAR" not in detail
    assert await request_count(gateway) == 0


async def test_instance_maximum_bounds_the_options(gateway: Gateway) -> None:
    headers = await gateway.new_client_headers()
    async with gateway.runtime.transaction() as session:
        from digilocker_gateway.tenants.service import set_journey_options

        await set_journey_options(
            session,
            headers["x-product-instance-id"],
            {"max_request_lifetime_seconds": 3600, "max_consent_validity_seconds": 600},
        )

    too_long = await gateway.client.post(
        "/api/digilocker",
        json={"redirectUrl": REDIRECT_URL, "requestLifetimeSeconds": 3601},
        headers=headers,
    )
    too_late = await gateway.client.post(
        "/api/digilocker",
        json={"redirectUrl": REDIRECT_URL, "consentValidSeconds": 601},
        headers=headers,
    )
    within = await gateway.client.post(
        "/api/digilocker",
        json={"redirectUrl": REDIRECT_URL, "requestLifetimeSeconds": 3600},
        headers=headers,
    )

    assert too_long.status_code == 400
    assert "requestLifetimeSeconds: at most 3600" in too_long.json()["error"]["detail"]
    assert too_late.status_code == 400
    assert "consentValidSeconds: at most 600" in too_late.json()["error"]["detail"]
    assert within.status_code == 200


async def test_extension_not_allowed_is_refused_naming_the_field(gateway: Gateway) -> None:
    headers = await gateway.new_client_headers()
    async with gateway.runtime.transaction() as session:
        from digilocker_gateway.tenants.service import set_journey_options

        await set_journey_options(
            session, headers["x-product-instance-id"], {"allowed_extensions": "docTypes"}
        )

    refused = await gateway.client.post(
        "/api/digilocker", json={"redirectUrl": REDIRECT_URL, "flow": "signup"}, headers=headers
    )
    allowed = await gateway.client.post(
        "/api/digilocker",
        json={"redirectUrl": REDIRECT_URL, "docTypes": ["PANCR"]},
        headers=headers,
    )

    assert refused.status_code == 400
    assert refused.json()["error"]["detail"] == "flow: not allowed for this product instance"
    assert allowed.status_code == 200
