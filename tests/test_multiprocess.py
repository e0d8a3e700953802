"""Several `digilocker-gateway serve` processes on one PostgreSQL schema, with the simulator on its
own port: every step of a journey lands on a different process than the step before, background
jobs run once for the whole fleet, and SIGTERM lets an in-flight call finish.

design.md ("Beyond one machine"): gateway processes are stateless, so any process can answer any
step; the only shared state is the database, the blob store and the configuration.
"""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from digilocker_gateway.config import Settings
from digilocker_gateway.db.engine import engine_for
from digilocker_gateway.simulator.driver import run_journey
from tests.conftest import POSTGRES_URL_ENV, postgres_url
from tests.support import query_of

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

PARTNER_ID = "MPTEST0001"
# Not the simulator's dev secret: the gateways run with DLG_ENVIRONMENT=production, which
# refuses it (config.py, Settings._refuse_dev_placeholders_in_production).
PARTNER_SECRET = "multiprocess-test-partner-secret"
REDIRECT_URL = "https://app.example.com/kyc/done?sessionId=MP"
GATEWAY_COUNT = 3
START_TIMEOUT = 60.0
# The refresh walks the simulator's whole catalogue (~2,000 issuers, 10,000+ documents over the
# signed meta-APIs): about 30 s on an idle 2-core machine, longer when the machine is busy.
CATALOGUE_TIMEOUT = 120.0


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class Cluster:
    simulator: Process
    gateways: list[Process]
    headers: dict[str, str]
    schema: str
    database_url: str

    def on(self, index: int, url: str) -> str:
        """`url` (which names the public base URL, i.e. the first gateway) sent to another one."""
        port = self.gateways[index % len(self.gateways)].port
        return str(httpx.URL(url).copy_with(port=port))


def _environment(
    *, database_url: str, schema: str, data_dir: Path, public_base: str, simulator_port: int
) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("DLG_")}
    key = base64.b64encode(os.urandom(32)).decode()
    env.update(
        DLG_ENVIRONMENT="production",
        DLG_DATABASE_URL=database_url,
        DLG_DATABASE_SCHEMA=schema,
        # One blob directory for the whole fleet: a file fetched by one process is downloaded
        # from another (on several machines this is the S3-compatible store).
        DLG_DATA_DIR=str(data_dir),
        DLG_ENCRYPTION_KEYS=f"mp:{key}",
        DLG_PUBLIC_BASE_URL=public_base,
        DLG_DIGILOCKER_BASE_URL=f"http://127.0.0.1:{simulator_port}/public",
        DLG_DIGILOCKER_CLIENT_ID=PARTNER_ID,
        DLG_DIGILOCKER_CLIENT_SECRET=PARTNER_SECRET,
    )
    return env


def _start(
    stack: ExitStack, name: str, args: list[str], *, port: int, env: dict[str, str], logs: Path
) -> Process:
    log = logs / f"{name}.log"
    handle = stack.enter_context(log.open("wb"))
    popen = subprocess.Popen(
        [sys.executable, "-m", "digilocker_gateway", *args],
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    process = Process(name, popen, port, log)
    stack.callback(_stop, process)
    return process


def _stop(process: Process) -> None:
    if process.popen.poll() is None:
        process.popen.terminate()
        try:
            process.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.popen.kill()
            process.popen.wait(timeout=10)


def _wait_until_answers(process: Process, path: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise AssertionError(f"{process.name} exited early:\n{process.log_text()[-3000:]}")
        try:
            if httpx.get(process.base + path, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{process.name} not ready in {START_TIMEOUT} s:\n{process.log_text()}")


def _cli(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "digilocker_gateway", *args],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-3000:]
    return done.stdout.decode()


async def _schema(database_url: str, statement: str) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    database_url = postgres_url()
    if database_url is None:
        pytest.skip(
            f"multi-process run skipped: set {POSTGRES_URL_ENV} to a postgresql+asyncpg URL"
        )
    schema = f"mp_{uuid.uuid4().hex[:16]}"
    logs = tmp_path_factory.mktemp("multiprocess")
    gateway_ports = [_free_port() for _ in range(GATEWAY_COUNT)]
    simulator_port = _free_port()
    public_base = f"http://127.0.0.1:{gateway_ports[0]}"
    env = _environment(
        database_url=database_url,
        schema=schema,
        data_dir=logs / "data",
        public_base=public_base,
        simulator_port=simulator_port,
    )
    asyncio.run(_schema(database_url, f'CREATE SCHEMA "{schema}"'))
    with ExitStack() as stack:
        # Registered last, so it runs after every process has been stopped.
        stack.callback(
            lambda: asyncio.run(_schema(database_url, f'DROP SCHEMA "{schema}" CASCADE'))
        )
        app = f"{PARTNER_ID}:{PARTNER_SECRET}:{public_base}/digilocker/callback"
        simulator_args = ["simulator", "--port", str(simulator_port), "--app", app]
        simulator = _start(
            stack, "simulator", simulator_args, port=simulator_port, env=env, logs=logs
        )
        # Migrations once per deploy, before any process starts (docs/deployment.md).
        _cli(["migrate"], env)
        import json

        headers: dict[str, str] = json.loads(_cli(["admin", "create-client", "--json"], env))
        # Started together, so all of them find the catalogue missing at the same moment.
        gateways = [
            _start(
                stack, f"gateway{i}", ["serve", "--port", str(port)], port=port, env=env, logs=logs
            )
            for i, port in enumerate(gateway_ports)
        ]
        _wait_until_answers(simulator, "/_sim/users")
        for gateway in gateways:
            _wait_until_answers(gateway, "/readyz")
        yield Cluster(simulator, gateways, headers, schema, database_url)


async def _wait_for_catalogue(client: httpx.AsyncClient, cluster: Cluster) -> None:
    deadline = time.monotonic() + CATALOGUE_TIMEOUT
    while time.monotonic() < deadline:
        answers = [
            (await client.get(f"{g.base}/api/digilocker/documents", headers=cluster.headers))
            for g in cluster.gateways
        ]
        if all(answer.status_code == 200 for answer in answers):
            return
        assert {a.status_code for a in answers} <= {200, 503}, [a.text for a in answers]
        await asyncio.sleep(0.25)
    raise AssertionError(f"the catalogue was not loaded in {CATALOGUE_TIMEOUT} s")


async def _complete_user(client: httpx.AsyncClient, cluster: Cluster) -> dict[str, Any]:
    users = (await client.get(f"{cluster.simulator.base}/_sim/users")).json()
    user: dict[str, Any] = next(u for u in users if u["scenario"] == "complete")
    return user


def _issued_pdf_body(user: dict[str, Any]) -> dict[str, Any]:
    document = next(
        d
        for d in user["documents"]
        if d["docType"] != "ADHAR" and d["issued"] and "pdf" in d["formats"]
    )
    return {
        "docType": document["docType"],
        "orgId": document["orgId"],
        "format": "pdf",
        "consent": "Y",
        "parameters": [{"name": k, "value": v} for k, v in document["parameters"].items()],
    }


async def _authenticate(
    client: httpx.AsyncClient, cluster: Cluster, user: dict[str, Any], first: int
) -> tuple[str, int]:
    """Create, start the journey, come back through the callback and check the status, each on
    the process after the previous one. Returns the request id and the next process index."""
    created = await client.post(
        f"{cluster.gateways[first % GATEWAY_COUNT].base}/api/digilocker",
        json={"redirectUrl": REDIRECT_URL},
        headers=cluster.headers,
    )
    assert created.status_code == 200, created.text
    request_id: str = created.json()["id"]
    start = await client.get(cluster.on(first + 1, created.json()["url"]))
    assert start.status_code == 302, start.text
    callback = await run_journey(
        client,
        start.headers["location"],
        identifier=user["identifier"],
        otp=user["otp"],
        pin=user["pin"],
    )
    # The simulator sends the browser to the one registered callback URL; a load balancer could
    # hand it to any process, so it goes to another one here.
    back = await client.get(cluster.on(first + 2, str(callback)))
    assert back.status_code == 302, back.text
    final = query_of(back.headers["location"])
    assert final["success"] == "true", back.headers["location"]
    assert final["id"] == request_id
    status = await client.get(
        f"{cluster.gateways[(first + 3) % GATEWAY_COUNT].base}/api/digilocker/{request_id}/status",
        headers=cluster.headers,
    )
    assert status.status_code == 200, status.text
    assert status.json()["status"] == "authenticated"
    return request_id, first + 4


async def test_each_journey_step_on_another_process_completes_and_fetches_the_document(
    cluster: Cluster,
) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        user = await _complete_user(client, cluster)
        await _wait_for_catalogue(client, cluster)
        for first in range(GATEWAY_COUNT):
            request_id, fetch_on = await _authenticate(client, cluster, user, first)
            fetched = await client.post(
                f"{cluster.gateways[fetch_on % GATEWAY_COUNT].base}"
                f"/api/digilocker/{request_id}/document",
                json=_issued_pdf_body(user),
                headers=cluster.headers,
            )
            assert fetched.status_code == 200, fetched.text
            # The blob was stored by one process and is served by the next one.
            download = await client.get(cluster.on(fetch_on + 1, fetched.json()["fileUrl"]))
            assert download.status_code == 200, download.text[:300]
            assert download.content.startswith(b"%PDF")


async def test_processes_started_together_refresh_the_catalogue_exactly_once(
    cluster: Cluster,
) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        await _wait_for_catalogue(client, cluster)
    refreshes = {g.name: g.log_text().count("catalogue refreshed:") for g in cluster.gateways}
    assert sum(refreshes.values()) == 1, refreshes
    engine = engine_for(Settings(database_url=cluster.database_url, database_schema=cluster.schema))
    try:
        async with engine.connect() as connection:
            leases = (
                await connection.execute(text("SELECT name, holder, last_run_at FROM job_leases"))
            ).all()
    finally:
        await engine.dispose()
    by_name = {name: (holder, last_run_at) for name, holder, last_run_at in leases}
    # Released after the run, with the time it ran.
    assert by_name["documents.refresh_catalogue"][0] is None
    assert by_name["documents.refresh_catalogue"][1] is not None
    purges = sum(g.log_text().count("job requests.purge failed") for g in cluster.gateways)
    assert purges == 0


async def test_sigterm_lets_an_in_flight_fetch_finish_then_the_process_exits(
    cluster: Cluster,
) -> None:
    latency_ms = 3000
    victim = cluster.gateways[-1]
    async with httpx.AsyncClient(timeout=30) as client:
        user = await _complete_user(client, cluster)
        await _wait_for_catalogue(client, cluster)
        request_id, _ = await _authenticate(client, cluster, user, 0)
        faults = await client.put(
            f"{cluster.simulator.base}/_sim/admin/faults", json={"file": {"latency_ms": latency_ms}}
        )
        assert faults.status_code == 200, faults.text
        try:
            started = time.monotonic()
            in_flight = asyncio.create_task(
                client.post(
                    f"{victim.base}/api/digilocker/{request_id}/document",
                    json=_issued_pdf_body(user),
                    headers=cluster.headers,
                )
            )
            await asyncio.sleep(1.0)
            assert not in_flight.done()
            victim.popen.send_signal(signal.SIGTERM)
            fetched = await in_flight
            elapsed = time.monotonic() - started
        finally:
            await client.delete(f"{cluster.simulator.base}/_sim/admin/faults")
    assert fetched.status_code == 200, fetched.text
    # The call really was waiting on DigiLocker when the signal came.
    assert elapsed >= latency_ms / 1000 - 0.5
    # uvicorn re-raises the signal once it has shut down cleanly, hence -SIGTERM as the status.
    assert await asyncio.to_thread(victim.popen.wait, 15) in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in victim.log_text()
    with pytest.raises(httpx.TransportError):
        httpx.get(victim.base + "/healthz", timeout=2)
