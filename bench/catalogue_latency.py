"""Catalogue latency and CPU: the full list (gzip, as clients normally ask) and a 304, from a
gateway whose catalogue was refreshed from the embedded simulator. Baseline in the same run: a
bare Starlette endpoint serving the same gzip bytes from memory, served the same way.

Latency is timed one request at a time with httpx. CPU per request is the server process's
user + system time (/proc/<pid>/stat) across a closed loop of bare keep-alive sockets
(`drive_raw`), divided by the requests it answered; it does not depend on how busy the machine
is the way latency does.

    python -m bench.catalogue_latency [--requests 200] [--seconds 4] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from bench.common import PIDS, bare_app_command, cpu_seconds, drive_raw, free_port, server


def timed(
    client: httpx.Client, path: str, headers: dict[str, str], n: int, status: int
) -> list[float]:
    samples: list[float] = []
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        response.read()
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == status, response.status_code
    return samples


def describe(samples: list[float]) -> str:
    ordered = sorted(samples)
    return (
        f"median {statistics.median(ordered):7.2f} ms  "
        f"p95 {ordered[int(len(ordered) * 0.95) - 1]:7.2f} ms"
    )


def cpu_per_request(
    base: str, path: str, headers: dict[str, str], status: int, *, seconds: float, concurrency: int
) -> tuple[float, float]:
    """(server CPU microseconds per request, requests per second) over a closed loop."""
    url = urlsplit(base)
    assert url.hostname is not None
    assert url.port is not None
    pid = PIDS[base]
    before = cpu_seconds(pid)
    result = asyncio.run(
        drive_raw(
            host=url.hostname,
            port=url.port,
            path=path,
            headers=headers,
            seconds=seconds,
            concurrency=concurrency,
            expect_status=status,
        )
    )
    used = cpu_seconds(pid) - before
    if result.errors or not result.requests:
        raise RuntimeError(f"{path}: {result.errors} unexpected answers of {result.requests}")
    return used / result.requests * 1e6, result.rps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    n = args.requests
    load = {"seconds": args.seconds, "concurrency": args.concurrency}
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        port = free_port()
        env = {"DLG_DATA_DIR": str(data_dir), "DLG_PURGE_INTERVAL_SECONDS": "3600"}
        with server(
            ["-m", "digilocker_gateway", "serve", "--port", str(port)], port=port, env=env
        ) as base:
            headers = json.loads((data_dir / "dev-client.json").read_text())
            with httpx.Client(base_url=base, timeout=60) as client:
                deadline = time.monotonic() + 120
                while client.get("/api/digilocker/documents", headers=headers).status_code != 200:
                    if time.monotonic() > deadline:
                        raise RuntimeError("catalogue never became ready")
                    time.sleep(0.5)
                gzip_headers = {**headers, "Accept-Encoding": "gzip"}
                first = client.get("/api/digilocker/documents", headers=gzip_headers)
                etag = first.headers["etag"]
                count = len(first.json()["documents"])
                raw = client.build_request("GET", "/api/digilocker/documents", headers=gzip_headers)
                body = client.send(raw, stream=True)
                compressed = b"".join(body.iter_raw())
                body.close()
                full = timed(client, "/api/digilocker/documents", gzip_headers, n, 200)
                not_modified_headers = {**headers, "If-None-Match": etag}
                not_modified = timed(
                    client, "/api/digilocker/documents", not_modified_headers, n, 304
                )
            path = "/api/digilocker/documents"
            full_cpu = cpu_per_request(base, path, gzip_headers, 200, **load)
            not_modified_cpu = cpu_per_request(base, path, not_modified_headers, 304, **load)
            # The floor every gateway route pays (middleware, routing; no database, no body).
            healthz_cpu = cpu_per_request(base, "/healthz", {}, 200, **load)
        body_file = data_dir / "catalogue.json.gz"
        body_file.write_bytes(compressed)
        port = free_port()
        with (
            server(
                bare_app_command(port),
                port=port,
                cwd=root,
                env={"BENCH_STATIC_BODY": str(body_file)},
            ) as base,
            httpx.Client(base_url=base, timeout=60) as client,
        ):
            bare = timed(client, "/static", {"Accept-Encoding": "gzip"}, n, 200)
            bare_cpu = cpu_per_request(base, "/static", {"Accept-Encoding": "gzip"}, 200, **load)

    print(f"catalogue      : {count} documents, {len(compressed) / 1024:.0f} KiB gzip")
    print(f"full list      : {describe(full)}")
    print(f"304            : {describe(not_modified)}")
    print(f"bare same bytes: {describe(bare)}")
    print(f"ratio full/bare: {statistics.median(full) / statistics.median(bare):.2f}x")
    print(f"ratio 304/bare : {statistics.median(not_modified) / statistics.median(bare):.2f}x")
    print(f"cpu full list  : {full_cpu[0]:7.0f} us/request ({full_cpu[1]:.0f} req/s)")
    print(
        f"cpu 304        : {not_modified_cpu[0]:7.0f} us/request ({not_modified_cpu[1]:.0f} req/s)"
    )
    print(f"cpu /healthz   : {healthz_cpu[0]:7.0f} us/request (the gateway's shared path alone)")
    print(f"cpu bare       : {bare_cpu[0]:7.0f} us/request ({bare_cpu[1]:.0f} req/s)")
    print(f"cpu full/bare  : {full_cpu[0] / bare_cpu[0]:.2f}x")
    print(f"cpu 304/bare   : {not_modified_cpu[0] / bare_cpu[0]:.2f}x")
    print(f"cpu count      : {os.cpu_count()}")


if __name__ == "__main__":
    main()
