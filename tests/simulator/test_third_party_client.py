"""A plain third-party OAuth 2.0 client (authlib, from PyPI) against the simulator, unchanged:
authorize with PKCE -> the consent pages -> token -> user (every version) -> issued and uploaded
files -> a file -> e-Aadhaar (every version) -> refresh -> revoke. Nothing here knows the
simulator beyond its base URL, the app's credentials and a test user."""

from __future__ import annotations

import base64
import hashlib
import hmac
import warnings
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from lxml import etree

from digilocker_gateway.simulator.driver import run_journey
from tests.simulator.conftest import BASE_URL, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, Sim

with warnings.catch_warnings():
    # authlib warns that it runs on httpx rather than its successor httpx2; the project's
    # clients are httpx, so that is exactly the combination to test. Its `deprecate` module
    # installs an "always" filter when imported, so it is imported first and then overruled;
    # leaving the block restores the filters, that one included.
    from authlib.deprecate import AuthlibDeprecationWarning  # type: ignore[import-untyped]

    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.common.security import generate_token  # type: ignore[import-untyped]
    from authlib.integrations.httpx_client import AsyncOAuth2Client  # type: ignore[import-untyped]

PUBLIC = f"{BASE_URL}/public"
OAUTH = f"{PUBLIC}/oauth2"


def _hmac_of(body: bytes) -> str:
    digest = hmac.new(CLIENT_SECRET.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


@pytest.fixture(params=["client_secret_basic", "client_secret_post"])
async def oauth(sim: Sim, request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """authlib's httpx client, reaching the simulator app in process, credentials by Basic or
    in the body as the parameter says."""
    client = AsyncOAuth2Client(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
        token_endpoint_auth_method=request.param,
        transport=httpx.ASGITransport(app=sim.app),
    )
    async with client:
        yield client


async def _sign_in(sim: Sim, oauth: Any, token_path: str = "1/token") -> dict[str, Any]:
    user = await sim.user("complete")
    verifier = generate_token(64)
    url, state = oauth.create_authorization_url(
        f"{OAUTH}/1/authorize", code_verifier=verifier, state=generate_token(24)
    )
    # The browser is not the app's server: a client of its own walks the pages.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sim.app)) as browser:
        callback = await run_journey(
            browser, url, identifier=user["identifier"], otp=user["otp"], pin=user["pin"]
        )
    assert callback.params["state"] == state
    token: dict[str, Any] = await oauth.fetch_token(
        f"{OAUTH}/{token_path}",
        authorization_response=str(callback),
        code_verifier=verifier,
        state=state,
    )
    return token


async def test_third_party_client_runs_the_whole_journey_unchanged(sim: Sim, oauth: Any) -> None:
    user = await sim.user("complete")

    token = await _sign_in(sim, oauth)

    assert token["token_type"] == "Bearer"
    assert "partners.ADHAR" in token["scope"].split()
    profiles = [(await oauth.get(f"{OAUTH}/{version}/user")).json() for version in (1, 2, 3)]
    assert all(profile["digilockerid"] == user["digilockerid"] for profile in profiles)
    assert profiles[0] == profiles[1] == profiles[2]

    issued = (await oauth.get(f"{OAUTH}/2/files/issued")).json()["items"]
    assert {item["uri"] for item in issued} == {d["uri"] for d in user["documents"] if d["issued"]}
    pdf_uri = next(item["uri"] for item in issued if "application/pdf" in item["mime"])
    document = await oauth.get(f"{OAUTH}/1/file/{pdf_uri}")
    assert document.status_code == 200
    assert document.headers["hmac"] == _hmac_of(document.content)

    root = (await oauth.get(f"{OAUTH}/1/files/")).json()
    folder = next(item for item in root["items"] if item["type"] == "dir")
    inside = (await oauth.get(f"{OAUTH}/1/files/{folder['id']}")).json()
    assert inside["directory"] == f"/{folder['name']}"
    uploaded = next(item for item in root["items"] if item["type"] == "file")
    own = await oauth.get(f"{OAUTH}/1/file/{uploaded['uri']}")
    assert own.status_code == 200
    assert own.headers["hmac"] == _hmac_of(own.content)

    for version, root_name in ((3, "Certificate"), (2, "KycRes"), (1, "KycRes")):
        eaadhaar = await oauth.get(f"{OAUTH}/{version}/xml/eaadhaar")
        assert eaadhaar.status_code == 200, eaadhaar.text
        assert eaadhaar.headers["hmac"] == _hmac_of(eaadhaar.content)
        assert etree.QName(etree.fromstring(eaadhaar.content)).localname == root_name

    revoked = await oauth.revoke_token(
        f"{OAUTH}/1/revoke", token=token["access_token"], token_type_hint="access_token"
    )
    assert revoked.status_code == 200
    after = await oauth.get(f"{OAUTH}/1/user")
    assert after.status_code == 401
    assert after.json()["error"] == "invalid_token"


async def test_third_party_client_refreshes_and_uses_the_oidc_token_path(
    sim: Sim, oauth: Any
) -> None:
    first = await _sign_in(sim, oauth, token_path="2/token")
    assert first["id_token"].count(".") == 2

    refreshed = await oauth.refresh_token(f"{OAUTH}/1/token")

    assert refreshed["access_token"] != first["access_token"]
    assert refreshed["refresh_token"] != first["refresh_token"]
    assert (await oauth.get(f"{OAUTH}/1/user")).status_code == 200
