"""Webhook delivery: latency from the commit of an event to its arrival at a local receiver
(p50/p99), and deliveries per second for a burst, against a bare POST loop to the same receiver
(signed the same way, same concurrency as a delivery batch).

    python -m bench.webhook_delivery [--database-url postgresql+asyncpg://…] [--events 300]

The receiver is its own uvicorn process; the gateway side runs in this process: events are
written with `webhooks.events.emit` in their own transactions, and the delivery job
(`webhooks.delivery.delivery_loop`) runs as it does in `serve`, polling every
`--poll-seconds` when idle.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from bench.common import free_port, server
from digilocker_gateway.config import Settings
from digilocker_gateway.runtime import Runtime
from digilocker_gateway.runtime_build import standalone_runtime
from digilocker_gateway.tenants.service import create_client
from digilocker_gateway.webhooks import events, service
from digilocker_gateway.webhooks.delivery import delivery_loop, http_client
from digilocker_gateway.webhooks.signing import new_secret, signature_headers


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


async def arrivals(base: str) -> dict[str, int]:
    async with httpx.AsyncClient() as client:
        found: dict[str, int] = (await client.get(base + "/times")).json()
        return found


async def reset(base: str) -> None:
    async with httpx.AsyncClient() as client:
        await client.post(base + "/reset")


async def emit_one(runtime: Runtime, instance_id: str) -> tuple[str, int]:
    async with runtime.transaction() as session:
        event_id = await events.emit(
            session,
            product_instance_id=instance_id,
            request_id=str(uuid.uuid4()),
            event_type=events.REQUEST_CREATED,
            data={"status": "unauthenticated"},
            now=runtime.clock.now(),
        )
    return event_id, time.monotonic_ns()  # after the commit


async def wait_for(base: str, count: int, *, seconds: float = 120) -> dict[str, int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = await arrivals(base)
        if len(found) >= count:
            return found
        await asyncio.sleep(0.05)
    raise RuntimeError(f"only {len(await arrivals(base))} of {count} deliveries arrived")


async def gateway_side(runtime: Runtime, base: str, count: int) -> tuple[list[float], float]:
    async with runtime.transaction() as session:
        created = await create_client(
            session,
            hasher=runtime.hasher,
            sealed=runtime.sealed,
            clock=runtime.clock,
            name="bench",
            digilocker_client_id="bench",
            digilocker_client_secret="bench-secret",
            request_lifetime_seconds=3600,
        )
        instance_id = created.as_headers()["x-product-instance-id"]
        await service.create_endpoint(
            session,
            product_instance_id=instance_id,
            url=base + "/hook",
            event_types=None,
            enabled=True,
            sealed=runtime.sealed,
            now=runtime.clock.now(),
            development=True,
        )
    loop = asyncio.create_task(delivery_loop(runtime))
    try:
        # Latency: one event at a time, paced, each committed on its own.
        await reset(base)
        committed: dict[str, int] = {}
        for _ in range(count):
            event_id, at = await emit_one(runtime, instance_id)
            committed[event_id] = at
            await asyncio.sleep(0.02)
        found = await wait_for(base, count)
        latencies = [(found[key] - at) / 1e6 for key, at in committed.items()]
        # Throughput: a burst of events committed together, delivered by the running job.
        await reset(base)
        burst = count * 3
        async with runtime.transaction() as session:
            for _ in range(burst):
                await events.emit(
                    session,
                    product_instance_id=instance_id,
                    request_id=str(uuid.uuid4()),
                    event_type=events.REQUEST_CREATED,
                    data={"status": "unauthenticated"},
                    now=runtime.clock.now(),
                )
        started = time.monotonic_ns()
        found = await wait_for(base, burst)
        rate = burst / ((max(found.values()) - started) / 1e9)
    finally:
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)
    return latencies, rate


async def bare_side(runtime: Runtime, base: str, count: int) -> tuple[list[float], float]:
    """The same signed POSTs straight from a loop: sequential for latency, then in batches of
    the delivery batch size for throughput."""
    secret = new_secret()
    body = '{"type":"request.created","data":{"id":"x"}}'
    latencies: list[float] = []
    async with http_client(runtime) as http:

        async def post() -> None:
            headers = signature_headers(
                [secret], message_id=events.new_event_id(), sent_at=runtime.clock.now(), body=body
            )
            response = await http.post(base + "/hook", content=body, headers=headers)
            response.raise_for_status()

        for _ in range(count):
            started = time.perf_counter()
            await post()
            latencies.append((time.perf_counter() - started) * 1000)
        burst = count * 3
        batch = runtime.settings.webhook_batch_size
        started = time.perf_counter()
        for offset in range(0, burst, batch):
            await asyncio.gather(*(post() for _ in range(min(batch, burst - offset))))
        rate = burst / (time.perf_counter() - started)
    return latencies, rate


async def main_async(arguments: argparse.Namespace) -> None:
    port = free_port()
    with tempfile.TemporaryDirectory() as folder, server(
        ["-m", "uvicorn", "bench.webhook_receiver:app", "--port", str(port), "--log-level",
         "warning", "--no-access-log"],
        port=port,
    ) as base:  # fmt: skip
        values: dict[str, object] = {
            "data_dir": Path(folder),
            "background_jobs": False,
            "webhook_poll_seconds": arguments.poll_seconds,
        }
        if arguments.database_url:
            values["database_url"] = arguments.database_url
            values["database_schema"] = arguments.database_schema
        settings = Settings(**values)  # type: ignore[arg-type]
        async with standalone_runtime(settings, with_upstream=False) as runtime:
            bare_latencies, bare_rate = await bare_side(runtime, base, arguments.events)
            gateway_latencies, gateway_rate = await gateway_side(runtime, base, arguments.events)
    database = "PostgreSQL" if arguments.database_url else "SQLite"
    print(f"{database}, {arguments.events} paced events, poll {arguments.poll_seconds} s")
    for name, latencies, rate in (
        ("bare POST loop", bare_latencies, bare_rate),
        ("gateway outbox", gateway_latencies, gateway_rate),
    ):
        print(
            f"{name:15s} p50 {statistics.median(latencies):7.2f} ms  "
            f"p99 {percentile(latencies, 0.99):7.2f} ms  {rate:7.0f} deliveries/s"
        )
    print(f"ratio (gateway / bare) deliveries/s: {gateway_rate / bare_rate:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--database-schema", default=None)
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--poll-seconds", type=float, default=1.0)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
