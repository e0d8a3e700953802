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

from bench.common import drive, free_port, server


def gateway_env(data_dir: Path) -> dict[str, str]:
    return {
        "DLG_DATA_DIR": str(data_dir),
        "DLG_BACKGROUND_JOBS": "false",
        "DLG_CATALOGUE_REFRESH_ON_START": "false",
    }


async def measure(base: str, path: str, headers: dict[str, str], seconds: float, conc: int) -> str:
    async def call(client: httpx.AsyncClient) -> httpx.Response:
        return await client.get(path, headers=headers)

    await drive(call, base_url=base, seconds=min(2.0, seconds), concurrency=conc)  # warm-up
    result = await drive(call, base_url=base, seconds=seconds, concurrency=conc)
    return json.dumps({"rps": result.rps, "summary": result.summary()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        port = free_port()
        env = gateway_env(data_dir)
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

    port = free_port()
    with server(
        [
            "-m",
            "uvicorn",
            "bench.bare_app:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        port=port,
        cwd=Path(__file__).resolve().parent.parent,
    ) as base:
        bare = json.loads(
            asyncio.run(
                measure(base, "/api/digilocker/x/status", {}, args.seconds, args.concurrency)
            )
        )

    print(f"bare Starlette : {bare['summary']}")
    print(f"gateway status : {gateway['summary']}")
    print(f"ratio          : {gateway['rps'] / bare['rps']:.2f} (target >= 0.40)")
    print(f"cpu count      : {os.cpu_count()}")


if __name__ == "__main__":
    main()
