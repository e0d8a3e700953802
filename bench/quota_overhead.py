"""What the quota check costs on the status call: CPU time per call in this process (httpx's
ASGI transport), on apps built side by side and measured in interleaved batches, so the
machine's load weighs on all alike:

- `no limit`: the product instance has no quota (the check finds its cached limits empty);
- `counted`: the instance has a status quota far above the load, so every call is counted in
  the database (one INSERT … ON CONFLICT … RETURNING and a commit, docs/operations.md §3).

    python -m bench.quota_overhead [--calls 3000] [--batches 10] [--sqlite-synchronous full]

Both on the embedded default (SQLite), metrics and access log on, as in production. A counted
call is one more writing transaction: on SQLite its commit syncs the WAL to disk
(`DLG_SQLITE_SYNCHRONOUS=full`), which `normal` spares.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
from pathlib import Path
from typing import Literal

import httpx

from digilocker_gateway.app import create_app
from digilocker_gateway.config import Settings
from digilocker_gateway.devclient import ensure_dev_client
from digilocker_gateway.ops.quotas import QuotaKind, Span, set_limit
from digilocker_gateway.runtime import Runtime

REDIRECT_URL = "https://app.example.com/kyc/done"


async def cpu_per_status_call(
    calls: int, batches: int, synchronous: Literal["full", "normal"]
) -> dict[str, float]:
    clients: dict[str, tuple[httpx.AsyncClient, str, dict[str, str]]] = {}
    async with contextlib.AsyncExitStack() as stack:
        for label, limited in (("no limit", False), ("counted", True)):
            data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            settings = Settings(
                data_dir=data_dir,
                background_jobs=False,
                catalogue_refresh_on_start=False,
                sqlite_synchronous=synchronous,
            )
            headers = await ensure_dev_client(settings)
            app = create_app(settings)
            await stack.enter_async_context(app.router.lifespan_context(app))
            runtime: Runtime = app.state.runtime
            if limited:
                async with runtime.transaction() as session:
                    instance = headers["x-product-instance-id"]
                    await set_limit(session, instance, QuotaKind.STATUS, Span.MINUTE, 10**9)
            client = await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
                )
            )
            created = await client.post(
                "/api/digilocker", json={"redirectUrl": REDIRECT_URL}, headers=headers
            )
            created.raise_for_status()
            clients[label] = (client, f"/api/digilocker/{created.json()['id']}/status", headers)
        spent = dict.fromkeys(clients, 0.0)
        per_batch = calls // batches
        for batch in range(batches + 1):
            for label, (client, path, headers) in clients.items():
                started = time.process_time()
                for _ in range(per_batch):
                    response = await client.get(path, headers=headers)
                    if response.status_code != 200:
                        raise RuntimeError(response.text)
                if batch:  # the first batch warms up
                    spent[label] += time.process_time() - started
    return {label: seconds / (per_batch * batches) * 1e6 for label, seconds in spent.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=3000, help="status calls per app")
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--sqlite-synchronous", choices=["full", "normal"], default="full")
    args = parser.parse_args()
    cpu = asyncio.run(cpu_per_status_call(args.calls, args.batches, args.sqlite_synchronous))
    base = cpu["no limit"]
    for label, micros in cpu.items():
        print(f"{label:9}: {micros:7.1f} µs CPU per status call ({micros / base:.3f}× no limit)")


if __name__ == "__main__":
    main()
