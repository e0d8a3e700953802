"""The authorize checks (error pages, never redirects) and the pages' automation contract."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest

from tests.simulator.conftest import CLIENT_ID, REDIRECT_URI, Sim, challenge_of, new_verifier


def _params(**overrides: str | None) -> str:
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "state": "s1",
        "code_challenge": challenge_of(new_verifier()),
        "code_challenge_method": "S256",
        **overrides,
    }
    return urlencode({key: value for key, value in params.items() if value is not None})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"code_challenge": None}, "The code_challenge and code_challenge_method parameter is"),
        ({"code_challenge_method": None}, "The code_challenge and code_challenge_method"),
        ({"code_challenge_method": "plain"}, "S256"),
        ({"client_id": "NOSUCHAPP1"}, "client_id"),
        ({"redirect_uri": "http://127.0.0.1:8000/other"}, "redirect_uri"),
        ({"redirect_uri": REDIRECT_URI + "/"}, "redirect_uri"),
        ({"response_type": "token"}, "response_type"),
        ({"state": None}, "state"),
    ],
)
async def test_bad_authorize_request_shows_error_page_without_redirect(
    sim: Sim, overrides: dict[str, str | None], message: str
) -> None:
    response = await sim.client.get(f"/public/oauth2/1/authorize?{_params(**overrides)}")

    assert response.status_code == 400
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")
    assert message in response.text


async def test_capitalised_pkce_parameter_names_are_accepted(sim: Sim) -> None:
    query = _params().replace("code_challenge=", "Code_challenge=")
    query = query.replace("code_challenge_method=", "Code_challenge_method=")

    response = await sim.client.get(f"/public/oauth2/1/authorize?{query}")

    assert response.status_code == 200


async def _page_after(sim: Sim, data_steps: list[dict[str, str]]) -> str:
    page = await sim.client.get(f"/public/oauth2/1/authorize?{_params()}")
    for data in data_steps:
        txn = re.search(r'name="txn" value="([^"]+)"', page.text)
        assert txn is not None
        page = await sim.client.post("/public/oauth2/1/journey", data={"txn": txn[1], **data})
        assert page.status_code == 200
    return page.text


async def test_every_journey_page_has_one_post_form_with_contract_names(sim: Sim) -> None:
    user = await sim.user("complete")
    steps = [{"identifier": user["identifier"]}, {"otp": user["otp"]}, {"pin": user["pin"]}]

    pages = [await _page_after(sim, steps[:count]) for count in range(4)]

    for text, field in zip(pages, ["identifier", "otp", "pin"], strict=False):
        assert text.count("<form") == 1
        assert 'method="post"' in text
        assert f'name="{field}"' in text
        assert 'type="hidden" name="txn"' in text
    consent = pages[3]
    assert consent.count("<form") == 1
    assert '<button type="submit" name="decision" value="allow">' in consent
    assert 'name="decision" value="deny"' in consent
    issued = {doc["docType"] for doc in user["documents"] if doc["issued"]}
    for doctype in issued:
        assert f'name="doctype" value="{doctype}" checked' in consent
    assert "<script" not in consent
    assert "http://" not in consent.split("<body>")[1]  # no external assets


async def test_wrong_otp_page_shows_error_and_keeps_the_form(sim: Sim) -> None:
    user = await sim.user("complete")

    text = await _page_after(sim, [{"identifier": user["identifier"]}, {"otp": "000001"}])

    assert 'role="alert"' in text
    assert "incorrect" in text
    assert 'name="otp"' in text
