"""Status-call throughput of the gateway against a bare Starlette JSON endpoint served the same
way (uvicorn, one worker, 127.0.0.1) in the same run, as a ratio.

    python -m bench.status_throughput [--seconds 10] [--rounds 3] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import tempfile
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from bench.common import bare_app_command, drive_raw, free_port, server

BARE_PATH = "/api/digilocker/00000000-0000-4000-8000-000000000000/status"


def gateway_env(data_dir: Path, database_url: str | None = None) -> dict[str, str]:
    env = {
        "DLG_DATA_DIR": str(data_dir),
        "DLG_BACKGROUND_JOBS": "false",
        "DLG_CATALOGUE_REFRESH_ON_START": "false",
    }
    if database_url:
        # A schema of its own, so the bench never touches other data in that database.
        env["DLG_DATABASE_URL"] = database_url
        env["DLG_DATABASE_SCHEMA"] = f"bench_{os.getpid()}"
    return env


async def measure(base: str, path: str, headers: dict[str, str], seconds: float, conc: int) -> str:
    port = int(base.rsplit(":", 1)[1])
    target = partial(drive_raw, host="127.0.0.1", port=port, path=path, headers=headers)
    await target(seconds=min(2.0, seconds), concurrency=conc)  # warm-up
    result = await target(seconds=seconds, concurrency=conc)
    return json.dumps({"rps": result.rps, "summary": result.summary()})


async def _create_schema_async(database_url: str, schema: str, *, drop: bool = False) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(database_url)
    async with engine.begin() as connection:
        verb = f'DROP SCHEMA IF EXISTS "{schema}" CASCADE' if drop else f'CREATE SCHEMA "{schema}"'
        await connection.execute(text(verb))
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0, help="per server, over all rounds")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--database-url", default=None, help="postgresql+asyncpg://... (default: SQLite)"
    )
    args = parser.parse_args()
    per_round = args.seconds / args.rounds

    with contextlib.ExitStack() as stack:
        data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        env = gateway_env(data_dir, args.database_url)
        if args.database_url:
            schema = env["DLG_DATABASE_SCHEMA"]
            asyncio.run(_create_schema_async(args.database_url, schema))
            stack.callback(
                lambda: asyncio.run(_create_schema_async(args.database_url, schema, drop=True))
            )
        port = free_port()
        gateway_base = stack.enter_context(
            server(["-m", "digilocker_gateway", "serve", "--port", str(port)], port=port, env=env)
        )
        bare_port = free_port()
        bare_base = stack.enter_context(
            server(
                bare_app_command(bare_port),
                port=bare_port,
                cwd=Path(__file__).resolve().parent.parent,
            )
        )
        credentials = json.loads((data_dir / "dev-client.json").read_text())
        created = httpx.post(
            f"{gateway_base}/api/digilocker",
            json={"redirectUrl": "https://example.com/done"},
            headers=credentials,
        ).json()
        path = f"/api/digilocker/{created['id']}/status"
        # Both servers stay up and are measured in turn, round after round, so a change in
        # the machine's load during the run weighs on both sides alike.
        rounds: list[tuple[dict[str, Any], dict[str, Any]]] = []
        for number in range(1, args.rounds + 1):
            gateway = json.loads(
                asyncio.run(measure(gateway_base, path, credentials, per_round, args.concurrency))
            )
            bare = json.loads(
                asyncio.run(measure(bare_base, BARE_PATH, {}, per_round, args.concurrency))
            )
            rounds.append((gateway, bare))
            print(
                f"round {number}: gateway {gateway['rps']:7.0f} req/s, "
                f"bare {bare['rps']:7.0f} req/s, ratio {gateway['rps'] / bare['rps']:.2f}"
            )
        # For reference: the gateway's /healthz, a FastAPI route with no credentials and no
        # database: what FastAPI's routing and the middleware cost on their own.
        ceiling = json.loads(
            asyncio.run(measure(gateway_base, "/healthz", {}, per_round, args.concurrency))
        )

    ratios = sorted(gateway["rps"] / bare["rps"] for gateway, bare in rounds)
    gateway_rps = statistics.median(gateway["rps"] for gateway, _ in rounds)
    bare_rps = statistics.median(bare["rps"] for _, bare in rounds)
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"bare Starlette : {bare_rps:8.0f} req/s (median of rounds)")
    print(f"gateway status : {gateway_rps:8.0f} req/s (median of rounds, {backend})")
    print(f"gateway healthz: {ceiling['summary']}  (a FastAPI route, no I/O)")
    print(
        f"ratio          : {statistics.median(ratios):.2f} median, "
        f"{ratios[0]:.2f}-{ratios[-1]:.2f} over {len(ratios)} rounds"
    )
    print(f"cpu count      : {os.cpu_count()}")


if __name__ == "__main__":
    main()
