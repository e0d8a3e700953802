"""`digilocker-gateway client …` through its installed entry point, in a subprocess, against a
gateway served over TCP: JSON out, and exit codes that tell usage, API and network errors and
`wait`'s timeout apart."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from digilocker_gateway.client.cli import EXIT_API, EXIT_NETWORK, EXIT_USAGE, EXIT_WAIT_TIMEOUT
from digilocker_gateway.documents.catalogue import CatalogueDocument
from digilocker_gateway.simulator.driver import run_journey
from tests.live_server import LiveGateway, free_port, live_gateway

ENTRY_POINT = Path(sys.executable).with_name("digilocker-gateway")
REDIRECT = "https://app.example.com/kyc/done"


@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory, catalogue_documents: list[CatalogueDocument]
) -> Iterator[LiveGateway]:
    with live_gateway(tmp_path_factory.mktemp("cli-gateway"), catalogue_documents) as gateway:
        yield gateway


def cli(
    *args: str, environment: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DLG_CLIENT", "SETU_"))
    }
    env.update(environment or {})
    return subprocess.run(
        [str(ENTRY_POINT), "client", *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        timeout=120,
        check=False,
    )


def answer(done: subprocess.CompletedProcess[str]) -> Any:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def error_of(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    envelope: dict[str, Any] = json.loads(done.stderr.strip().splitlines()[-1])["error"]
    return envelope


async def consent(live: LiveGateway, url: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=live.base_url) as browser:
        users = (await browser.get("/simulator/_sim/users")).json()
        user = next(user for user in users if user["scenario"] == "complete")
        start = await browser.get(url)
        callback = await run_journey(
            browser,
            start.headers["location"],
            identifier=user["identifier"],
            otp=user["otp"],
            pin=user["pin"],
        )
        back = await browser.get(str(callback))
        assert back.headers["location"].startswith(REDIRECT + "?success=true"), back.headers
    found: dict[str, Any] = user
    return found


def test_the_whole_integration_from_the_command_line(live: LiveGateway, tmp_path: Path) -> None:
    env = live.environment
    created = answer(
        cli(
            "create",
            "--redirect-url",
            REDIRECT,
            "--doc-type=PANCR",
            "--doc-type=ADHAR",
            environment=env,
        )
    )
    assert created["status"] == "unauthenticated"
    assert set(created) >= {"id", "url", "validUpto"}
    user = asyncio.run(consent(live, created["url"]))
    waited = answer(cli("wait", created["id"], "--interval", "0.1", environment=env))
    assert waited["status"] == "authenticated"
    assert waited["digilockerUserDetails"]["digilockerId"] == user["digilockerid"]

    pan = next(document for document in user["documents"] if document["docType"] == "PANCR")
    params = [f"--param={name}={value}" for name, value in pan["parameters"].items()]
    output = tmp_path / "pan.pdf"
    fetched = answer(
        cli(
            "fetch",
            created["id"],
            "--doc-type=PANCR",
            f"--org-id={pan['orgId']}",
            *params,
            f"--output={output}",
            environment=env,
        )
    )
    assert fetched["path"] == str(output)
    assert fetched["parametersVerified"] is True
    assert output.read_bytes().startswith(b"%PDF-")

    aadhaar = answer(cli("aadhaar", created["id"], environment=env))
    assert aadhaar["aadhaar"]["maskedNumber"].startswith("xxxx-xxxx-")
    assert answer(cli("revoke", created["id"], environment=env)) == {"success": True}
    assert answer(cli("status", created["id"], environment=env))["status"] == "revoked"


def test_catalogue_is_printed_and_cached_between_runs(live: LiveGateway, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    args = ("catalogue", "--doc-type=PANCR", f"--cache-dir={cache}")
    first = answer(cli(*args, environment=live.environment))
    second = answer(cli(*args, environment=live.environment))
    assert first == second
    assert first["documents"]
    assert {item["docType"] for item in first["documents"]} == {"PANCR"}
    assert any(path.suffix == ".meta" for path in cache.iterdir())


def test_pretty_indents_and_credentials_may_be_options(live: LiveGateway) -> None:
    headers = live.headers
    done = cli(
        f"--base-url={live.base_url}",
        f"--client-id={headers['x-client-id']}",
        f"--client-secret={headers['x-client-secret']}",
        f"--product-instance-id={headers['x-product-instance-id']}",
        "--pretty",
        "create",
        f"--redirect-url={REDIRECT}",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith('{\n  "id": ')


def test_wait_times_out_cleanly_with_its_own_exit_code(live: LiveGateway) -> None:
    created = answer(cli("create", "--redirect-url", REDIRECT, environment=live.environment))
    done = cli(
        "wait", created["id"], "--timeout=0.3", "--interval=0.1", environment=live.environment
    )
    assert done.returncode == EXIT_WAIT_TIMEOUT
    assert error_of(done)["code"] == "wait_timeout"
    assert "Traceback" not in done.stderr


def test_api_error_exits_3_with_the_envelope(live: LiveGateway) -> None:
    done = cli("status", "00000000-0000-4000-8000-000000000000", environment=live.environment)
    assert done.returncode == EXIT_API
    error = error_of(done)
    assert (error["code"], error["status"]) == ("request_not_found", 404)
    assert error["traceId"]
    assert done.stdout == ""


def test_wrong_credentials_exit_3(live: LiveGateway) -> None:
    env = {**live.environment, "DLG_CLIENT_SECRET": "wrong"}
    done = cli("status", "x", environment=env)
    assert done.returncode == EXIT_API
    assert error_of(done)["code"] == "invalid_credentials"


def test_no_server_exits_4() -> None:
    env = {
        "DLG_CLIENT_BASE_URL": f"http://127.0.0.1:{free_port()}",
        "DLG_CLIENT_ID": "a",
        "DLG_CLIENT_SECRET": "b",
        "DLG_CLIENT_PRODUCT_INSTANCE_ID": "c",
    }
    done = cli("--retries=0", "status", "x", environment=env)
    assert done.returncode == EXIT_NETWORK
    assert error_of(done)["code"] == "network_error"


@pytest.mark.parametrize(
    "args",
    [
        ("status",),  # no request id
        ("fetch", "x", "--doc-type=PANCR", "--org-id=1", "--param=novalue"),
        ("--retries=many", "status", "x"),
    ],
)
def test_usage_errors_exit_2(live: LiveGateway, args: tuple[str, ...]) -> None:
    done = cli(*args, environment=live.environment)
    assert done.returncode == EXIT_USAGE, done.stderr


def test_missing_credentials_are_a_usage_error_naming_the_variables() -> None:
    done = cli("status", "x", environment={"DLG_CLIENT_BASE_URL": "http://127.0.0.1:9"})
    assert done.returncode == EXIT_USAGE
    assert "DLG_CLIENT_ID or SETU_CLIENT_ID" in done.stderr


def sim_users(live: LiveGateway) -> list[dict[str, Any]]:
    users: list[dict[str, Any]] = httpx.get(live.base_url + "/simulator/_sim/users").json()
    return users


def test_issued_then_fetch_by_uri(live: LiveGateway, tmp_path: Path) -> None:
    env = live.environment
    created = answer(cli("create", "--redirect-url", REDIRECT, environment=env))
    asyncio.run(consent(live, created["url"]))
    listed = answer(cli("issued", created["id"], environment=env))
    licence = next(item for item in listed["documents"] if item["docType"] == "DRVLC")
    assert licence["fetchable"] is True
    output = tmp_path / "dl.pdf"
    fetched = answer(
        cli(
            "fetch",
            created["id"],
            "--doc-type=DRVLC",
            f"--org-id={licence['orgId']}",
            f"--uri={licence['uri']}",
            "--with-data",
            f"--output={output}",
            environment=env,
        )
    )
    assert fetched["parametersVerified"] is False
    assert fetched["data"]["docType"] == "DRVLC"
    assert "validFrom" in fetched["data"]  # nulls inside data are kept
    assert output.read_bytes().startswith(b"%PDF-")
    both = cli(
        "fetch",
        created["id"],
        "--doc-type=DRVLC",
        f"--org-id={licence['orgId']}",
        f"--uri={licence['uri']}",
        "--param=a=b",
        environment=env,
    )
    assert both.returncode == EXIT_USAGE


def test_issued_of_an_unfinished_request_exits_3(live: LiveGateway) -> None:
    created = answer(cli("create", "--redirect-url", REDIRECT, environment=live.environment))
    done = cli("issued", created["id"], environment=live.environment)
    assert done.returncode == EXIT_API
    assert error_of(done)["code"] == "user_not_authenticated"


def test_accounts_verify_by_option_and_from_stdin(live: LiveGateway) -> None:
    users = {user["scenario"]: user for user in sim_users(live)}
    env = live.environment
    known = cli("accounts", "verify", f"--mobile={users['complete']['mobile']}", environment=env)
    assert answer(known) == {"exists": True}
    newcomer = cli("accounts", "verify", f"--mobile={users['new-user']['mobile']}", environment=env)
    assert answer(newcomer) == {"exists": False}
    # "-" reads the number from stdin: it never appears in the command line.
    piped = cli(
        "accounts", "verify", "--aadhaar=-", environment=env, stdin=users["complete"]["aadhaar"]
    )
    assert answer(piped) == {"exists": True}


@pytest.mark.parametrize(
    "args", [("accounts", "verify"), ("accounts", "verify", "--mobile=1", "--aadhaar=2")]
)
def test_accounts_verify_needs_exactly_one_number(live: LiveGateway, args: tuple[str, ...]) -> None:
    done = cli(*args, environment=live.environment)
    assert done.returncode == EXIT_USAGE
    assert "exactly one" in done.stderr


def test_accounts_verify_of_a_malformed_number_exits_3_without_echoing_it(
    live: LiveGateway,
) -> None:
    done = cli("accounts", "verify", "--aadhaar=123412341235", environment=live.environment)
    assert done.returncode == EXIT_API
    assert error_of(done)["code"] == "invalid_payload"
    assert "123412341235" not in done.stderr


def test_extensions_against_setu_exit_3_before_sending() -> None:
    env = {
        "DLG_CLIENT_BASE_URL": "https://dg-sandbox.setu.co",
        "DLG_CLIENT_ID": "a",
        "DLG_CLIENT_SECRET": "b",
        "DLG_CLIENT_PRODUCT_INSTANCE_ID": "c",
    }
    for args in (("issued", "x"), ("accounts", "verify", "--mobile=5000000001")):
        done = cli(*args, environment=env)
        assert done.returncode == EXIT_API
        assert error_of(done)["code"] == "gateway_only"
