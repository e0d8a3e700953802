"""The consent journey through the gateway and the simulator, by hand over HTTP."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from tests.support import BASE_URL, REDIRECT_URL, Gateway, query_of, walk_journey


async def status_of(gateway: Gateway, request_id: str) -> dict[str, object]:
    response = await gateway.client.get(
        f"/api/digilocker/{request_id}/status", headers=gateway.headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def test_journey_redirects_to_authorize_with_pkce_state_and_doctype(
    gateway: Gateway,
) -> None:
    created = await gateway.create_request(docType="PANCR,DRVLC")
    response = await gateway.client.get(created["url"])
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(f"{BASE_URL}/simulator/public/oauth2/1/authorize?")
    params = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) == 43
    assert len(params["state"]) >= 32
    assert params["req_doctype"] == "PANCR,DRVLC"
    assert params["redirect_uri"] == f"{BASE_URL}/digilocker/callback"
    assert params["response_type"] == "code"


async def test_completed_journey_redirects_with_success_and_keeps_caller_params(
    gateway: Gateway,
) -> None:
    journey = await walk_journey(gateway, doc_type="PANCR")
    assert journey.final_url.startswith(REDIRECT_URL.split("?")[0])
    query = journey.final_query
    assert query["sessionId"] == "XYZ"
    assert query["success"] == "true"
    assert query["id"] == journey.request_id
    assert "PANCR" in query["scope"].split(" ")
    status = await status_of(gateway, journey.request_id)
    assert status["status"] == "authenticated"
    details = status["digilockerUserDetails"]
    assert isinstance(details, dict)
    assert details["digilockerId"]
    assert set(details) == {"digilockerId", "email", "phoneNumber"}


async def test_denied_journey_redirects_with_failure_and_stays_unauthenticated(
    gateway: Gateway,
) -> None:
    journey = await walk_journey(gateway, decision="deny")
    query = journey.final_query
    assert query["success"] == "false"
    assert query["id"] == journey.request_id
    assert query["errCode"] == "user_consent_not_given"
    assert query["errMessage"]
    assert (await status_of(gateway, journey.request_id))["status"] == "unauthenticated"


async def test_replayed_callback_shows_page_and_changes_nothing(gateway: Gateway) -> None:
    journey = await walk_journey(gateway)
    before = await status_of(gateway, journey.request_id)
    replay = await gateway.client.get(journey.callback_url)
    assert replay.status_code == 400
    assert "text/html" in replay.headers["content-type"]
    assert "already used" in replay.text
    after = await status_of(gateway, journey.request_id)
    before.pop("traceId")
    after.pop("traceId")
    assert after == before


async def test_forged_state_shows_page_and_never_redirects(gateway: Gateway) -> None:
    created = await gateway.create_request()
    await gateway.client.get(created["url"])
    forged = await gateway.client.get("/digilocker/callback?code=abc&state=forged-state-value")
    assert forged.status_code == 400
    assert "location" not in forged.headers
    assert (await status_of(gateway, created["id"]))["status"] == "unauthenticated"


async def test_callback_without_state_shows_page(gateway: Gateway) -> None:
    response = await gateway.client.get("/digilocker/callback?code=abc")
    assert response.status_code == 400
    assert "location" not in response.headers


async def test_restarted_journey_invalidates_the_first_state(gateway: Gateway) -> None:
    created = await gateway.create_request()
    first = await gateway.client.get(created["url"])
    second = await gateway.client.get(created["url"])
    first_state = query_of(first.headers["location"])["state"]
    assert first_state != query_of(second.headers["location"])["state"]
    old = await gateway.client.get(f"/digilocker/callback?code=x&state={first_state}")
    assert old.status_code == 400


async def test_callback_after_request_expired_shows_page(gateway: Gateway) -> None:
    created = await gateway.create_request()
    start = await gateway.client.get(created["url"])
    state = query_of(start.headers["location"])["state"]
    gateway.clock.advance(gateway.runtime.settings.request_lifetime_seconds + 5)
    late = await gateway.client.get(f"/digilocker/callback?code=abc&state={state}")
    assert late.status_code == 410
    assert "location" not in late.headers


async def test_slow_journey_redirects_with_session_expired(gateway: Gateway) -> None:
    created = await gateway.create_request()
    start = await gateway.client.get(created["url"])
    state = query_of(start.headers["location"])["state"]
    gateway.clock.advance(gateway.runtime.settings.journey_lifetime_seconds + 1)
    late = await gateway.client.get(f"/digilocker/callback?code=abc&state={state}")
    assert late.status_code == 302
    query = query_of(late.headers["location"])
    assert query["success"] == "false"
    assert query["errCode"] == "session_expired"


async def test_journey_of_authenticated_request_cannot_restart(gateway: Gateway) -> None:
    journey = await walk_journey(gateway)
    again = await gateway.client.get(f"{BASE_URL}/digilocker/journey/{journey.request_id}")
    assert again.status_code == 409
    assert "location" not in again.headers


async def test_unknown_journey_link_shows_page(gateway: Gateway) -> None:
    response = await gateway.client.get("/digilocker/journey/00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]


async def test_code_with_wrong_verifier_is_refused_by_the_simulator(gateway: Gateway) -> None:
    """The callback's code only works with the PKCE verifier the gateway keeps: a code sent to
    a different request's state fails at the token exchange."""
    first = await gateway.create_request()
    second = await gateway.create_request()
    await gateway.client.get(first["url"])
    start_second = await gateway.client.get(second["url"])
    state_second = query_of(start_second.headers["location"])["state"]
    response = await gateway.client.get(
        f"/digilocker/callback?code=0000000000000000&state={state_second}"
    )
    assert response.status_code == 302
    query = query_of(response.headers["location"])
    assert query["success"] == "false"
    assert query["errCode"] == "invalid_grant"
