"""Authorize's journey options (reference §3): dl_flow, pla, plsignup, ulsignup, req_doctype,
purpose, verified_mobile, consent_valid_till and scope, each seen on the pages and in the token."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from digilocker_gateway.kit.timefmt import IST
from digilocker_gateway.simulator.driver import JourneyError, JourneyPage, run_journey
from digilocker_gateway.simulator.oauth import PURPOSE_MAX_CHARS
from tests.simulator.conftest import Sim, new_verifier
from tests.simulator.test_journey import unknown_aadhaar


async def _walk(
    sim: Sim,
    scenario: str,
    *,
    identifier: str | None = None,
    pin: str | None = None,
    username: str | None = None,
    **extra: str,
) -> tuple[dict[str, Any], list[JourneyPage]]:
    """Walk the journey with authorize options `extra`; the token answer and the pages seen."""
    user = await sim.user(scenario)
    verifier = new_verifier()
    pages: list[JourneyPage] = []
    final = await run_journey(
        sim.client,
        sim.authorize_url(verifier, **extra),
        identifier=identifier or user["identifier"],
        otp=user["otp"],
        pin=pin or user["pin"],
        username=username,
        pages=pages,
    )
    assert "code" in final.params, str(final)
    response = await sim.exchange(final.params["code"], verifier)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body, pages


def _steps(pages: list[JourneyPage]) -> list[str]:
    return [page.step for page in pages]


def _journey_note(pages: list[JourneyPage]) -> dict[str, str]:
    found = re.search(r'<p class="hint" id="journey"([^>]*)>', pages[-1].html)
    assert found is not None
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', found[1]))


async def test_default_sign_in_walks_identifier_otp_pin_consent(sim: Sim) -> None:
    body, pages = await _walk(sim, "complete")

    assert _steps(pages) == ["identify", "otp", "pin", "consent"]
    assert body["new_account"] == "N"
    assert _journey_note(pages) == {"flow": "signin", "new-account": "N", "pin": "entered"}


async def test_signup_flow_for_a_known_user_goes_through_sign_up(sim: Sim) -> None:
    body, pages = await _walk(sim, "complete", dl_flow="signup", username="asha.t")

    assert _steps(pages) == ["identify", "otp", "account", "consent"]
    assert "Create your DigiLocker account" in pages[0].html
    assert 'name="username"' in pages[2].html
    assert 'name="pin"' in pages[2].html
    assert body["new_account"] == "Y"
    assert _journey_note(pages) == {"flow": "signup", "new-account": "Y", "pin": "set"}
    assert "New DigiLocker account created for asha.t" in pages[-1].html


async def test_explicit_signin_does_not_sign_up_someone_without_an_account(sim: Sim) -> None:
    known = {u["aadhaar"] for u in await sim.users()}

    with pytest.raises(JourneyError, match="Sign up to create one"):
        await _walk(sim, "new-user", dl_flow="signin")
    with pytest.raises(JourneyError, match="Sign up to create one"):
        await _walk(sim, "complete", identifier=unknown_aadhaar(known), dl_flow="signin")
    body, _ = await _walk(sim, "complete", dl_flow="signin")

    assert body["new_account"] == "N"


async def test_pinless_sign_in_skips_the_pin_page(sim: Sim) -> None:
    body, pages = await _walk(sim, "complete", pla="Y")

    assert _steps(pages) == ["identify", "otp", "consent"]
    assert all('name="pin"' not in page.html for page in pages)
    assert body["new_account"] == "N"
    assert _journey_note(pages)["pin"] == "none"
    assert "without a security PIN" in pages[-1].html


async def test_pinless_sign_in_also_makes_sign_up_pinless(sim: Sim) -> None:
    _, pages = await _walk(sim, "new-user", pla="Y")

    account = next(page for page in pages if page.step == "account")
    assert 'name="pin"' not in account.html
    assert 'name="username"' in account.html


async def test_plsignup_makes_only_sign_up_pinless(sim: Sim) -> None:
    _, signup = await _walk(sim, "new-user", plsignup="Y")
    _, signin = await _walk(sim, "complete", plsignup="Y")

    account = next(page for page in signup if page.step == "account")
    assert 'name="pin"' not in account.html
    assert _steps(signin) == ["identify", "otp", "pin", "consent"]


async def test_usernameless_sign_up_asks_no_username(sim: Sim) -> None:
    body, pages = await _walk(sim, "new-user", ulsignup="Y")

    account = next(page for page in pages if page.step == "account")
    assert 'name="username"' not in account.html
    assert 'name="pin"' in account.html
    assert body["new_account"] == "Y"


async def test_usernameless_and_pinless_sign_up_has_no_account_page(sim: Sim) -> None:
    body, pages = await _walk(sim, "new-user", ulsignup="Y", plsignup="Y")

    assert _steps(pages) == ["identify", "otp", "consent"]
    assert body["new_account"] == "Y"
    users = {u["scenario"]: u for u in await sim.users()}
    assert users["new-user"]["hasAccount"] is True


@pytest.mark.parametrize("username", ["ab", "1starts-with-digit", "has space", "x" * 31])
async def test_a_username_against_the_rule_is_refused_on_the_page(sim: Sim, username: str) -> None:
    with pytest.raises(JourneyError, match="A username has 4 to 30"):
        await _walk(sim, "new-user", username=username)


async def test_a_username_taken_by_someone_else_is_refused(sim: Sim) -> None:
    await _walk(sim, "complete", dl_flow="signup", username="Shared.Name")

    with pytest.raises(JourneyError, match="taken"):
        await _walk(sim, "new-user", username="shared.name")
    again, _ = await _walk(sim, "complete", dl_flow="signup", username="shared.name")

    assert again["new_account"] == "Y"


async def test_every_requested_doctype_is_offered_and_pre_ticked(sim: Sim) -> None:
    body, pages = await _walk(sim, "nothing-issued", req_doctype="PANCR,SSCER, drvlc,HSCER")

    consent = pages[-1].html
    for doctype in ("PANCR", "SSCER", "DRVLC", "HSCER"):
        assert f'name="doctype" value="{doctype}" checked' in consent
    assert consent.count('name="doctype"') == 4
    partners = [s.removeprefix("partners.") for s in body["scope"].split() if "." in s]
    assert {"PANCR", "SSCER", "DRVLC", "HSCER"} <= set(partners)


async def test_requested_adhar_is_offered_as_the_aadhaar_card(sim: Sim) -> None:
    _, pages = await _walk(sim, "complete", req_doctype="ADHAR")

    assert 'name="doctype" value="ADHAR" checked' in pages[-1].html
    assert "Aadhaar Card" in pages[-1].html


async def test_purpose_is_shown_escaped_and_echoed_in_the_token(sim: Sim) -> None:
    body, pages = await _walk(sim, "complete", purpose="KYC <b>for</b> a loan & card")

    consent = pages[-1].html
    assert (
        '<p class="purpose" id="purpose"><strong>Purpose:</strong> '
        "KYC &lt;b&gt;for&lt;/b&gt; a loan &amp; card</p>"
    ) in consent
    assert "<b>for</b>" not in consent
    assert body["purpose"] == "KYC <b>for</b> a loan & card"


async def test_a_long_purpose_is_cut_to_the_bound(sim: Sim) -> None:
    body, pages = await _walk(sim, "complete", purpose="word " * 400)

    shown = re.search(r'id="purpose"><strong>Purpose:</strong> ([^<]*)</p>', pages[-1].html)
    assert shown is not None
    assert len(shown[1]) == PURPOSE_MAX_CHARS
    assert shown[1].endswith("…")
    assert len(body["purpose"]) == PURPOSE_MAX_CHARS


async def test_without_purpose_there_is_no_purpose_element(sim: Sim) -> None:
    body, pages = await _walk(sim, "complete")

    assert 'id="purpose"' not in pages[-1].html
    assert "purpose" not in body


async def test_verified_mobile_prefills_the_identifier(sim: Sim) -> None:
    user = await sim.user("complete")

    _, pages = await _walk(sim, "complete", verified_mobile=f"+91{user['mobile']}")

    assert f'name="identifier" value="{user["mobile"]}"' in pages[0].html
    assert _steps(pages) == ["identify", "otp", "pin", "consent"]  # sign-in keeps its OTP


async def test_verified_mobile_spares_the_otp_during_sign_up(sim: Sim) -> None:
    user = await sim.user("new-user")

    body, pages = await _walk(sim, "new-user", verified_mobile=user["mobile"])

    assert _steps(pages) == ["identify", "account", "consent"]
    assert body["new_account"] == "Y"


async def test_a_mobile_that_is_not_a_number_prefills_nothing(sim: Sim) -> None:
    _, pages = await _walk(sim, "complete", verified_mobile="call me")

    assert 'name="identifier" inputmode' in pages[0].html


async def test_consent_valid_till_is_shown_in_ist_and_echoed(sim: Sim) -> None:
    until = int(sim.clock.now().timestamp()) + 7 * 24 * 3600

    body, pages = await _walk(sim, "complete", consent_valid_till=str(until))

    shown = datetime.fromtimestamp(until, UTC).astimezone(IST).isoformat(timespec="seconds")
    assert f'id="consent-valid-till">Consent valid till <time datetime="{shown}">' in (
        pages[-1].html
    )
    assert body["consent_valid_till"] == until


async def test_shared_scopes_follow_the_scope_asked_for(sim: Sim) -> None:
    body, pages = await _walk(sim, "complete", scope="userdetails files.uploadeddocs")

    consent = pages[-1].html
    assert 'data-scope="userdetails"' in consent
    assert 'data-scope="files.uploadeddocs"' in consent
    assert 'data-scope="files.issueddocs"' not in consent
    assert body["scope"].split()[:2] == ["userdetails", "files.uploadeddocs"]
