"""Benchmark plumbing: start a server in a subprocess on 127.0.0.1, wait for it, drive load."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

# The process id of every server `server` started, by base URL (for RSS and CPU readings).
PIDS: dict[str, int] = {}


def status_kib(pid: int, field_name: str) -> int:
    """A field of /proc/<pid>/status in KiB (VmRSS, VmHWM; Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field_name} for process {pid}")


def rss_kib(pid: int) -> int:
    """A process's resident set size in KiB."""
    return status_kib(pid, "VmRSS")


def cpu_seconds(pid: int) -> float:
    """A process's user + system CPU time so far, in seconds, from /proc/<pid>/stat (Linux)."""
    # The command name may hold spaces and parentheses: the fields start after the last ")".
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def bare_app_command(port: int) -> list[str]:
    """The baseline server: bench/bare_app.py under uvicorn, served like the gateway."""
    return [
        "-m",
        "uvicorn",
        "bench.bare_app:app",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]


@contextlib.contextmanager
def server(
    args: list[str],
    *,
    port: int,
    env: dict[str, str] | None = None,
    health_path: str = "/healthz",
    cwd: Path | None = None,
) -> Iterator[str]:
    """Run `python -m ...args` until the block ends; yields its base URL. Its log goes to a
    temporary file, not a pipe: a pipe nobody reads fills up with the access log and stalls the
    server."""
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [sys.executable, *args],
        env={**os.environ, **(env or {})},
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    PIDS[base] = process.pid
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                log.seek(0)
                raise RuntimeError(log.read().decode(errors="replace") or "died")
            try:
                if httpx.get(base + health_path, timeout=1).status_code < 500:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"server on port {port} did not start")
        yield base
    finally:
        PIDS.pop(base, None)
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@dataclass
class LoadResult:
    requests: int
    seconds: float
    errors: int
    latencies_ms: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        lat = sorted(self.latencies_ms) or [0.0]
        p95 = lat[min(len(lat) - 1, int(len(lat) * 0.95))]
        return (
            f"{self.rps:8.0f} req/s  median {statistics.median(lat):6.2f} ms  "
            f"p95 {p95:6.2f} ms  errors {self.errors}"
        )


async def drive(
    call: Callable[[httpx.AsyncClient], Awaitable[httpx.Response]],
    *,
    base_url: str,
    seconds: float,
    concurrency: int,
    expect_status: int = 200,
) -> LoadResult:
    """Bounded closed-loop load: `concurrency` workers, each looping until `seconds` pass."""
    latencies: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=10) as client:

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                try:
                    response = await call(client)
                    if response.status_code != expect_status:
                        errors += 1
                except httpx.HTTPError:
                    errors += 1
                latencies.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return LoadResult(len(latencies), elapsed, errors, latencies)


async def drive_raw(
    *,
    host: str,
    port: int,
    path: str,
    headers: dict[str, str],
    seconds: float,
    concurrency: int,
    expect_status: int = 200,
) -> LoadResult:
    """The same closed loop over bare keep-alive sockets: httpx itself tops out at a few
    hundred requests a second here, which would make the client, not the server, the thing
    measured. Only for GETs answered with Content-Length."""
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        + "\r\n"
    ).encode()
    latencies: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                writer.write(request)
                await writer.drain()
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                await reader.readexactly(length)
                if status != expect_status:
                    errors += 1
                latencies.append((time.perf_counter() - started) * 1000)
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return LoadResult(len(latencies), time.perf_counter() - started, errors, latencies)
