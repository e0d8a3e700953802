"""The app as a whole: mounting under a prefix, /_sim endpoints, error shapes, settings, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route

from digilocker_gateway.simulator import resources
from digilocker_gateway.simulator.app import create_simulator_app
from digilocker_gateway.simulator.cli import build_settings, simulator_command
from digilocker_gateway.simulator.driver import run_journey
from digilocker_gateway.simulator.settings import EndpointFaults, SimulatorSettings, parse_app_spec
from tests.simulator.conftest import REDIRECT_URI, Sim, new_verifier
from tests.support import ManualClock


async def test_journey_works_mounted_under_a_prefix() -> None:
    simulator = create_simulator_app(clock=ManualClock())
    host = Starlette(routes=[Mount("/simulator", app=simulator)])
    transport = httpx.ASGITransport(app=host)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim.test") as client:
        sim = Sim(app=host, client=client, clock=ManualClock(), prefix="/simulator")
        user = await sim.user("complete")
        verifier = new_verifier()
        first_page = await client.get(sim.authorize_url(verifier))

        final = await sim.journey(user, verifier)
        token = await sim.exchange(final.params["code"], verifier)

    assert 'action="/simulator/public/oauth2/1/journey"' in first_page.text
    assert str(final).startswith(REDIRECT_URI)
    assert token.status_code == 200


async def test_driver_starts_from_a_url_that_redirects_to_the_simulator() -> None:
    verifier = new_verifier()
    holder: dict[str, str] = {}

    async def start(_request: Request) -> Response:
        return RedirectResponse(holder["authorize"], status_code=302)

    simulator = create_simulator_app(clock=ManualClock())
    host = Starlette(routes=[Route("/start", start), Mount("/simulator", app=simulator)])
    transport = httpx.ASGITransport(app=host)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://sim.test", follow_redirects=True
    ) as client:
        sim = Sim(app=host, client=client, clock=ManualClock(), prefix="/simulator")
        holder["authorize"] = sim.authorize_url(verifier, state="from-start")
        user = await sim.user("complete")

        final = await run_journey(
            client,
            "http://sim.test/start",
            identifier=user["identifier"],
            otp=user["otp"],
            pin=user["pin"],
        )

    assert final.params["state"] == "from-start"
    assert "code" in final.params


async def test_sim_users_lists_every_scenario_with_contract_fields(sim: Sim) -> None:
    users = await sim.users()

    scenarios = {user["scenario"] for user in users}
    assert {"complete", "aadhaar-not-linked", "new-user", "issuer-down"} <= scenarios
    for user in users:
        assert {"identifier", "mobile", "otp", "pin", "scenario", "name", "documents"} <= set(user)
        expected_identifier = user["aadhaar"] if user["aadhaarLinked"] else user["mobile"]
        assert user["identifier"] == expected_identifier
        for doc in user["documents"]:
            assert {"docType", "orgId", "formats", "parameters", "issued"} <= set(doc)
            assert ("uri" in doc) is doc["issued"]


async def test_signer_pem_is_a_certificate(sim: Sim) -> None:
    response = await sim.client.get("/_sim/signer.pem")

    assert response.status_code == 200
    assert response.text.startswith("-----BEGIN CERTIFICATE-----")


async def test_unknown_route_returns_json_error(sim: Sim) -> None:
    response = await sim.client.get("/public/oauth2/9/nothing")

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


async def test_unexpected_failure_returns_500_unexpected_error_json(
    sim: Sim, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_args: object, **_kwargs: object) -> bytes:
        raise RuntimeError("boom")

    monkeypatch.setattr(resources, "render_eaadhaar_xml", explode)
    token = (await sim.tokens("complete"))["access_token"]

    response = await sim.get("/public/oauth2/3/xml/eaadhaar", token)

    assert response.status_code == 500
    assert response.json() == {
        "error": "unexpected_error",
        "error_description": "Internal server error",
    }


def test_app_spec_splits_at_the_first_two_colons() -> None:
    spec = parse_app_spec("APP1:s3cr:et:http://127.0.0.1:9000/cb")

    assert spec.client_id == "APP1"
    assert spec.client_secret == "s3cr"
    assert spec.redirect_uris == ("et:http://127.0.0.1:9000/cb",)


@pytest.mark.parametrize("bad", ["APP1", "APP1:secret", "APP1::http://x", ":s:http://x"])
def test_incomplete_app_spec_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="CLIENT_ID"):
        parse_app_spec(bad)


def test_apps_from_environment_accept_spec_strings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "DLG_SIM_APPS", json.dumps(["APP1:sec:http://a.test/cb", "APP1:sec:http://b.test/cb"])
    )

    apps = SimulatorSettings().partner_apps()

    assert set(apps) == {"APP1"}
    assert apps["APP1"].redirect_uris == ("http://a.test/cb", "http://b.test/cb")


def test_default_settings_register_the_dev_app() -> None:
    apps = SimulatorSettings().partner_apps()

    assert apps["DLGSIMDEV1"].client_secret == "simulator-dev-secret"
    assert "http://localhost:8000/digilocker/callback" in apps["DLGSIMDEV1"].redirect_uris


def test_cli_builds_settings_from_options(tmp_path: Path) -> None:
    faults_file = tmp_path / "faults.json"
    faults_file.write_text(json.dumps({"file": {"wrong_hmac": True}}))

    settings = build_settings(
        apps=[parse_app_spec("APP9:sec:http://127.0.0.1:5000/cb")],
        pki_dir=tmp_path / "pki",
        status_profile="v2.4",
        faults_file=faults_file,
    )

    assert settings.status_profile == "v2.4"
    assert settings.pki_dir == tmp_path / "pki"
    fault = settings.faults["file"]
    assert isinstance(fault, EndpointFaults)
    assert fault.wrong_hmac is True
    assert list(settings.partner_apps()) == ["APP9"]


def test_cli_rejects_a_malformed_app_option() -> None:
    result = CliRunner().invoke(simulator_command, ["--app", "only-an-id"])

    assert result.exit_code == 2
    assert "CLIENT_ID:CLIENT_SECRET:REDIRECT_URI" in result.output
