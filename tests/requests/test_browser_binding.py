"""A journey's `state` is bound to the browser that opened the journey URL: a DigiLocker
sign-in link completed in another browser is refused (consent phishing)."""

from __future__ import annotations

import httpx

from digilocker_gateway.simulator.driver import run_journey
from tests.support import BASE_URL, Gateway, sim_user


async def started_elsewhere(gateway: Gateway) -> tuple[str, str]:
    """The attacker's side: a request and its DigiLocker link, started in the gateway's client
    (which keeps the binding cookie). Returns (request id, authorize URL)."""
    created = await gateway.create_request()
    start = await gateway.client.get(created["url"])
    assert start.status_code == 302
    return created["id"], start.headers["location"]


async def complete_in(
    client: httpx.AsyncClient, gateway: Gateway, authorize_url: str
) -> httpx.Response:
    user = await sim_user(gateway, "complete")
    callback = await run_journey(
        client, authorize_url, identifier=user["identifier"], otp=user["otp"], pin=user["pin"]
    )
    return await client.get(str(callback))


def other_browser(gateway: Gateway) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway.app), base_url=BASE_URL)


async def test_journey_url_sets_a_bound_cookie_for_the_callback_only(gateway: Gateway) -> None:
    created = await gateway.create_request()
    start = await gateway.client.get(created["url"])
    cookie = start.headers["set-cookie"]
    assert cookie.startswith("dlg_journey_")
    attributes = {part.strip().split("=", 1)[0].lower() for part in cookie.split(";")}
    assert {"httponly", "path", "max-age", "samesite"} <= attributes
    assert "path=/digilocker/callback" in cookie.lower()
    assert "samesite=lax" in cookie.lower()
    assert "secure" not in attributes  # plain-http development; https deployments get Secure


async def test_sign_in_completed_in_another_browser_is_refused_and_spent(
    gateway: Gateway,
) -> None:
    request_id, authorize_url = await started_elsewhere(gateway)
    async with other_browser(gateway) as victim:
        refused = await complete_in(victim, gateway, authorize_url)
    assert refused.status_code == 403
    assert "another browser" in refused.text
    # Spent: not even the browser that holds the cookie can use this callback now.
    replay = await gateway.client.get(str(refused.request.url))
    assert replay.status_code == 400
    assert "already used" in replay.text
    status = await gateway.client.get(
        f"/api/digilocker/{request_id}/status", headers=gateway.headers
    )
    assert status.json()["status"] == "unauthenticated"
    assert status.json()["digilockerUserDetails"] == {}


async def test_sign_in_completed_in_the_same_browser_succeeds(gateway: Gateway) -> None:
    request_id, authorize_url = await started_elsewhere(gateway)
    back = await complete_in(gateway.client, gateway, authorize_url)
    assert back.status_code == 302
    assert "success=true" in back.headers["location"]
    assert f"id={request_id}" in back.headers["location"]


async def test_a_cookie_of_another_journey_does_not_fit(gateway: Gateway) -> None:
    request_id, first_url = await started_elsewhere(gateway)
    first_cookies = dict(gateway.client.cookies)
    _, _second_url = await started_elsewhere(gateway)
    (second_name,) = set(gateway.client.cookies) - set(first_cookies)
    (first_name,) = set(first_cookies)
    async with other_browser(gateway) as victim:
        # The second journey's cookie value, under the first journey's name.
        victim.cookies.set(first_name, gateway.client.cookies[second_name])
        refused = await complete_in(victim, gateway, first_url)
    assert refused.status_code == 403
    status = await gateway.client.get(
        f"/api/digilocker/{request_id}/status", headers=gateway.headers
    )
    assert status.json()["status"] == "unauthenticated"


async def test_binding_can_be_turned_off_for_web_views(gateway: Gateway) -> None:
    headers = await gateway.new_client_headers(journey_browser_binding=False)
    created = await gateway.client.post(
        "/api/digilocker", json={"redirectUrl": "https://app.example.com/done"}, headers=headers
    )
    async with other_browser(gateway) as web_view:
        start = await web_view.get(created.json()["url"])
        assert "set-cookie" not in start.headers
        # The app's web view loses the cookie jar between the journey and the callback.
        fresh = other_browser(gateway)
        async with fresh:
            back = await complete_in(fresh, gateway, start.headers["location"])
    assert back.status_code == 302
    assert "success=true" in back.headers["location"]
