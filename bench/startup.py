"""Start-up time and idle memory: `digilocker-gateway serve` on an existing data directory,
from process start to the first 200 on `/healthz`, and its RSS once idle, against a bare
Starlette app under uvicorn (bench/bare_app.py) started the same way in the same run.

Rounds alternate between the two servers; medians are reported. The gateway runs on the
embedded default (SQLite, files, the simulator mounted), so "existing data directory" means
its migrations are applied and its dev client exists: the first, unmeasured start makes them.

    python -m bench.startup [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import bare_app_command, free_port, rss_kib

IDLE_SECONDS = 1.0


def _healthy(port: int) -> bool:
    """One raw `GET /healthz`; True on a 200 (no httpx: its import would be measured)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            head = sock.recv(64)
    except OSError:
        return False
    return head.startswith(b"HTTP/1.1 200")


def start_once(args: list[str], port: int, env: dict[str, str]) -> tuple[float, int]:
    """Seconds from spawning `python args…` to its first 200 on /healthz, and its RSS in KiB
    after `IDLE_SECONDS` of idling."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, *args],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = started + 60
        while not _healthy(port):
            if process.poll() is not None or time.perf_counter() > deadline:
                raise RuntimeError(f"{args} did not start")
            time.sleep(0.005)
        elapsed = time.perf_counter() - started
        time.sleep(IDLE_SECONDS)
        return elapsed, rss_kib(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=15)


def gateway_command(port: int, data_dir: Path) -> list[str]:
    return [
        "-m",
        "digilocker_gateway",
        "serve",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "var"
        env = {"DLG_ENVIRONMENT": "dev", "DLG_LOG_LEVEL": "WARNING"}
        port = free_port()
        start_once(gateway_command(port, data_dir), port, env)  # migrations, dev client
        gateway: list[tuple[float, int]] = []
        bare: list[tuple[float, int]] = []
        for _ in range(options.rounds):
            port = free_port()
            bare.append(start_once(bare_app_command(port), port, {}))
            port = free_port()
            gateway.append(start_once(gateway_command(port, data_dir), port, env))

    def report(name: str, runs: list[tuple[float, int]]) -> tuple[float, float]:
        seconds = statistics.median(run[0] for run in runs)
        mib = statistics.median(run[1] for run in runs) / 1024
        print(f"{name:8} start-up {seconds:6.3f} s   idle RSS {mib:6.1f} MiB")
        return seconds, mib

    bare_s, bare_mib = report("bare", bare)
    gateway_s, gateway_mib = report("gateway", gateway)
    print(
        f"ratio    start-up {gateway_s / bare_s:6.2f}x   idle RSS {gateway_mib / bare_mib:6.2f}x"
        f"   ({options.rounds} rounds, medians)"
    )


if __name__ == "__main__":
    main()
