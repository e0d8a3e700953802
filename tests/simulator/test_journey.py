"""The consent journey end to end, for every seeded scenario, over HTTP."""

from __future__ import annotations

import pytest

from digilocker_gateway.kit.aadhaar_number import verhoeff_check_digit, verhoeff_valid
from digilocker_gateway.simulator.driver import JourneyError, JourneyPage, run_journey
from tests.simulator.conftest import REDIRECT_URI, Sim, new_verifier

SCENARIOS = [
    "complete",
    "aadhaar-not-linked",
    "eaadhaar-not-available",
    "nothing-issued",
    "pull-pending",
    "new-user",
    "large-document",
    "issuer-down",
]


@pytest.mark.parametrize("scenario", SCENARIOS)
async def test_seeded_scenario_journey_ends_with_code_and_profile(sim: Sim, scenario: str) -> None:
    user = await sim.user(scenario)
    verifier = new_verifier()

    final = await sim.journey(user, verifier, state=f"st-{scenario}")

    assert str(final).startswith(REDIRECT_URI + "?")
    assert final.params["state"] == f"st-{scenario}"
    response = await sim.exchange(final.params["code"], verifier)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == user["name"]
    assert body["digilockerid"] == user["digilockerid"]
    assert body["eaadhaar"] == user["eaadhaar"]
    assert body["new_account"] == ("Y" if scenario == "new-user" else "N")
    assert len(body["dob"]) == 8
    assert body["dob"].isdigit()
    scopes = body["scope"].split()
    assert scopes[:3] == ["files.issueddocs", "userdetails", "files.uploadeddocs"]
    issued = {doc["docType"] for doc in user["documents"] if doc["issued"]}
    expected = issued | ({"ADHAR"} if user["eaadhaar"] == "Y" else set())
    assert {scope.removeprefix("partners.") for scope in scopes[3:]} == expected


async def test_deny_redirects_with_access_denied_and_state(sim: Sim) -> None:
    user = await sim.user("complete")

    final = await sim.journey(user, new_verifier(), decision="deny", state="deny-state")

    assert final.params["error"] == "access_denied"
    assert final.params["error_description"]
    assert final.params["state"] == "deny-state"
    assert "code" not in final.params


async def test_wrong_otp_until_limit_redirects_with_access_denied(sim: Sim) -> None:
    user = await sim.user("complete")

    final = await run_journey(
        sim.client,
        sim.authorize_url(new_verifier(), state="otp-state"),
        identifier=user["identifier"],
        otp="000000" if user["otp"] != "000000" else "999999",
        pin=user["pin"],
    )

    assert final.params["error"] == "access_denied"
    assert "OTP" in final.params["error_description"]
    assert final.params["state"] == "otp-state"


async def test_wrong_pin_until_limit_redirects_with_access_denied(sim: Sim) -> None:
    user = await sim.user("complete")

    final = await run_journey(
        sim.client,
        sim.authorize_url(new_verifier()),
        identifier=user["identifier"],
        otp=user["otp"],
        pin="000000" if user["pin"] != "000000" else "999999",
    )

    assert final.params["error"] == "access_denied"
    assert "PIN" in final.params["error_description"]


async def test_not_linked_aadhaar_number_is_refused_but_mobile_signs_in(sim: Sim) -> None:
    user = await sim.user("aadhaar-not-linked")
    assert user["identifier"] == user["mobile"]

    with pytest.raises(JourneyError, match="not linked"):
        await sim.journey(user, new_verifier(), identifier=user["aadhaar"])
    final = await sim.journey(user, new_verifier())

    assert "code" in final.params


async def test_unknown_mobile_number_stops_the_journey_with_its_error(sim: Sim) -> None:
    user = await sim.user("complete")
    known = {u["mobile"] for u in await sim.users()}
    unknown = next(f"50000{n:05d}" for n in range(100_000) if f"50000{n:05d}" not in known)

    with pytest.raises(JourneyError, match="mobile"):
        await sim.journey(user, new_verifier(), identifier=unknown)


def unknown_aadhaar(known: set[str]) -> str:
    """A Verhoeff-valid 12-digit number (starting with 1) that no seeded user has."""
    candidates = (f"1999{n:07d}" for n in range(10**6))
    return next(
        number + verhoeff_check_digit(number)
        for number in candidates
        if number + verhoeff_check_digit(number) not in known
    )


async def test_unknown_aadhaar_number_signs_up_with_new_account_y(sim: Sim) -> None:
    known = {u["aadhaar"] for u in await sim.users()}
    number = unknown_aadhaar(known)
    verifier = new_verifier()

    final = await run_journey(
        sim.client, sim.authorize_url(verifier), identifier=number, otp="123456", pin="246810"
    )
    body = (await sim.exchange(final.params["code"], verifier)).json()

    assert body["new_account"] == "Y"
    users = {u["aadhaar"]: u for u in await sim.users()}
    assert users[number]["pin"] == "246810"
    assert users[number]["hasAccount"] is True


async def test_aadhaar_number_with_a_wrong_check_digit_is_refused(sim: Sim) -> None:
    valid = unknown_aadhaar({u["aadhaar"] for u in await sim.users()})
    typo = valid[:-1] + str((int(valid[-1]) + 1) % 10)
    assert not verhoeff_valid(typo)

    with pytest.raises(JourneyError, match="not a valid Aadhaar number"):
        await run_journey(
            sim.client,
            sim.authorize_url(new_verifier()),
            identifier=typo,
            otp="123456",
            pin="111111",
        )
    assert typo not in {u["aadhaar"] for u in await sim.users()}


async def test_dl_flow_signup_marks_existing_user_new_account_y(sim: Sim) -> None:
    user = await sim.user("complete")
    verifier = new_verifier()

    final = await sim.journey(user, verifier, dl_flow="signup")
    body = (await sim.exchange(final.params["code"], verifier)).json()

    assert body["new_account"] == "Y"
    assert body["digilockerid"] == user["digilockerid"]


async def test_new_user_signs_in_normally_after_signing_up(sim: Sim) -> None:
    user = await sim.user("new-user")
    await sim.tokens("new-user")

    second = await sim.tokens("new-user")

    assert second["new_account"] == "N"
    assert second["digilockerid"] == user["digilockerid"]


async def test_req_doctype_offers_and_grants_only_requested_documents(sim: Sim) -> None:
    user = await sim.user("complete")
    issued = [doc["docType"] for doc in user["documents"] if doc["issued"]]
    assert len(issued) >= 2
    verifier = new_verifier()
    pages: list[JourneyPage] = []

    final = await run_journey(
        sim.client,
        sim.authorize_url(verifier, req_doctype=f"{issued[1]},SSCER"),
        identifier=user["identifier"],
        otp=user["otp"],
        pin=user["pin"],
        pages=pages,
    )
    body = (await sim.exchange(final.params["code"], verifier)).json()

    assert set(body["scope"].split()[3:]) == {f"partners.{issued[1]}", "partners.SSCER"}
    consent = pages[-1].html
    assert f'name="doctype" value="{issued[1]}" checked' in consent
    assert 'name="doctype" value="SSCER" checked' in consent
    assert f'value="{issued[0]}"' not in consent  # held, but not asked for: not offered


async def test_unticking_every_document_grants_only_base_scopes(sim: Sim) -> None:
    user = await sim.user("complete")
    verifier = new_verifier()

    final = await sim.journey(user, verifier, doctypes=[])
    body = (await sim.exchange(final.params["code"], verifier)).json()

    assert body["scope"] == "files.issueddocs userdetails files.uploadeddocs"


async def test_unknown_v24_parameters_are_ignored(sim: Sim) -> None:
    user = await sim.user("complete")

    final = await sim.journey(
        user,
        new_verifier(),
        purpose="kyc",
        service_name="Demo Service",
        acr="aadhaar",
        pla="Y",
        prompt="login",
        scope="openid",
    )

    assert "code" in final.params


async def test_expired_journey_page_is_refused(sim: Sim) -> None:
    page = await sim.client.get(sim.authorize_url(new_verifier()))
    txn = page.text.split('name="txn" value="')[1].split('"')[0]
    sim.clock.advance(16 * 60)

    response = await sim.client.post(
        "/public/oauth2/1/journey", data={"txn": txn, "identifier": "5000000000"}
    )

    assert response.status_code == 400
    assert "expired" in response.text


async def test_linked_user_can_also_sign_in_with_mobile(sim: Sim) -> None:
    user = await sim.user("complete")
    verifier = new_verifier()

    final = await sim.journey(user, verifier, identifier=user["mobile"])
    body = (await sim.exchange(final.params["code"], verifier)).json()

    assert body["digilockerid"] == user["digilockerid"]


async def test_driver_refuses_a_doctype_not_offered_on_consent(sim: Sim) -> None:
    user = await sim.user("nothing-issued")

    with pytest.raises(JourneyError, match="not on the consent page"):
        await sim.journey(user, new_verifier(), doctypes=["DRVLC"])
