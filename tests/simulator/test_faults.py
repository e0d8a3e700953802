"""Fault injection and the admin API; dropped and hung connections on a real uvicorn server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import anyio
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digilocker_gateway.simulator.app import create_simulator_app
from digilocker_gateway.simulator.driver import run_journey
from digilocker_gateway.simulator.faults import FaultInjector
from digilocker_gateway.simulator.settings import EndpointFaults, SimulatorSettings
from tests.serving import serve_app
from tests.simulator.conftest import (
    CLIENT_ID,
    CLIENT_SECRET,
    REDIRECT_URI,
    MakeSim,
    Sim,
    challenge_of,
    new_verifier,
)

USER = "/public/oauth2/1/user"
FAULTS = "/_sim/admin/faults"


async def test_error_rate_fails_a_deterministic_share_of_calls(sim: Sim) -> None:
    token = (await sim.tokens("complete"))["access_token"]
    put = await sim.client.put(
        FAULTS, json={"user": {"error_rate": 0.5, "error": "unexpected_error", "status": 503}}
    )
    assert put.status_code == 200

    statuses = [(await sim.get(USER, token)).status_code for _ in range(6)]

    assert statuses == [200, 503, 200, 503, 200, 503]


async def test_error_without_status_uses_profile_provider_status(sim: Sim) -> None:
    token = (await sim.tokens("complete"))["access_token"]
    await sim.client.put(FAULTS, json={"user": {"error_rate": 1, "error": "unexpected_error"}})
    await sim.client.put("/_sim/admin/profile", json={"status_profile": "v2.4"})

    response = await sim.get(USER, token)

    assert response.status_code == 530
    assert response.json() == {
        "error": "unexpected_error",
        "error_description": "Internal server error",
    }


async def test_latency_delays_the_answer(sim: Sim) -> None:
    token = (await sim.tokens("complete"))["access_token"]
    await sim.client.put(FAULTS, json={"*": {"latency_ms": 200}})

    started = time.monotonic()
    response = await sim.get(USER, token)

    assert response.status_code == 200
    assert time.monotonic() - started >= 0.2


async def test_malformed_answers_200_with_unparseable_body(sim: Sim) -> None:
    token = (await sim.tokens("complete"))["access_token"]
    await sim.client.put(FAULTS, json={"files_issued": {"malformed": True}})

    response = await sim.get("/public/oauth2/2/files/issued", token)

    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


async def test_wrong_hmac_fault_sends_a_mismatching_header(sim: Sim) -> None:
    token = (await sim.tokens("complete"))["access_token"]
    clean = await sim.get("/public/oauth2/3/xml/eaadhaar", token)
    await sim.client.put(FAULTS, json={"eaadhaar": {"wrong_hmac": True}})

    faulty = await sim.get("/public/oauth2/3/xml/eaadhaar", token)

    assert faulty.status_code == 200
    assert faulty.headers["hmac"] != clean.headers["hmac"]
    assert len(faulty.headers["hmac"]) == len(clean.headers["hmac"])


async def test_faults_from_settings_apply_from_the_start(make_sim: MakeSim) -> None:
    sim = await make_sim(faults={"token": EndpointFaults(error_rate=1.0, error="unexpected_error")})

    response = await sim.client.post("/public/oauth2/1/token", data={"grant_type": "x"})

    assert response.status_code == 500
    assert response.json()["error"] == "unexpected_error"


async def test_admin_faults_get_put_delete_round_trip(sim: Sim) -> None:
    await sim.client.put(FAULTS, json={"file": {"wrong_hmac": True}})

    listed = (await sim.client.get(FAULTS)).json()
    cleared = await sim.client.delete(FAULTS)

    assert listed["file"]["wrong_hmac"] is True
    assert cleared.json() == {}
    assert (await sim.client.get(FAULTS)).json() == {}


@pytest.mark.parametrize(
    "body", [{"nosuch": {"latency_ms": 1}}, {"file": {"error_rate": 2}}, {"file": {"bogus": 1}}]
)
async def test_admin_rejects_invalid_fault_config(sim: Sim, body: object) -> None:
    response = await sim.client.put(FAULTS, json=body)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_admin_token_is_required_when_configured(make_sim: MakeSim) -> None:
    sim = await make_sim(admin_token="admin-secret")

    anonymous = await sim.client.get(FAULTS)
    wrong = await sim.client.get(FAULTS, headers={"Authorization": "Bearer nope"})
    right = await sim.client.get(FAULTS, headers={"Authorization": "Bearer admin-secret"})

    assert anonymous.status_code == 401
    assert wrong.status_code == 401
    assert right.status_code == 200


async def test_profile_put_switches_profile_and_rejects_unknown_names(sim: Sim) -> None:
    put = await sim.client.put("/_sim/admin/profile", json={"status_profile": "v2.4"})
    bad = await sim.client.put("/_sim/admin/profile", json={"status_profile": "v9"})

    assert put.json() == {"status_profile": "v2.4"}
    assert bad.status_code == 400
    assert (await sim.client.get("/_sim/admin/profile")).json() == {"status_profile": "v2.4"}


# --- rates: every kind on a chosen, deterministic share of the calls ---------------------


async def test_rate_makes_malformed_hit_that_share_of_calls(sim: Sim) -> None:
    token = (await sim.tokens("complete"))["access_token"]
    await sim.client.put(FAULTS, json={"user": {"malformed": True, "rate": 0.5}})

    bodies = [(await sim.get(USER, token)).content for _ in range(4)]

    parsed = []
    for body in bodies:
        try:
            parsed.append(isinstance(json.loads(body), dict))
        except json.JSONDecodeError:
            parsed.append(False)
    assert parsed == [True, False, True, False]


async def test_rate_makes_wrong_hmac_hit_one_call_in_four(sim: Sim) -> None:
    token = (await sim.tokens("complete"))["access_token"]
    await sim.client.put(FAULTS, json={"file": {"wrong_hmac": True, "rate": 0.25}})
    user = await sim.user("complete")
    uri = next(d["uri"] for d in user["documents"] if d["issued"] and "pdf" in d["formats"])

    answers = [await sim.get(f"/public/oauth2/1/file/{uri}", token) for _ in range(8)]

    good = [_hmac_ok(answer) for answer in answers]
    assert good == [True, True, True, False, True, True, True, False]


def _hmac_ok(response: httpx.Response) -> bool:
    expected = base64.b64encode(
        hmac.new(CLIENT_SECRET.encode(), response.content, hashlib.sha256).digest()
    ).decode()
    return response.headers["hmac"] == expected


async def test_rate_with_error_rate_answers_the_error_on_that_share(sim: Sim) -> None:
    token = (await sim.tokens("complete"))["access_token"]
    fault = {"rate": 0.5, "error_rate": 1, "error": "unexpected_error", "status": 503}
    await sim.client.put(FAULTS, json={"user": fault})

    statuses = [(await sim.get(USER, token)).status_code for _ in range(4)]

    assert statuses == [200, 503, 200, 503]


async def test_list_of_entries_mixes_kinds_on_one_endpoint_deterministically(sim: Sim) -> None:
    token = (await sim.tokens("complete"))["access_token"]
    mix = [
        {"rate": 0.25, "error_rate": 1, "error": "unexpected_error", "status": 503},
        {"rate": 0.25, "malformed": True},
        {"rate": 0.25, "latency_ms": 1},
    ]
    put = await sim.client.put(FAULTS, json={"user": mix})
    assert put.status_code == 200
    assert (await sim.client.get(FAULTS)).json()["user"][1]["malformed"] is True

    outcomes = []
    for _ in range(8):
        response = await sim.get(USER, token)
        if response.status_code == 503:
            outcomes.append("error")
        else:
            try:
                json.loads(response.content)
                outcomes.append("ok")
            except json.JSONDecodeError:
                outcomes.append("malformed")

    # Entry k is owed floor(n * rate) of the first n calls; each call serves the entry owed
    # most, the first on a tie: calls 4 and 8 owe all three, so they go error, malformed, ...
    assert outcomes == ["ok", "ok", "ok", "error", "malformed", "ok", "ok", "error"]


async def test_star_rate_counts_each_endpoint_separately(sim: Sim) -> None:
    token = (await sim.tokens("complete"))["access_token"]
    fault = {"rate": 0.5, "error_rate": 1, "error": "unexpected_error", "status": 503}
    await sim.client.put(FAULTS, json={"*": fault})

    first_user = (await sim.get(USER, token)).status_code
    first_issued = (await sim.get("/public/oauth2/2/files/issued", token)).status_code
    second_user = (await sim.get(USER, token)).status_code

    assert (first_user, first_issued, second_user) == (200, 200, 503)


@pytest.mark.parametrize(
    "body",
    [
        {"user": [{"rate": 0.6, "drop": True}, {"rate": 0.5, "malformed": True}]},
        {"user": []},
        {"user": {"rate": 1.5}},
    ],
)
async def test_admin_rejects_rates_over_one_and_empty_lists(sim: Sim, body: object) -> None:
    response = await sim.client.put(FAULTS, json=body)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert (await sim.client.get(FAULTS)).json() == {}


@settings(max_examples=60, derandomize=True, deadline=None)
@given(
    weights=st.lists(st.integers(min_value=0, max_value=100), min_size=1, max_size=5),
    share=st.integers(min_value=0, max_value=100),
    calls=st.integers(min_value=1, max_value=200),
)
def test_each_entry_gets_its_share_never_ahead_at_most_entries_minus_one_behind(
    weights: list[int], share: int, calls: int
) -> None:
    total = sum(weights) or 1
    rates = [weight * share // total / 100 for weight in weights]
    entries = [EndpointFaults(rate=rate, latency_ms=index) for index, rate in enumerate(rates)]
    injector = FaultInjector({"user": entries})
    served = [0] * len(entries)

    for call in range(1, calls + 1):
        fault = injector.for_call("user")
        if fault is not None:
            served[fault.faults.latency_ms] += 1
        for index, rate in enumerate(rates):
            behind = int(call * rate + 1e-9) - served[index]
            assert 0 <= behind <= len(entries) - 1


# --- on a real server: the connection itself misbehaves ----------------------------------


async def _token(client: httpx.AsyncClient, base: str) -> str:
    users = (await client.get(f"{base}/_sim/users")).json()
    user = next(u for u in users if u["scenario"] == "complete")
    verifier = new_verifier()
    query = httpx.QueryParams(
        response_type="code",
        client_id=CLIENT_ID,
        redirect_uri=REDIRECT_URI,
        state="s",
        code_challenge=challenge_of(verifier),
        code_challenge_method="S256",
    )
    final = await run_journey(
        client,
        f"{base}/public/oauth2/1/authorize?{query}",
        identifier=user["identifier"],
        otp=user["otp"],
        pin=user["pin"],
    )
    response = await client.post(
        f"{base}/public/oauth2/1/token",
        data={
            "grant_type": "authorization_code",
            "code": final.params["code"],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
    )
    token: str = response.json()["access_token"]
    return token


async def test_timeout_fault_never_answers_so_client_timeout_fires() -> None:
    app = create_simulator_app(SimulatorSettings(faults={"user": EndpointFaults(timeout=True)}))
    async with serve_app(app) as base, httpx.AsyncClient(timeout=5) as client:
        token = await _token(client, base)

        with pytest.raises(httpx.ReadTimeout):
            await client.get(
                f"{base}{USER}", headers={"Authorization": f"Bearer {token}"}, timeout=0.5
            )


async def test_drop_at_a_rate_drops_only_that_share_of_calls() -> None:
    app = create_simulator_app(
        SimulatorSettings(faults={"user": EndpointFaults(drop=True, rate=0.5)})
    )
    async with serve_app(app) as base, httpx.AsyncClient(timeout=5) as client:
        token = await _token(client, base)
        headers = {"Authorization": f"Bearer {token}"}

        first = await client.get(f"{base}{USER}", headers=headers)
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get(f"{base}{USER}", headers=headers)

    assert first.status_code == 200


async def test_timeout_at_a_rate_hangs_only_that_share_of_calls() -> None:
    app = create_simulator_app(
        SimulatorSettings(faults={"user": EndpointFaults(timeout=True, rate=0.5)})
    )
    async with serve_app(app) as base, httpx.AsyncClient(timeout=5) as client:
        token = await _token(client, base)
        headers = {"Authorization": f"Bearer {token}"}

        first = await client.get(f"{base}{USER}", headers=headers, timeout=0.5)
        with pytest.raises(httpx.ReadTimeout):
            await client.get(f"{base}{USER}", headers=headers, timeout=0.5)

    assert first.status_code == 200


async def test_drop_fault_closes_connection_mid_body() -> None:
    app = create_simulator_app(SimulatorSettings(faults={"user": EndpointFaults(drop=True)}))
    async with serve_app(app) as base, httpx.AsyncClient(timeout=5) as client:
        token = await _token(client, base)

        with pytest.raises(httpx.RemoteProtocolError):
            await client.get(f"{base}{USER}", headers={"Authorization": f"Bearer {token}"})


async def test_trickle_sends_the_whole_body_in_pieces_with_pauses() -> None:
    from starlette.responses import Response
    from starlette.types import Message

    from digilocker_gateway.simulator.faults import TRICKLE_PIECE, TrickledResponse

    body = bytes(range(256)) * 1000  # 256,000 bytes: four pieces
    original = Response(body, media_type="application/pdf", headers={"hmac": "synthetic"})
    sent: list[Message] = []
    moments: list[float] = []

    async def send(message: Message) -> None:
        sent.append(message)
        moments.append(anyio.current_time())

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    await TrickledResponse(original, 0.02)({"type": "http"}, receive, send)

    assert sent[0]["type"] == "http.response.start"
    assert (b"hmac", b"synthetic") in sent[0]["headers"]
    pieces = [message["body"] for message in sent[1:]]
    assert b"".join(pieces) == body
    assert [len(piece) for piece in pieces[:-1]] == [TRICKLE_PIECE] * 3 + [256_000 - 3 * 65536]
    assert sent[-1]["more_body"] is False
    assert moments[-1] - moments[1] >= 3 * 0.02
