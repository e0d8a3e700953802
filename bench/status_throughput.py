"""Status-call throughput of the gateway against a bare Starlette JSON endpoint served the same
way (uvicorn, one worker, 127.0.0.1) in the same run. Target: ratio >= 0.4.

    python -m bench.status_throughput [--seconds 10] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
from pathlib import Path

import httpx

from bench.common import bare_app_command, drive_raw, free_port, server


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
    common = {"host": "127.0.0.1", "port": port, "path": path, "headers": headers}
    await drive_raw(**common, seconds=min(2.0, seconds), concurrency=conc)  # warm-up
    result = await drive_raw(**common, seconds=seconds, concurrency=conc)
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
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--database-url", default=None, help="postgresql+asyncpg://... (default: SQLite)"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        port = free_port()
        env = gateway_env(data_dir, args.database_url)
        if args.database_url:
            asyncio.run(_create_schema_async(args.database_url, env["DLG_DATABASE_SCHEMA"]))
        with server(
            ["-m", "digilocker_gateway", "serve", "--port", str(port)], port=port, env=env
        ) as base:
            credentials = json.loads((data_dir / "dev-client.json").read_text())
            created = httpx.post(
                f"{base}/api/digilocker",
                json={"redirectUrl": "https://example.com/done"},
                headers=credentials,
            ).json()
            path = f"/api/digilocker/{created['id']}/status"
            gateway = json.loads(
                asyncio.run(measure(base, path, credentials, args.seconds, args.concurrency))
            )
            # For reference: the gateway's /healthz, a FastAPI route with no credentials and no
            # database, through the same middleware (status itself is a plain Starlette route).
            ceiling = json.loads(
                asyncio.run(measure(base, "/healthz", {}, args.seconds, args.concurrency))
            )
        if args.database_url:
            asyncio.run(
                _create_schema_async(args.database_url, env["DLG_DATABASE_SCHEMA"], drop=True)
            )

    port = free_port()
    with server(
        bare_app_command(port),
        port=port,
        cwd=Path(__file__).resolve().parent.parent,
    ) as base:
        bare = json.loads(
            asyncio.run(
                measure(base, "/api/digilocker/x/status", {}, args.seconds, args.concurrency)
            )
        )

    print(f"bare Starlette : {bare['summary']}")
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"gateway status : {gateway['summary']}  ({backend})")
    print(f"gateway healthz: {ceiling['summary']}  (a FastAPI route, no I/O)")
    print(f"ratio          : {gateway['rps'] / bare['rps']:.2f} (target >= 0.40)")
    print(
        f"healthz ratio  : {ceiling['rps'] / bare['rps']:.2f} (FastAPI route + middleware, no I/O)"
    )
    print(f"cpu count      : {os.cpu_count()}")


if __name__ == "__main__":
    main()
