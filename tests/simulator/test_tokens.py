"""Token endpoint, refresh rotation and revoke: the protocol edge cases of reference §4, §13."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from tests.simulator.conftest import (
    CLIENT_ID,
    CLIENT_SECRET,
    REDIRECT_URI,
    TOKEN_PATH,
    MakeSim,
    Sim,
)


def _basic(client_id: str = CLIENT_ID, secret: str = CLIENT_SECRET) -> dict[str, str]:
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


async def test_code_exchange_returns_flat_bearer_response(sim: Sim) -> None:
    code, verifier = await sim.code_for("complete")

    response = await sim.exchange(code, verifier)

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert len(body["access_token"]) == 40
    assert len(body["refresh_token"]) == 40
    assert len(body["reference_key"]) == 32
    assert isinstance(body["consent_valid_till"], int)
    assert body["consent_valid_till"] > sim.clock.now().timestamp()
    assert "id_token" not in body


async def test_reused_code_returns_invalid_grant(sim: Sim) -> None:
    code, verifier = await sim.code_for("complete")
    assert (await sim.exchange(code, verifier)).status_code == 200

    again = await sim.exchange(code, verifier)

    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


async def test_expired_code_returns_invalid_grant(sim: Sim) -> None:
    code, verifier = await sim.code_for("complete")
    sim.clock.advance(61)

    response = await sim.exchange(code, verifier)

    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "The authorization code has expired",
    }


async def test_code_within_ttl_is_accepted_after_time_passes(sim: Sim) -> None:
    code, verifier = await sim.code_for("complete")
    sim.clock.advance(59)

    assert (await sim.exchange(code, verifier)).status_code == 200


async def test_different_redirect_uri_returns_invalid_grant(sim: Sim) -> None:
    code, verifier = await sim.code_for("complete")

    response = await sim.exchange(
        code, verifier, redirect_uri="http://localhost:8000/digilocker/callback"
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


async def test_wrong_code_verifier_returns_invalid_grant(sim: Sim) -> None:
    code, _verifier = await sim.code_for("complete")

    response = await sim.exchange(code, "x" * 64)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert "code_verifier" in response.json()["error_description"]


async def test_wrong_client_secret_returns_401_invalid_client(sim: Sim) -> None:
    code, verifier = await sim.code_for("complete")

    response = await sim.exchange(code, verifier, client_secret="wrong-secret")

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


@pytest.mark.parametrize("missing", ["grant_type", "code", "redirect_uri", "code_verifier"])
async def test_missing_parameter_returns_invalid_request(sim: Sim, missing: str) -> None:
    code, verifier = await sim.code_for("complete")
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": "http://127.0.0.1:8000/digilocker/callback",
        "code_verifier": verifier,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    del form[missing]

    response = await sim.client.post(TOKEN_PATH, data=form)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_missing_client_credentials_returns_invalid_request(sim: Sim) -> None:
    code, verifier = await sim.code_for("complete")

    response = await sim.client.post(
        TOKEN_PATH,
        data={"grant_type": "authorization_code", "code": code, "code_verifier": verifier},
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_unknown_grant_type_returns_invalid_grant_type(sim: Sim) -> None:
    response = await sim.client.post(
        TOKEN_PATH,
        data={"grant_type": "password", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant_type"


async def test_basic_client_credentials_are_accepted(sim: Sim) -> None:
    code, verifier = await sim.code_for("complete")
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": "http://127.0.0.1:8000/digilocker/callback",
        "code_verifier": verifier,
    }

    response = await sim.client.post(TOKEN_PATH, data=form, headers=_basic())

    assert response.status_code == 200
    assert response.json()["access_token"]


async def test_basic_with_wrong_secret_returns_invalid_client(sim: Sim) -> None:
    code, verifier = await sim.code_for("complete")
    form = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier}

    response = await sim.client.post(TOKEN_PATH, data=form, headers=_basic(secret="nope"))

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic")


async def test_v2_token_adds_hs256_id_token_signed_with_client_secret(sim: Sim) -> None:
    code, verifier = await sim.code_for("complete")

    body = (await sim.exchange(code, verifier, path="/public/oauth2/2/token")).json()

    header, claims, signature = body["id_token"].split(".")
    expected = hmac.new(CLIENT_SECRET.encode(), f"{header}.{claims}".encode(), hashlib.sha256)
    assert base64.urlsafe_b64encode(expected.digest()).rstrip(b"=").decode() == signature
    decoded = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    assert decoded["aud"] == CLIENT_ID
    assert decoded["sub"] == body["digilockerid"]
    assert decoded["exp"] > decoded["iat"]


async def test_refresh_rotates_both_tokens_and_kills_the_old_refresh_token(sim: Sim) -> None:
    first = await sim.tokens("complete")
    form = {
        "grant_type": "refresh_token",
        "refresh_token": first["refresh_token"],
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }

    refreshed = await sim.client.post(TOKEN_PATH, data=form)
    reused = await sim.client.post(TOKEN_PATH, data=form)

    assert refreshed.status_code == 200
    second = refreshed.json()
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    assert (await sim.get("/public/oauth2/1/user", second["access_token"])).status_code == 200
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"


async def test_refresh_with_basic_credentials_is_accepted(sim: Sim) -> None:
    first = await sim.tokens("complete")

    response = await sim.client.post(
        TOKEN_PATH,
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        headers=_basic(),
    )

    assert response.status_code == 200


async def test_revoke_cascades_over_the_grant(sim: Sim) -> None:
    tokens = await sim.tokens("complete")

    response = await sim.client.post(
        "/public/oauth2/1/revoke",
        data={"token": tokens["refresh_token"], "token_type_hint": "refresh_token"},
        headers=_basic(),
    )

    assert response.status_code == 200
    assert response.json() == {}
    user = await sim.get("/public/oauth2/1/user", tokens["access_token"])
    assert user.status_code == 401
    assert user.json()["error"] == "invalid_token"
    refresh = await sim.client.post(
        TOKEN_PATH,
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers=_basic(),
    )
    assert refresh.json()["error"] == "invalid_grant"


async def test_revoke_with_form_credentials_and_no_hint_revokes_access_token(sim: Sim) -> None:
    tokens = await sim.tokens("complete")

    response = await sim.client.post(
        "/public/oauth2/1/revoke",
        data={
            "token": tokens["access_token"],
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
    )

    assert response.status_code == 200
    assert (await sim.get("/public/oauth2/1/user", tokens["access_token"])).status_code == 401


async def test_revoke_with_bearer_authentication_is_accepted(sim: Sim) -> None:
    tokens = await sim.tokens("complete")

    response = await sim.client.post(
        "/public/oauth2/1/revoke",
        data={"token": tokens["access_token"]},
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )

    assert response.status_code == 200
    assert (await sim.get("/public/oauth2/1/user", tokens["access_token"])).status_code == 401


async def test_revoke_unknown_token_returns_400_invalid_token(sim: Sim) -> None:
    response = await sim.client.post(
        "/public/oauth2/1/revoke", data={"token": "f" * 40}, headers=_basic()
    )

    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_token",
        "error_description": "The token is invalid",
    }


async def test_revoke_without_client_authentication_returns_401(sim: Sim) -> None:
    tokens = await sim.tokens("complete")

    response = await sim.client.post(
        "/public/oauth2/1/revoke", data={"token": tokens["access_token"]}
    )

    assert response.status_code == 401
    assert (await sim.get("/public/oauth2/1/user", tokens["access_token"])).status_code == 200


async def test_access_token_expires_after_configured_ttl(make_sim: MakeSim) -> None:
    sim = await make_sim(access_token_ttl_seconds=5)
    tokens = await sim.tokens("complete")
    assert tokens["expires_in"] == 5
    sim.clock.advance(6)

    response = await sim.get("/public/oauth2/1/user", tokens["access_token"])

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


# --- JSON bodies: the spec declares them (reference §4, §13), so they are read too ----------


async def test_json_body_with_form_style_credentials_exchanges_the_code(sim: Sim) -> None:
    code, verifier = await sim.code_for("complete")
    body = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }

    response = await sim.client.post(TOKEN_PATH, json=body)

    assert response.status_code == 200, response.text
    assert response.json()["access_token"]


async def test_json_body_with_basic_credentials_refreshes(sim: Sim) -> None:
    tokens = await sim.tokens("complete")

    response = await sim.client.post(
        TOKEN_PATH,
        json={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers=_basic(),
    )

    assert response.status_code == 200, response.text
    assert response.json()["refresh_token"] != tokens["refresh_token"]


async def test_json_body_in_the_specs_wrapper_object_is_opened(sim: Sim) -> None:
    tokens = await sim.tokens("complete")
    wrapped = {
        "Get access token using refresh token": {
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        }
    }

    response = await sim.client.post(TOKEN_PATH, json=wrapped)

    assert response.status_code == 200, response.text


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]"])
async def test_unreadable_json_body_returns_invalid_request(sim: Sim, raw: bytes) -> None:
    response = await sim.client.post(
        TOKEN_PATH, content=raw, headers={"content-type": "application/json"}
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_revoke_reads_a_json_body(sim: Sim) -> None:
    tokens = await sim.tokens("complete")

    response = await sim.client.post(
        "/public/oauth2/1/revoke", json={"token": tokens["access_token"]}, headers=_basic()
    )

    assert response.status_code == 200
    assert (await sim.get("/public/oauth2/1/user", tokens["access_token"])).status_code == 401
