"""The full catalogue pull from the simulator, as the gateway does it (issuers -> doctypes ->
parameters, signed meta-API calls), over real HTTP on 127.0.0.1, timed. The baseline, measured
in the same run, is the simulator's cheapest endpoint (GET /_sim/signer.pem) called as many times
with the same concurrency, so the ratio shows what the signed meta-APIs cost over bare HTTP.
It also reports the CPU the pull took in this (client) process and in the simulator process
(/proc/<pid>/stat), to show which side the time goes to.

The pull runs twice, measured: over the transport the gateway uses for DigiLocker
(upstream/transport.py, aiohttp under httpx) and over httpx's own default transport, so the
two can be compared in one run.

    python -m bench.catalogue_pull [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable

import httpx

from bench.common import PIDS, cpu_seconds, free_port, server
from digilocker_gateway.config import DEV_PARTNER_CLIENT_ID, DEV_PARTNER_CLIENT_SECRET
from digilocker_gateway.documents.catalogue import fetch_catalogue
from digilocker_gateway.upstream.client import DigiLockerClient, PartnerCredentials
from digilocker_gateway.upstream.transport import network_transport


class Counter(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.calls = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


TRANSPORTS: dict[str, Callable[[int], httpx.AsyncBaseTransport]] = {
    "gateway (aiohttp)": lambda _concurrency: network_transport(),
    "httpx default": lambda concurrency: httpx.AsyncHTTPTransport(
        limits=httpx.Limits(max_connections=concurrency)
    ),
}


async def pull(base: str, concurrency: int, kind: str) -> tuple[int, int, float]:
    transport = Counter(TRANSPORTS[kind](concurrency))
    async with httpx.AsyncClient(transport=transport, timeout=30) as http:
        client = DigiLockerClient(
            http,
            PartnerCredentials(
                base_url=f"{base}/public",
                client_id=DEV_PARTNER_CLIENT_ID,
                client_secret=DEV_PARTNER_CLIENT_SECRET,
                redirect_uri="http://127.0.0.1:8000/digilocker/callback",
            ),
        )
        started = time.perf_counter()
        documents = await fetch_catalogue(client, concurrency=concurrency)
        elapsed = time.perf_counter() - started
    return len(documents), transport.calls, elapsed


async def baseline(base: str, calls: int, concurrency: int) -> float:
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as http:
        gate = asyncio.Semaphore(concurrency)

        async def one() -> None:
            async with gate:
                (await http.get("/_sim/signer.pem")).raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(calls)))
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    port = free_port()
    command = ["-m", "digilocker_gateway", "simulator", "--port", str(port)]
    with server(command, port=port, health_path="/_sim/signer.pem") as base:
        for kind in TRANSPORTS:
            asyncio.run(pull(base, args.concurrency, kind))  # warm-up: builds and caches all
            server_before, client_before = cpu_seconds(PIDS[base]), time.process_time()
            documents, calls, elapsed = asyncio.run(pull(base, args.concurrency, kind))
            client_cpu = time.process_time() - client_before
            server_cpu = cpu_seconds(PIDS[base]) - server_before
            print(
                f"pull, {kind:17}: {documents} documents, {calls} HTTP calls in {elapsed:.2f} s "
                f"({calls / elapsed:.0f} calls/s); CPU client {client_cpu:.2f} s "
                f"({client_cpu / calls * 1000:.2f} ms/call), simulator {server_cpu:.2f} s"
            )
        bare = asyncio.run(baseline(base, calls, args.concurrency))
    print(
        f"baseline       : {calls} GET /_sim/signer.pem in {bare:.2f} s "
        f"({calls / bare:.0f} calls/s); the last pull took {elapsed / bare:.2f}x that"
    )


if __name__ == "__main__":
    main()
