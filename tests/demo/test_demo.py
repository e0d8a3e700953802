"""The demo's mounting and its refusals, without a browser (tests/browser drives the journey)."""

from __future__ import annotations

import httpx

from digilocker_gateway.app import create_app
from digilocker_gateway.config import Settings
from tests.support import BASE_URL, Gateway
from tests.test_config import PRODUCTION


async def status_of(settings: Settings, path: str) -> int:
    # No lifespan: the start page and the router's 404 need no runtime.
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        return (await client.get(path)).status_code


async def test_demo_is_mounted_in_development_only() -> None:
    assert await status_of(Settings(), "/demo") == 200
    assert await status_of(Settings(**PRODUCTION), "/demo") == 404
    assert await status_of(Settings(**PRODUCTION), "/demo/demo.js") == 404


async def test_demo_page_is_served_with_its_script_and_no_inline_script(gateway: Gateway) -> None:
    page = await gateway.client.get("/demo")
    assert page.status_code == 200
    assert "Verify with DigiLocker" in page.text
    assert "script-src" not in page.headers["content-security-policy"]  # default-src 'self'
    assert '<script src="/demo/demo.js"' in page.text
    assert "<script>" not in page.text
    script = await gateway.client.get("/demo/demo.js")
    assert script.headers["content-type"].startswith("text/javascript")


async def test_demo_shows_only_this_gateways_files(gateway: Gateway) -> None:
    response = await gateway.client.get("/demo/view", params={"file": "https://evil.example/x"})
    assert response.status_code == 400
    assert "not a file link of this gateway" in response.text


async def test_failed_journey_page_escapes_what_the_redirect_says(gateway: Gateway) -> None:
    response = await gateway.client.get(
        "/demo/return",
        params={"success": "false", "errCode": "<script>x</script>", "errMessage": "m"},
    )
    assert response.status_code == 200
    assert "<script>x" not in response.text
    assert "&lt;script&gt;x" in response.text


async def test_unknown_request_page_shows_the_api_error(gateway: Gateway) -> None:
    response = await gateway.client.get("/demo/requests/00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404
    assert "request_not_found" in response.text
    assert BASE_URL not in response.text
