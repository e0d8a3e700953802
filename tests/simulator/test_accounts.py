"""The account check and the statistics: signed client-credential forms (reference §18)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from tests.simulator.conftest import CLIENT_ID, CLIENT_SECRET, Sim
from tests.simulator.test_journey import unknown_aadhaar

VERIFY = "/public/account/2/verify"
STATS = "/public/statistics/1/counts"


def _signed(sim: Sim, *, secret: str = CLIENT_SECRET, **fields: str) -> dict[str, str]:
    ts = str(int(sim.clock.now().timestamp()))
    digest = hashlib.sha256(f"{secret}{CLIENT_ID}{ts}".encode()).hexdigest()
    return {"clientid": CLIENT_ID, "ts": ts, "hmac": digest, **fields}


async def _verify(sim: Sim, **fields: str) -> Any:
    return await sim.client.post(VERIFY, data=_signed(sim, **fields))


async def test_known_aadhaar_number_is_registered_with_its_digilocker_id(sim: Sim) -> None:
    user = await sim.user("complete")

    response = await _verify(sim, uid=user["aadhaar"])

    assert response.status_code == 200
    assert response.json() == {"registered": "true", "digilockerid": user["digilockerid"]}


async def test_known_mobile_number_is_registered(sim: Sim) -> None:
    user = await sim.user("aadhaar-not-linked")

    response = await _verify(sim, mobile=user["mobile"])

    assert response.json() == {"registered": "true", "digilockerid": user["digilockerid"]}


async def test_unknown_number_is_not_registered_with_a_blank_id(sim: Sim) -> None:
    known = {u["aadhaar"] for u in await sim.users()}

    response = await _verify(sim, uid=unknown_aadhaar(known))

    assert response.status_code == 200
    assert response.json() == {"registered": "false", "digilockerid": ""}


async def test_aadhaar_number_not_linked_to_an_account_is_not_registered(sim: Sim) -> None:
    user = await sim.user("aadhaar-not-linked")

    response = await _verify(sim, uid=user["aadhaar"])

    assert response.json()["registered"] == "false"


async def test_user_is_registered_only_after_signing_up(sim: Sim) -> None:
    user = await sim.user("new-user")
    before = (await _verify(sim, uid=user["aadhaar"])).json()

    await sim.tokens("new-user")
    after = (await _verify(sim, uid=user["aadhaar"])).json()

    assert before["registered"] == "false"
    assert after == {"registered": "true", "digilockerid": user["digilockerid"]}


async def test_multipart_form_is_accepted_as_the_spec_declares(sim: Sim) -> None:
    user = await sim.user("complete")
    fields = _signed(sim, mobile=user["mobile"])

    response = await sim.client.post(
        VERIFY, files={name: (None, value) for name, value in fields.items()}
    )

    assert response.status_code == 200
    assert response.json()["registered"] == "true"


async def test_mobile_with_country_code_and_spaces_is_read(sim: Sim) -> None:
    user = await sim.user("complete")
    mobile = user["mobile"]

    response = await _verify(sim, mobile=f"+91 {mobile[:5]} {mobile[5:]}")

    assert response.json()["registered"] == "true"


@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        ({}, "Either one of uid or mobile"),
        ({"uid": "12345"}, "uid"),
        ({"mobile": "50000abcde"}, "mobile"),
    ],
)
async def test_missing_or_malformed_number_returns_invalid_parameter(
    sim: Sim, fields: dict[str, str], needle: str
) -> None:
    response = await _verify(sim, **fields)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_parameter"
    assert needle in response.json()["error_description"]


@pytest.mark.parametrize("path", [VERIFY, STATS])
async def test_bad_hmac_returns_invalid_parameter_and_unknown_client_401(
    sim: Sim, path: str
) -> None:
    user = await sim.user("complete")

    bad_hmac = await sim.client.post(path, data=_signed(sim, secret="wrong", uid=user["aadhaar"]))
    bad_client = await sim.client.post(
        path, data=_signed(sim, uid=user["aadhaar"]) | {"clientid": "NOSUCHAPP1"}
    )

    assert bad_hmac.status_code == 400
    assert bad_hmac.json()["error"] == "invalid_parameter"
    assert "hmac" in bad_hmac.json()["error_description"].lower()
    assert bad_client.status_code == 401
    assert bad_client.json()["error"] == "invalid_client_id"


async def test_statistics_counts_the_seed_in_the_specs_shape(sim: Sim) -> None:
    users = await sim.users()

    response = await sim.client.post(STATS, data=_signed(sim))

    assert response.status_code == 200
    body = response.json()
    accounts = [u for u in users if u["hasAccount"]]
    issued = [d for u in users for d in u["documents"] if d["issued"]]
    assert body["users"] == str(len(accounts))
    assert body["authentic_documents"] == str(len(issued))
    assert int(body["issuers"]) >= 2000
    assert body["requestors"] == "1"
    assert len(body["count_as_on"]) == 8
    assert body["count_as_on"].isdigit()
    months = body["monthwise_registations"]
    assert len(months) == 12
    assert set(months[0]) == {"id", "month", "year", "count"}
    assert [m["count"] for m in months] == sorted(m["count"] for m in months)  # cumulative
    years = body["yearwise_authentic_documents"]
    assert years[-1]["count"] == len(issued)
    assert all(set(year) == {"id", "year", "count"} for year in years)


async def test_a_sign_up_adds_a_user_in_the_current_month(sim: Sim) -> None:
    before = (await sim.client.post(STATS, data=_signed(sim))).json()

    await sim.tokens("new-user")
    after = (await sim.client.post(STATS, data=_signed(sim))).json()

    assert int(after["users"]) == int(before["users"]) + 1
    assert after["monthwise_registations"][-1]["count"] == (
        before["monthwise_registations"][-1]["count"] + 1
    )
    assert after["monthwise_registations"][-2] == before["monthwise_registations"][-2]
