"""The cost of one consent journey to the gateway process, against the same DigiLocker calls
made directly.

One simulator process stands in for DigiLocker and one `digilocker-gateway serve` process runs
the gateway (SQLite by default, PostgreSQL with --database-url). Rounds alternate between:

- gateway: whole journeys as a caller and a user's browser make them (bench/soak.py's
  `Caller.journey`): create → journey URL → the simulator's sign-in and consent → callback →
  status → fetch a PDF → download it → `/aadhaar` → revoke;
- direct: a minimal client making the same DigiLocker calls straight to the simulator: the
  same sign-in and consent pages, token exchange, user details, issued list, the PDF, the
  e-Aadhaar XML, revoke.

Reported per configuration and concurrency, over all rounds: the gateway process's CPU per
journey (utime + stime from /proc/<pid>/stat, before and after its rounds), the simulator's CPU
per journey in each mode, SQL statements and commits per gateway journey (the gateway counts
them with `DLG_DATABASE_STATEMENT_METRICS`, read from /metrics; the scrape's own statements
are measured and taken off), journeys per second each way and their ratio.

    python -m bench.journey_cost [--journeys 40] [--rounds 3] [--concurrency 1 8]
        [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test]

Server, simulator and load generator share the machine's cores; run it on an idle machine.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import os
import re
import sqlite3
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.common import PIDS, cpu_seconds
from bench.soak import Caller, Tally
from bench.throughput_processes import PARTNER_ID, PARTNER_SECRET, Fleet, journey_fleet
from digilocker_gateway.config import CALLBACK_PATH
from digilocker_gateway.simulator.driver import run_journey
from digilocker_gateway.upstream.protocol import authorize_url, make_pkce_pair, make_state

METRICS_TOKEN = "bench-metrics-token"
_COUNTER = re.compile(rb"^(dlg_db_statements_total|dlg_db_commits_total) ([0-9.e+]+)$", re.M)


def database_counts(base: str) -> tuple[float, float]:
    """(statements, commits) the gateway has counted so far."""
    answer = httpx.get(
        f"{base}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=30
    )
    answer.raise_for_status()
    found = {name.decode(): float(value) for name, value in _COUNTER.findall(answer.content)}
    return found.get("dlg_db_statements_total", 0.0), found.get("dlg_db_commits_total", 0.0)


async def _postgres_bytes(url: str, schema: str) -> int:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            total = await connection.scalar(
                text(
                    "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = :schema AND c.relkind = 'r'"
                ),
                {"schema": schema},
            )
    finally:
        await engine.dispose()
    return int(total or 0)


def database_bytes(target: Fleet) -> int:
    """What the gateway's tables take on disk now: PostgreSQL's relation sizes (tables, their
    indexes and TOAST) in its schema, or the SQLite file's used pages after a checkpoint."""
    env = target.env
    if "DLG_DATABASE_URL" in env:
        return asyncio.run(_postgres_bytes(env["DLG_DATABASE_URL"], env["DLG_DATABASE_SCHEMA"]))
    with contextlib.closing(sqlite3.connect(Path(env["DLG_DATA_DIR"]) / "gateway.db")) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        free = db.execute("PRAGMA freelist_count").fetchone()[0]
        size = db.execute("PRAGMA page_size").fetchone()[0]
    return int((pages - free) * size)


class Direct:
    """The same DigiLocker calls the gateway makes for one journey, made straight to the
    simulator by a minimal client: nothing stored, nothing verified, nothing sealed."""

    def __init__(self, target: Fleet, client: httpx.AsyncClient) -> None:
        self.public = f"{target.simulator}/public"
        self.redirect_uri = f"{target.bases[0]}{CALLBACK_PATH}"
        self.client = client
        users = httpx.get(f"{target.simulator}/_sim/users").json()
        self.user = next(u for u in users if u["scenario"] == "complete")
        pair = f"{PARTNER_ID}:{PARTNER_SECRET}".encode()
        self.basic = "Basic " + base64.b64encode(pair).decode()

    async def _ok(self, response: httpx.Response, step: str) -> httpx.Response:
        if response.status_code != 200:
            raise RuntimeError(f"direct {step}: {response.status_code}")
        return response

    async def journey(self) -> None:
        verifier, challenge = make_pkce_pair()
        state = make_state()
        url = authorize_url(
            self.public,
            client_id=PARTNER_ID,
            redirect_uri=self.redirect_uri,
            state=state,
            code_challenge=challenge,
            req_doctype=["PANCR", "ADHAR"],
        )
        user = self.user
        callback = await run_journey(
            self.client, url, identifier=user["identifier"], otp=user["otp"], pin=user["pin"]
        )
        if callback.params.get("state") != state or "code" not in callback.params:
            raise RuntimeError("direct: no code")
        client = self.client
        token = await client.post(
            f"{self.public}/oauth2/1/token",
            data={
                "grant_type": "authorization_code",
                "code": callback.params["code"],
                "redirect_uri": self.redirect_uri,
                "code_verifier": verifier,
                "client_id": PARTNER_ID,
                "client_secret": PARTNER_SECRET,
            },
        )
        tokens: dict[str, Any] = (await self._ok(token, "token")).json()
        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
        await self._ok(await client.get(f"{self.public}/oauth2/1/user", headers=bearer), "user")
        issued = await client.get(f"{self.public}/oauth2/2/files/issued", headers=bearer)
        items = (await self._ok(issued, "issued")).json()["items"]
        uri = next(item["uri"] for item in items if item["doctype"] == "PANCR")
        pdf = await client.get(f"{self.public}/oauth2/1/file/{quote(uri, safe='')}", headers=bearer)
        if not (await self._ok(pdf, "file")).content.startswith(b"%PDF"):
            raise RuntimeError("direct: not a PDF")
        xml = await client.get(f"{self.public}/oauth2/3/xml/eaadhaar", headers=bearer)
        await self._ok(xml, "eaadhaar")
        revoked = await client.post(
            f"{self.public}/oauth2/1/revoke",
            data={"token": tokens["refresh_token"], "token_type_hint": "refresh_token"},
            headers={"Authorization": self.basic},
        )
        await self._ok(revoked, "revoke")


@dataclass
class Totals:
    journeys: int = 0
    seconds: float = 0.0
    failed: int = 0
    gateway_cpu: float = 0.0
    simulator_cpu: float = 0.0
    statements: float = 0.0
    commits: float = 0.0
    started: int = 0  # journeys begun through the gateway, warm-up included
    failures: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.journeys / self.seconds if self.seconds else 0.0

    def per_journey_ms(self, seconds: float) -> float:
        return seconds * 1000 / self.journeys if self.journeys else 0.0


async def _rounds(
    count: int, concurrency: int, journey: Any, failures: list[str]
) -> tuple[float, int]:
    """`count` journeys by `concurrency` workers; (seconds, failed)."""
    remaining = iter(range(count))
    failed = 0

    async def worker() -> None:
        nonlocal failed
        for _ in remaining:
            try:
                await journey()
            except Exception as exc:
                failed += 1
                failures.append(f"{type(exc).__name__}: {exc}")

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - began, failed


async def measure(
    target: Fleet, *, journeys: int, rounds: int, concurrency: int
) -> tuple[Totals, Totals]:
    base = target.bases[0]
    gateway_pid = PIDS[base]
    simulator_pid = PIDS[target.simulator]
    limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency)
    gateway, direct = Totals(), Totals()
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        tally = Tally()
        caller = Caller(target, client, tally)
        minimal = Direct(target, client)

        async def through_gateway() -> None:
            before = tally.completed
            await caller.journey()
            if tally.completed == before:
                raise RuntimeError(f"gateway journey failed: {dict(tally.failed)}")

        # Warm-up both ways (imports, pools, caches), then the scrape's own statements.
        gateway.started += max(4, concurrency * 2)
        await _rounds(max(4, concurrency * 2), concurrency, through_gateway, [])
        await _rounds(max(4, concurrency * 2), concurrency, minimal.journey, [])
        first = database_counts(base)
        second = database_counts(base)
        scrape = (second[0] - first[0], second[1] - first[1])

        for _ in range(rounds):
            statements, commits = database_counts(base)
            cpu, sim_cpu = cpu_seconds(gateway_pid), cpu_seconds(simulator_pid)
            gateway.started += journeys
            seconds, failed = await _rounds(
                journeys, concurrency, through_gateway, gateway.failures
            )
            gateway.gateway_cpu += cpu_seconds(gateway_pid) - cpu
            gateway.simulator_cpu += cpu_seconds(simulator_pid) - sim_cpu
            after_statements, after_commits = database_counts(base)
            gateway.statements += after_statements - statements - scrape[0]
            gateway.commits += after_commits - commits - scrape[1]
            gateway.journeys += journeys - failed
            gateway.failed += failed
            gateway.seconds += seconds

            cpu, sim_cpu = cpu_seconds(gateway_pid), cpu_seconds(simulator_pid)
            seconds, failed = await _rounds(journeys, concurrency, minimal.journey, direct.failures)
            direct.gateway_cpu += cpu_seconds(gateway_pid) - cpu
            direct.simulator_cpu += cpu_seconds(simulator_pid) - sim_cpu
            direct.journeys += journeys - failed
            direct.failed += failed
            direct.seconds += seconds
    return gateway, direct


def report(label: str, concurrency: int, gateway: Totals, direct: Totals) -> dict[str, float]:
    per = gateway.journeys or 1
    row = {
        "gateway_cpu_ms": gateway.per_journey_ms(gateway.gateway_cpu),
        "statements": gateway.statements / per,
        "commits": gateway.commits / per,
        "gateway_rate": gateway.rate,
        "direct_rate": direct.rate,
        "ratio": gateway.rate / direct.rate if direct.rate else 0.0,
        "simulator_cpu_ms_gateway": gateway.per_journey_ms(gateway.simulator_cpu),
        "simulator_cpu_ms_direct": direct.per_journey_ms(direct.simulator_cpu),
    }
    print(
        f"{label:<10} x{concurrency:<3} gateway CPU {row['gateway_cpu_ms']:6.1f} ms/journey  "
        f"SQL {row['statements']:5.1f} statements, {row['commits']:4.1f} commits/journey  "
        f"{row['gateway_rate']:5.1f} journeys/s vs direct {row['direct_rate']:5.1f} "
        f"({row['ratio']:.2f}x)  simulator CPU {row['simulator_cpu_ms_gateway']:.1f} / "
        f"{row['simulator_cpu_ms_direct']:.1f} ms  failed {gateway.failed}/{direct.failed}",
        flush=True,
    )
    for failure in (gateway.failures + direct.failures)[:5]:
        print(f"    {failure}")
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--journeys", type=int, default=40, help="journeys per round and way")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--database-url", default=None, help="PostgreSQL; default SQLite")
    args = parser.parse_args()
    label = "postgresql" if args.database_url else "sqlite"
    rows: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            "DLG_DATABASE_STATEMENT_METRICS": "true",
            "DLG_METRICS_BEARER_TOKEN": METRICS_TOKEN,
        }
        with journey_fleet(Path(tmp), database_url=args.database_url, extra_env=env) as target:
            stored_before = database_bytes(target)
            started = 0
            for concurrency in args.concurrency:
                gateway, direct = asyncio.run(
                    measure(
                        target,
                        journeys=args.journeys,
                        rounds=args.rounds,
                        concurrency=concurrency,
                    )
                )
                started += gateway.started
                rows[concurrency] = report(label, concurrency, gateway, direct)
            stored = (database_bytes(target) - stored_before) / max(started, 1)
    print(
        f"{label}: database storage {stored / 1024:.1f} KiB per revoked journey "
        f"({started} journeys; request row, events, audit rows — the files go at revoke)"
    )
    if len(rows) > 1:
        low, high = min(rows), max(rows)
        growth = rows[high]["gateway_cpu_ms"] / rows[low]["gateway_cpu_ms"]
        print(f"{label}: gateway CPU per journey at x{high} is {growth:.2f}x that at x{low}")
    print(f"cpu count: {os.cpu_count()}  (gateway, simulator and load generator share them)")


if __name__ == "__main__":
    main()
