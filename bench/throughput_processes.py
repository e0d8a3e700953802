"""Throughput with several gateway processes on one PostgreSQL database, against one on SQLite.

For each configuration — PostgreSQL with 1, 2 and 4 `digilocker-gateway serve` processes, SQLite
with 1 — it measures status calls per second and complete journeys per second (create, journey
start, the simulator's sign-in and consent pages, callback, status). There is no load balancer:
the load generator spreads its calls round-robin over the processes' ports, and each journey
moves to the next process at every step, as a load balancer without sticky sessions would.
One simulator process stands in for DigiLocker; all traffic stays on 127.0.0.1.

    python -m bench.throughput_processes [--seconds 10] [--concurrency 32] [--processes 1 2 4]
        [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test]

Each PostgreSQL configuration gets a fresh schema, dropped afterwards. The load generator runs on
the same machine, so with few cores it competes with the gateways for CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.common import LoadResult, drive_raw, free_port, server
from digilocker_gateway.simulator.driver import run_journey
from digilocker_gateway.simulator.pki import SIGNER_FILE, SimulatorPKI

PARTNER_ID = "BENCHAPP01"
PARTNER_SECRET = "bench-partner-secret"
REDIRECT_URL = "https://app.example.com/kyc/done"


@dataclass
class Fleet:
    bases: list[str]
    simulator: str
    headers: dict[str, str]
    # The gateways' environment (database URL and schema, data directory).
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class Measured:
    label: str
    processes: int
    status: LoadResult
    journeys: LoadResult


async def _sql(url: str, statement: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


def _cli(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "digilocker_gateway", *args],
        env={**os.environ, **env},
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr.decode(errors="replace"))
    return done.stdout.decode()


@contextmanager
def fleet(
    processes: int,
    *,
    database_url: str | None,
    data_dir: Path,
    extra_env: dict[str, str] | None = None,
    simulator_options: list[str] | None = None,
    catalogue: bool = False,
) -> Iterator[Fleet]:
    """A simulator and `processes` gateways on one database (SQLite under data_dir if None);
    with `catalogue`, the catalogue is pulled from the simulator before the gateways start."""
    ports = [free_port() for _ in range(processes)]
    simulator_port = free_port()
    public_base = f"http://127.0.0.1:{ports[0]}"
    env = {
        "DLG_DATA_DIR": str(data_dir),
        "DLG_ENCRYPTION_KEYS": f"bench:{base64.b64encode(os.urandom(32)).decode()}",
        "DLG_PUBLIC_BASE_URL": public_base,
        "DLG_DIGILOCKER_BASE_URL": f"http://127.0.0.1:{simulator_port}/public",
        "DLG_DIGILOCKER_CLIENT_ID": PARTNER_ID,
        "DLG_DIGILOCKER_CLIENT_SECRET": PARTNER_SECRET,
        "DLG_ENVIRONMENT": "production",
        # Background jobs would add a catalogue refresh to the first seconds of every run.
        "DLG_BACKGROUND_JOBS": "false",
        "DLG_DATABASE_POOL_SIZE": "10",
        **(extra_env or {}),
    }
    schema = None
    if database_url is not None:
        schema = f"bench_{uuid.uuid4().hex[:12]}"
        env["DLG_DATABASE_URL"] = database_url
        env["DLG_DATABASE_SCHEMA"] = schema
        asyncio.run(_sql(database_url, f'CREATE SCHEMA "{schema}"'))
    try:
        with ExitStack() as stack:
            app = f"{PARTNER_ID}:{PARTNER_SECRET}:{public_base}/digilocker/callback"
            simulator_args = ["simulator", "--port", str(simulator_port), "--app", app]
            simulator_args += simulator_options or []
            simulator = stack.enter_context(
                server(
                    ["-m", "digilocker_gateway", *simulator_args],
                    port=simulator_port,
                    env=env,
                    health_path="/_sim/users",
                )
            )
            _cli(["migrate"], env)
            headers = json.loads(_cli(["admin", "create-client", "--json"], env))
            if catalogue:
                _cli(["catalogue", "refresh"], env)
            bases = [
                stack.enter_context(
                    server(
                        ["-m", "digilocker_gateway", "serve", "--port", str(port)],
                        port=port,
                        env=env,
                        health_path="/readyz",
                    )
                )
                for port in ports
            ]
            yield Fleet(bases, simulator, headers, env)
    finally:
        if database_url is not None and schema is not None:
            asyncio.run(_sql(database_url, f'DROP SCHEMA "{schema}" CASCADE'))


@contextmanager
def journey_fleet(
    tmp: Path, *, database_url: str | None, extra_env: dict[str, str] | None = None
) -> Iterator[Fleet]:
    """One gateway and a simulator, the catalogue pulled, with the simulator's e-Aadhaar
    signer (its keys kept under `tmp`) pinned by the gateway: what a whole journey needs,
    `/aadhaar` included."""
    pki = tmp / "sim-pki"
    SimulatorPKI.load_or_create(pki)
    env = {
        "DLG_AADHAAR_SIGNER_CERT_FILES": json.dumps([str(pki / SIGNER_FILE)]),
        **(extra_env or {}),
    }
    with fleet(
        1,
        database_url=database_url,
        data_dir=tmp / "data",
        extra_env=env,
        simulator_options=["--pki-dir", str(pki)],
        catalogue=True,
    ) as target:
        yield target


def _on(base: str, url: str) -> str:
    return str(httpx.URL(url).copy_with(port=httpx.URL(base).port))


async def _status_round(target: Fleet, path: str, seconds: float, concurrency: int) -> LoadResult:
    # Keep-alive connections are spread evenly over the processes' ports, as a round-robin load
    # balancer would spread them. Raw sockets, because httpx itself tops out at a few hundred
    # calls a second (bench/common.py drive_raw) and would be what is measured.
    ports = [httpx.URL(base).port or 80 for base in target.bases]
    shares = [concurrency // len(ports) + (i < concurrency % len(ports)) for i in range(len(ports))]
    parts = await asyncio.gather(
        *(
            drive_raw(
                host="127.0.0.1",
                port=port,
                path=path,
                headers=target.headers,
                seconds=seconds,
                concurrency=share,
            )
            for port, share in zip(ports, shares, strict=True)
            if share
        )
    )
    return LoadResult(
        sum(part.requests for part in parts),
        max(part.seconds for part in parts),
        sum(part.errors for part in parts),
        [latency for part in parts for latency in part.latencies_ms],
    )


async def measure_status(target: Fleet, seconds: float, concurrency: int) -> LoadResult:
    created = httpx.post(
        f"{target.bases[0]}/api/digilocker",
        json={"redirectUrl": REDIRECT_URL},
        headers=target.headers,
    ).json()
    path = f"/api/digilocker/{created['id']}/status"
    await _status_round(target, path, min(2.0, seconds), concurrency)  # warm-up
    return await _status_round(target, path, seconds, concurrency)


async def measure_journeys(target: Fleet, seconds: float, concurrency: int) -> LoadResult:
    users = httpx.get(f"{target.simulator}/_sim/users").json()
    user = next(u for u in users if u["scenario"] == "complete")
    count = len(target.bases)
    turns = itertools.count()
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def journey(client: httpx.AsyncClient) -> None:
        first = next(turns)
        base = target.bases[first % count]
        created = await client.post(
            f"{base}/api/digilocker", json={"redirectUrl": REDIRECT_URL}, headers=target.headers
        )
        created.raise_for_status()
        body = created.json()
        start = await client.get(_on(target.bases[(first + 1) % count], body["url"]))
        callback = await run_journey(
            client,
            start.headers["location"],
            identifier=user["identifier"],
            otp=user["otp"],
            pin=user["pin"],
        )
        back = await client.get(_on(target.bases[(first + 2) % count], str(callback)))
        if back.status_code != 302 or "success=true" not in back.headers.get("location", ""):
            raise RuntimeError(f"journey failed: {back.status_code}")
        status = await client.get(
            f"{target.bases[(first + 3) % count]}/api/digilocker/{body['id']}/status",
            headers=target.headers,
        )
        if status.json().get("status") != "authenticated":
            raise RuntimeError("request not authenticated")

    async def run(duration: float) -> LoadResult:
        nonlocal errors
        latencies.clear()
        errors = 0
        stop_at = time.perf_counter() + duration
        async with httpx.AsyncClient(limits=limits, timeout=30) as client:

            async def worker() -> None:
                nonlocal errors
                while time.perf_counter() < stop_at:
                    started = time.perf_counter()
                    try:
                        await journey(client)
                    except Exception:
                        errors += 1
                    latencies.append((time.perf_counter() - started) * 1000)

            began = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            elapsed = time.perf_counter() - began
        return LoadResult(len(latencies), elapsed, errors, list(latencies))

    await run(min(2.0, seconds))  # warm-up
    return await run(seconds)


def measure(
    label: str,
    processes: int,
    *,
    database_url: str | None,
    seconds: float,
    concurrency: int,
) -> Measured:
    with tempfile.TemporaryDirectory() as tmp:
        with fleet(processes, database_url=database_url, data_dir=Path(tmp)) as target:
            status = asyncio.run(measure_status(target, seconds, concurrency))
            journeys = asyncio.run(measure_journeys(target, seconds, max(4, concurrency // 4)))
    print(f"  {label:<12} status   {status.summary()}", flush=True)
    print(f"  {label:<12} journeys {journeys.summary()}", flush=True)
    return Measured(label, processes, status, journeys)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "DLG_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        parser.error("--database-url must be a postgresql+asyncpg URL")

    results: list[Measured] = []
    for processes in args.processes:
        label = f"pg x{processes}"
        results.append(
            measure(
                label,
                processes,
                database_url=args.database_url,
                seconds=args.seconds,
                concurrency=args.concurrency,
            )
        )
    results.append(
        measure(
            "sqlite x1", 1, database_url=None, seconds=args.seconds, concurrency=args.concurrency
        )
    )

    baseline = next((r for r in results if r.label == "pg x1"), results[0])
    print()
    print(f"{'configuration':<14}{'status/s':>10}{'ratio':>8}{'journeys/s':>12}{'ratio':>8}")
    for result in results:
        print(
            f"{result.label:<14}{result.status.rps:>10.0f}"
            f"{result.status.rps / baseline.status.rps:>8.2f}"
            f"{result.journeys.rps:>12.1f}"
            f"{result.journeys.rps / baseline.journeys.rps:>8.2f}"
            + (
                f"   ({result.status.errors + result.journeys.errors} errors)"
                if result.status.errors or result.journeys.errors
                else ""
            )
        )
    print(f"cpu count: {os.cpu_count()}  (one simulator process and the load generator share them)")


if __name__ == "__main__":
    main()
