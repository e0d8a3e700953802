"""Start-up loads only what the configuration needs (docs/deployment.md, "Start-up"): on the
embedded SQLite default with its migrations applied, serving a call imports neither Alembic
nor PostgreSQL's driver and dialect, nor boto3, nor the offline e-KYC ZIP reader, nor aiohttp,
nor the CLI's client and simulator commands; those load on first use. Checked in a fresh
interpreter, since this test process has imported them all."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

LOADED_ON_FIRST_USE = (
    "alembic",
    "mako",
    "asyncpg",
    "sqlalchemy.dialects.postgresql",
    "boto3",
    "botocore",
    "pyzipper",
    # The network transport of DigiLocker calls: the embedded simulator has its own.
    "aiohttp",
    "httpx_aiohttp",
    # The CLI's heavier subcommand groups, which `serve` does not use.
    "digilocker_gateway.client.cli",
    "digilocker_gateway.simulator.cli",
)

_SERVE_ONE_CALL = """
import asyncio, json, sys
import httpx
import digilocker_gateway.cli  # what `serve` imports first
from digilocker_gateway.app import create_app
from digilocker_gateway.config import Settings
from digilocker_gateway.devclient import ensure_dev_client

async def main():
    settings = Settings(data_dir=sys.argv[1])
    await ensure_dev_client(settings)  # as `serve` does, before the app starts
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            health = await client.get("/healthz")
            status = (await client.get("/api/digilocker/x/status")).status_code
    print(json.dumps({"health": health.status_code, "status": status,
                      "loaded": [m for m in sys.argv[2:] if m in sys.modules]}))

asyncio.run(main())
"""


def _run(code: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DLG_ENVIRONMENT": "dev", "DLG_LOG_LEVEL": "WARNING"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_serving_on_the_migrated_sqlite_default_loads_nothing_it_does_not_need(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    # The first start applies the migrations (Alembic is needed then); the second is measured.
    _run(_SERVE_ONE_CALL, str(data_dir))

    answer = json.loads(_run(_SERVE_ONE_CALL, str(data_dir), *LOADED_ON_FIRST_USE))

    assert answer["health"] == 200
    assert answer["status"] == 401  # an ordinary call went through the database layer
    assert answer["loaded"] == []
