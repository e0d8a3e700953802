"""Streaming a fetched file through the gateway's `fileUrl`, against reading the same file
straight from the simulator.

One simulator process stands in for DigiLocker and one `digilocker-gateway serve` process runs
the gateway (SQLite). A journey for the simulator's `large-document` user (a PDF padded past
10 MB) ends in a fetch through the gateway, which stores the file encrypted and hands out its
`fileUrl`; a minimal client signs the same user in straight to the simulator and keeps the
bearer token. Rounds then alternate, at each concurrency, between:

- gateway: GET the `fileUrl` (a signed-URL check, an audit row, the blob read from disk and
  decrypted, streamed);
- direct: GET the simulator's own file endpoint with the bearer token (the PDF from memory,
  with its `hmac` header computed over it).

Reported per concurrency, over all rounds: MB/s each way and their ratio; the gateway's CPU per
MB it served (and the simulator's and this client's, to show neither is the bottleneck). At
the highest concurrency also the gateway's RSS: before the round, sampled through it (peak)
and after, and VmHWM, the kernel's own peak, reset before the round through
/proc/<pid>/clear_refs. Last, the gateway's CPU per download of a small PDF: the part of a
download's cost that does not grow with its size.

    python -m bench.download_stream [--rounds 3] [--downloads 10] [--concurrency 1 10]
        [--client raw|httpx]

The default client reads bare keep-alive sockets into one reused buffer (`sock_recv_into`), so
it spends little CPU per MB; `--client httpx` streams with httpx instead, to compare. Server,
simulator and client share the machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from bench.common import PIDS, cpu_seconds, status_kib
from bench.soak import Caller, Tally
from bench.throughput_processes import (
    PARTNER_ID,
    PARTNER_SECRET,
    REDIRECT_URL,
    Fleet,
    journey_fleet,
)
from digilocker_gateway.config import CALLBACK_PATH
from digilocker_gateway.simulator.driver import run_journey
from digilocker_gateway.upstream.protocol import authorize_url, make_pkce_pair, make_state

SCENARIO = "large-document"
_RECEIVE_BUFFER = 1024 * 1024
MB = 1_000_000
# The gateway's and the simulator's process ids, by role.
PIDS_OF: dict[str, int] = {}


def reset_peak(pid: int) -> bool:
    """Reset the process's VmHWM to its current RSS (Linux 4.0+); False where not allowed."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


@dataclass(frozen=True)
class Target:
    """One URL to download, split for a raw HTTP/1.1 request."""

    host: str
    port: int
    path: str
    headers: dict[str, str]

    @classmethod
    def of(cls, url: str, headers: dict[str, str] | None = None) -> Target:
        parsed = httpx.URL(url)
        path = parsed.raw_path.decode("ascii")
        return cls(parsed.host, parsed.port or 80, path, headers or {})

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{self.path}"


class RawDownloader:
    """GETs over keep-alive sockets, the body read into one reused buffer and thrown away: the
    client's own cost per MB stays a small share of the server's."""

    def __init__(self, target: Target, concurrency: int) -> None:
        self.target = target
        self.request = (
            f"GET {target.path} HTTP/1.1\r\nHost: {target.host}:{target.port}\r\n"
            + "".join(f"{name}: {value}\r\n" for name, value in target.headers.items())
            + "\r\n"
        ).encode("ascii")
        self.idle: list[socket.socket] = []
        self.concurrency = concurrency

    async def _connect(self) -> socket.socket:
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        await loop.sock_connect(sock, (self.target.host, self.target.port))
        return sock

    async def get(self) -> int:
        """One download; the body's length. Raises on anything but a whole 200."""
        loop = asyncio.get_running_loop()
        sock = self.idle.pop() if self.idle else await self._connect()
        buffer = bytearray(_RECEIVE_BUFFER)
        view = memoryview(buffer)
        try:
            await loop.sock_sendall(sock, self.request)
            head = b""
            while b"\r\n\r\n" not in head:
                got = await loop.sock_recv_into(sock, view)
                if not got:
                    raise RuntimeError("connection closed before the response head")
                head += bytes(view[:got])
            head, _, rest = head.partition(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            status = int(lines[0].split(b" ", 2)[1])
            length = None
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if length is None:
                raise RuntimeError("response without Content-Length")
            remaining = length - len(rest)
            while remaining > 0:
                got = await loop.sock_recv_into(sock, view[: min(remaining, len(buffer))])
                if not got:
                    raise RuntimeError(f"body cut short: {remaining} bytes missing")
                remaining -= got
            if status != 200:
                raise RuntimeError(f"status {status}")
        except BaseException:
            sock.close()
            raise
        self.idle.append(sock)
        return length

    async def aclose(self) -> None:
        for sock in self.idle:
            sock.close()
        self.idle.clear()


class HttpxDownloader:
    """The same GETs with httpx, streamed in large chunks."""

    def __init__(self, target: Target, concurrency: int) -> None:
        self.target = target
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        self.client = httpx.AsyncClient(limits=limits, timeout=60)

    async def get(self) -> int:
        received = 0
        async with self.client.stream("GET", self.target.url, headers=self.target.headers) as r:
            if r.status_code != 200:
                raise RuntimeError(f"status {r.status_code}")
            async for chunk in r.aiter_raw(_RECEIVE_BUFFER):
                received += len(chunk)
        return received

    async def aclose(self) -> None:
        await self.client.aclose()


DOWNLOADERS: dict[str, Callable[[Target, int], RawDownloader | HttpxDownloader]] = {
    "raw": RawDownloader,
    "httpx": HttpxDownloader,
}


@contextlib.contextmanager
def rss_sampler(pid: int, interval: float = 0.005) -> Iterator[list[int]]:
    """Sample the process's VmRSS (KiB) from a thread until the block ends."""
    samples: list[int] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append(status_kib(pid, "VmRSS"))
            done.wait(interval)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield samples
    finally:
        done.set()
        thread.join()


@dataclass
class Way:
    """What one way (gateway or direct) did at one concurrency, over all rounds."""

    downloads: int = 0
    bytes: int = 0
    seconds: float = 0.0
    gateway_cpu: float = 0.0
    simulator_cpu: float = 0.0
    client_cpu: float = 0.0
    failures: list[str] = field(default_factory=list)

    @property
    def mb_per_second(self) -> float:
        return self.bytes / MB / self.seconds if self.seconds else 0.0

    def ms_per_mb(self, cpu: float) -> float:
        return cpu * 1000 / (self.bytes / MB) if self.bytes else 0.0


@dataclass
class Memory:
    before_kib: int = 0
    peak_kib: int = 0
    after_kib: int = 0
    hwm_kib: int = 0
    hwm_reset: bool = False


async def _download_round(
    get: Callable[[], Awaitable[int]], count: int, concurrency: int, way: Way
) -> None:
    remaining = iter(range(count))

    async def worker() -> None:
        for _ in remaining:
            try:
                # Awaited first: `way.bytes += await get()` would read the total before the
                # await and lose what the other workers added meanwhile.
                received = await get()
                way.bytes += received
                way.downloads += 1
            except Exception as exc:
                way.failures.append(f"{type(exc).__name__}: {exc}")

    gateway_pid, simulator_pid = PIDS_OF["gateway"], PIDS_OF["simulator"]
    cpu, sim_cpu, own = cpu_seconds(gateway_pid), cpu_seconds(simulator_pid), time.process_time()
    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    way.seconds += time.perf_counter() - began
    way.gateway_cpu += cpu_seconds(gateway_pid) - cpu
    way.simulator_cpu += cpu_seconds(simulator_pid) - sim_cpu
    way.client_cpu += time.process_time() - own


async def file_urls(target: Fleet) -> tuple[Target, Target, int]:
    """(the gateway's fileUrl, the simulator's file endpoint with a bearer token, its size)."""
    users = httpx.get(f"{target.simulator}/_sim/users").json()
    user = next(u for u in users if u["scenario"] == SCENARIO)
    document = next(d for d in user["documents"] if d["issued"])
    credentials = {"identifier": user["identifier"], "otp": user["otp"], "pin": user["pin"]}
    base = target.bases[0]
    async with httpx.AsyncClient(timeout=120) as client:
        # Through the gateway: a request, the user's consent, a fetch that stores the PDF.
        created = await client.post(
            f"{base}/api/digilocker",
            json={"redirectUrl": REDIRECT_URL, "docType": document["docType"]},
            headers=target.headers,
        )
        created.raise_for_status()
        request = created.json()
        start = await client.get(request["url"])
        callback = await run_journey(client, start.headers["location"], **credentials)
        back = await client.get(str(callback))
        if back.status_code != 302 or "success=true" not in back.headers.get("location", ""):
            raise RuntimeError(f"gateway journey failed: {back.status_code}")
        fetched = await client.post(
            f"{base}/api/digilocker/{request['id']}/document",
            json={
                "docType": document["docType"],
                "orgId": document["orgId"],
                "format": "pdf",
                "consent": "Y",
                "parameters": [
                    {"name": name, "value": value} for name, value in document["parameters"].items()
                ],
            },
            headers=target.headers,
        )
        if fetched.status_code != 200:
            raise RuntimeError(f"fetch failed: {fetched.status_code} {fetched.text}")
        gateway = Target.of(fetched.json()["fileUrl"])

        # Straight to the simulator, as bench/journey_cost.py's minimal client does.
        public = f"{target.simulator}/public"
        verifier, challenge = make_pkce_pair()
        redirect_uri = f"{base}{CALLBACK_PATH}"
        url = authorize_url(
            public,
            client_id=PARTNER_ID,
            redirect_uri=redirect_uri,
            state=make_state(),
            code_challenge=challenge,
            req_doctype=[document["docType"]],
        )
        callback = await run_journey(client, url, **credentials)
        token = await client.post(
            f"{public}/oauth2/1/token",
            data={
                "grant_type": "authorization_code",
                "code": callback.params["code"],
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
                "client_id": PARTNER_ID,
                "client_secret": PARTNER_SECRET,
            },
        )
        token.raise_for_status()
        bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
        issued = await client.get(f"{public}/oauth2/2/files/issued", headers=bearer)
        uri = next(
            item["uri"] for item in issued.json()["items"] if item["doctype"] == document["docType"]
        )
        direct = Target.of(f"{public}/oauth2/1/file/{quote(uri, safe='')}", bearer)
        # Both serve the same bytes.
        one = await client.get(gateway.url)
        two = await client.get(direct.url, headers=direct.headers)
        if one.status_code != 200 or one.content != two.content:
            raise RuntimeError("the gateway and the simulator serve different bytes")
        return gateway, direct, len(one.content)


async def small_file_url(target: Fleet) -> Target:
    """The `fileUrl` of a small PDF (the `complete` user's PAN card), fetched through the
    gateway as bench/soak.py's caller does: what a download costs the gateway whatever its size
    (the signed-URL check, the file's row, the audit row, the response)."""
    async with httpx.AsyncClient(timeout=60) as client:
        caller = Caller(target, client, Tally())
        created = await caller.api(
            "create", "POST", "", json={"redirectUrl": REDIRECT_URL, "docType": "PANCR"}
        )
        await caller.consent(created["url"])
        document = caller.document
        fetched = await caller.api(
            "fetch",
            "POST",
            f"/{created['id']}/document",
            json={
                "docType": document["docType"],
                "orgId": document["orgId"],
                "format": "pdf",
                "consent": "Y",
                "parameters": [
                    {"name": name, "value": value} for name, value in document["parameters"].items()
                ],
            },
        )
    return Target.of(fetched["fileUrl"])


async def per_download_cpu(small: Target, downloads: int) -> tuple[float, int]:
    """(gateway CPU ms per download of the small file, its size), one at a time."""
    downloader = RawDownloader(small, 1)
    try:
        size = await downloader.get()  # warm-up
        pid = PIDS_OF["gateway"]
        before = cpu_seconds(pid)
        for _ in range(downloads):
            await downloader.get()
        return (cpu_seconds(pid) - before) * 1000 / downloads, size
    finally:
        await downloader.aclose()


async def measure(
    gateway: Target,
    direct: Target,
    *,
    client: str,
    concurrency: int,
    downloads: int,
    rounds: int,
    watch_memory: bool,
) -> tuple[Way, Way, Memory]:
    through, straight, memory = Way(), Way(), Memory()
    pid = PIDS_OF["gateway"]
    make = DOWNLOADERS[client]
    via_gateway, via_simulator = make(gateway, concurrency), make(direct, concurrency)
    try:
        # Warm-up both ways: connections, imports, caches.
        await _download_round(via_gateway.get, concurrency, concurrency, Way())
        await _download_round(via_simulator.get, concurrency, concurrency, Way())
        for _ in range(rounds):
            if watch_memory and not memory.before_kib:
                memory.before_kib = status_kib(pid, "VmRSS")
                memory.hwm_reset = reset_peak(pid)
                with rss_sampler(pid) as samples:
                    await _download_round(via_gateway.get, downloads, concurrency, through)
                memory.peak_kib = max(samples, default=0)
                memory.after_kib = status_kib(pid, "VmRSS")
                memory.hwm_kib = status_kib(pid, "VmHWM")
            else:
                await _download_round(via_gateway.get, downloads, concurrency, through)
            await _download_round(via_simulator.get, downloads, concurrency, straight)
    finally:
        await via_gateway.aclose()
        await via_simulator.aclose()
    return through, straight, memory


def report(concurrency: int, through: Way, straight: Way) -> dict[str, Any]:
    ratio = through.mb_per_second / straight.mb_per_second if straight.mb_per_second else 0.0
    print(
        f"x{concurrency:<3} gateway {through.mb_per_second:7.1f} MB/s  direct "
        f"{straight.mb_per_second:7.1f} MB/s  ratio {ratio:.2f}x  |  gateway CPU "
        f"{through.ms_per_mb(through.gateway_cpu):5.2f} ms/MB  simulator CPU "
        f"{straight.ms_per_mb(straight.simulator_cpu):5.2f} ms/MB  client CPU "
        f"{through.ms_per_mb(through.client_cpu):5.2f} / "
        f"{straight.ms_per_mb(straight.client_cpu):5.2f} ms/MB  "
        f"({through.downloads}+{straight.downloads} downloads, "
        f"failed {len(through.failures)}/{len(straight.failures)})",
        flush=True,
    )
    for failure in (through.failures + straight.failures)[:5]:
        print(f"    {failure}")
    return {"ratio": ratio}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--downloads", type=int, default=10, help="downloads per round and way (at least x)"
    )
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--client", choices=sorted(DOWNLOADERS), default="raw")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, journey_fleet(Path(tmp), database_url=None) as fleet:
        PIDS_OF["gateway"] = PIDS[fleet.bases[0]]
        PIDS_OF["simulator"] = PIDS[fleet.simulator]
        gateway, direct, size = asyncio.run(file_urls(fleet))
        print(f"file: {size / MB:.1f} MB PDF ({SCENARIO} user), client: {args.client}")
        memories: dict[int, Memory] = {}
        for concurrency in args.concurrency:
            through, straight, memory = asyncio.run(
                measure(
                    gateway,
                    direct,
                    client=args.client,
                    concurrency=concurrency,
                    downloads=max(args.downloads, concurrency),
                    rounds=args.rounds,
                    watch_memory=concurrency == max(args.concurrency),
                )
            )
            report(concurrency, through, straight)
            memories[concurrency] = memory
        fixed_ms, small_size = asyncio.run(per_download_cpu(asyncio.run(small_file_url(fleet)), 50))
        print(
            f"fixed cost: {fixed_ms:.2f} ms of gateway CPU per download of a {small_size} B file "
            f"({fixed_ms / (size / MB):.2f} ms/MB of a {size / MB:.1f} MB one)"
        )
        top = max(args.concurrency)
        memory = memories[top]
        hwm = (
            f"VmHWM {memory.hwm_kib / 1024:.1f} MiB (reset before the round)"
            if memory.hwm_reset
            else f"VmHWM {memory.hwm_kib / 1024:.1f} MiB (process lifetime: reset not allowed)"
        )
        print(
            f"gateway RSS, x{top} downloads of {size / MB:.0f} MB: {memory.before_kib / 1024:.1f} "
            f"MiB before, peak {memory.peak_kib / 1024:.1f} MiB sampled "
            f"(+{(memory.peak_kib - memory.before_kib) / 1024:.1f} MiB), "
            f"{memory.after_kib / 1024:.1f} MiB after; {hwm}, "
            f"+{(memory.hwm_kib - memory.before_kib) / 1024:.1f} MiB"
        )
    print(f"cpu count: {os.cpu_count()}  (gateway, simulator and client share them)")


if __name__ == "__main__":
    main()
