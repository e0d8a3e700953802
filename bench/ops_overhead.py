"""What metrics and the structured access log cost: the status call and the full journey on a
gateway with both on (JSON log lines written to a file, as in production) against a gateway
with both off (DLG_METRICS_ENABLED=false, DLG_ACCESS_LOG=false), in the same run, as ratios.

    python -m bench.ops_overhead [--seconds 12] [--rounds 3] [--concurrency 16] [--journeys 20]

Both servers run on the embedded default (SQLite, the simulator in process), each with its own
data folder, and are measured in turn round after round, so a change in the machine's load
weighs on both alike. Circuit breakers stay on in both: they are protection, not observation.

On a busy machine the servers' ratios swing by tens of percent either way, so a second phase
measures the CPU time one process spends per status call, in process (httpx's ASGI transport),
on two apps built side by side, interleaved in short batches: the added microseconds per call
are the cost, whatever the load.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import statistics
import tempfile
import time
from functools import partial
from pathlib import Path

import httpx

from bench.common import drive_raw, free_port, server
from digilocker_gateway.app import create_app
from digilocker_gateway.config import Settings
from digilocker_gateway.devclient import ensure_dev_client
from digilocker_gateway.ops.logs import build_formatter
from digilocker_gateway.simulator.driver import run_journey

REDIRECT_URL = "https://app.example.com/kyc/done"


def environment(data_dir: Path, *, observed: bool) -> dict[str, str]:
    env = {
        "DLG_DATA_DIR": str(data_dir),
        "DLG_BACKGROUND_JOBS": "false",
        "DLG_CATALOGUE_REFRESH_ON_START": "false",
        "DLG_LOG_FORMAT": "json",
    }
    if not observed:
        env |= {"DLG_METRICS_ENABLED": "false", "DLG_ACCESS_LOG": "false"}
    return env


async def status_rps(
    base: str, path: str, headers: dict[str, str], seconds: float, conc: int
) -> float:
    port = int(base.rsplit(":", 1)[1])
    target = partial(drive_raw, host="127.0.0.1", port=port, path=path, headers=headers)
    await target(seconds=min(1.0, seconds), concurrency=conc)  # warm-up
    result = await target(seconds=seconds, concurrency=conc)
    if result.errors:
        raise RuntimeError(f"{result.errors} status calls failed")
    return result.rps


async def journey_ms(base: str, headers: dict[str, str], count: int) -> float:
    """The median time of `count` complete journeys, one after another: create, journey
    start, the simulator's sign-in and consent pages, callback, status."""
    timings: list[float] = []
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        users = (await client.get("/simulator/_sim/users")).json()
        user = next(u for u in users if u["scenario"] == "complete")
        for _ in range(count):
            started = time.perf_counter()
            created = await client.post(
                "/api/digilocker", json={"redirectUrl": REDIRECT_URL}, headers=headers
            )
            created.raise_for_status()
            body = created.json()
            start = await client.get(body["url"])
            callback = await run_journey(
                client,
                start.headers["location"],
                identifier=user["identifier"],
                otp=user["otp"],
                pin=user["pin"],
            )
            back = await client.get(str(callback))
            if "success=true" not in back.headers.get("location", ""):
                raise RuntimeError(f"journey failed: {back.status_code}")
            status = await client.get(f"/api/digilocker/{body['id']}/status", headers=headers)
            status.raise_for_status()
            timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


async def cpu_per_status_call(calls: int, batches: int) -> dict[str, float]:
    """CPU microseconds per status call in this process, metrics and access log on vs off."""
    root = logging.getLogger()
    with contextlib.ExitStack() as stack:
        log_file = stack.enter_context(tempfile.TemporaryFile("w+"))
        handler = logging.StreamHandler(log_file)
        handler.setFormatter(build_formatter("json"))
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        stack.callback(root.removeHandler, handler)
        clients: dict[str, tuple[httpx.AsyncClient, str, dict[str, str]]] = {}
        async with contextlib.AsyncExitStack() as apps:
            for label, observed in (("on", True), ("off", False)):
                data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
                settings = Settings(
                    data_dir=data_dir,
                    background_jobs=False,
                    catalogue_refresh_on_start=False,
                    metrics_enabled=observed,
                    access_log=observed,
                )
                headers = await ensure_dev_client(settings)
                app = create_app(settings)
                await apps.enter_async_context(app.router.lifespan_context(app))
                client = await apps.enter_async_context(
                    httpx.AsyncClient(
                        transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
                    )
                )
                created = await client.post(
                    "/api/digilocker", json={"redirectUrl": REDIRECT_URL}, headers=headers
                )
                path = f"/api/digilocker/{created.json()['id']}/status"
                clients[label] = (client, path, headers)
            spent = {"on": 0.0, "off": 0.0}
            for batch in range(batches + 1):
                for label, (client, path, headers) in clients.items():
                    started = time.process_time()
                    for _ in range(calls // batches):
                        response = await client.get(path, headers=headers)
                        if response.status_code != 200:
                            raise RuntimeError(response.text)
                    if batch:  # the first batch warms up
                        spent[label] += time.process_time() - started
    measured = (calls // batches) * batches
    return {label: seconds / measured * 1e6 for label, seconds in spent.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=12.0, help="status load per server")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--journeys", type=int, default=20, help="journeys per server per round")
    parser.add_argument("--calls", type=int, default=3000, help="in-process status calls per app")
    args = parser.parse_args()
    per_round = args.seconds / args.rounds

    with contextlib.ExitStack() as stack:
        servers: dict[str, tuple[str, dict[str, str], str]] = {}
        for label, observed in (("on", True), ("off", False)):
            data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            port = free_port()
            base = stack.enter_context(
                server(
                    ["-m", "digilocker_gateway", "serve", "--port", str(port)],
                    port=port,
                    env=environment(data_dir, observed=observed),
                )
            )
            headers = json.loads((data_dir / "dev-client.json").read_text())
            created = httpx.post(
                f"{base}/api/digilocker", json={"redirectUrl": REDIRECT_URL}, headers=headers
            ).json()
            servers[label] = (base, headers, f"/api/digilocker/{created['id']}/status")

        status_ratios: list[float] = []
        journey_ratios: list[float] = []
        for number in range(1, args.rounds + 1):
            rps = {
                label: asyncio.run(status_rps(base, path, headers, per_round, args.concurrency))
                for label, (base, headers, path) in servers.items()
            }
            journeys = {
                label: asyncio.run(journey_ms(base, headers, args.journeys))
                for label, (base, headers, _) in servers.items()
            }
            status_ratios.append(rps["on"] / rps["off"])
            journey_ratios.append(journeys["on"] / journeys["off"])
            print(
                f"round {number}: status {rps['on']:6.0f} vs {rps['off']:6.0f} req/s "
                f"(on/off {status_ratios[-1]:.3f}); journey {journeys['on']:6.1f} vs "
                f"{journeys['off']:6.1f} ms (on/off {journey_ratios[-1]:.3f})"
            )

    print(
        f"status throughput, on/off: {statistics.median(status_ratios):.3f} median "
        f"({min(status_ratios):.3f}-{max(status_ratios):.3f}); 1.0 = no cost"
    )
    print(
        f"journey time, on/off    : {statistics.median(journey_ratios):.3f} median "
        f"({min(journey_ratios):.3f}-{max(journey_ratios):.3f}); 1.0 = no cost"
    )
    cpu = asyncio.run(cpu_per_status_call(args.calls, batches=10))
    print(
        f"CPU per status call in process: on {cpu['on']:.0f} us, off {cpu['off']:.0f} us, "
        f"+{cpu['on'] - cpu['off']:.0f} us ({cpu['on'] / cpu['off']:.3f}x)"
    )


if __name__ == "__main__":
    main()
