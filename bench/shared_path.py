"""CPU per call of the gateway's shared request path, in process: the ASGI app called directly
(no uvicorn, no sockets, no load generator sharing the cores), against a bare Starlette app
(bench/bare_app.py) called the same way in the same process. What it shows is what the
gateway's own layers cost: FastAPI's routing and dependencies, the middleware, the access log,
authentication, serialisation and, for status, the database read.

    python -m bench.shared_path [--calls 2000] [--repeats 3]

CPU is this process's (all threads) per call, the best of `--repeats` runs of `--calls` calls;
the app runs on the embedded default with its background jobs, as `serve` does, its access log
rendered into /dev/null.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

Call = Callable[[], Awaitable[int]]


def _asgi_call(
    app: Any, path: str, headers: list[tuple[bytes, bytes]], state: dict[str, Any]
) -> Call:
    messages = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        return messages[0]

    async def call() -> int:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "state": dict(state),
        }
        status = 0

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        await app(scope, receive, send)
        return status

    return call


async def _started(app: Any, state: dict[str, Any]) -> Callable[[], Awaitable[None]]:
    """Run the app's lifespan startup; returns what shuts it down."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await inbox.put({"type": "lifespan.startup"})
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": state}
    task = asyncio.create_task(app(scope, inbox.get, outbox.put))
    message = await outbox.get()
    if message["type"] != "lifespan.startup.complete":
        raise RuntimeError(f"start-up failed: {message}")

    async def stop() -> None:
        await inbox.put({"type": "lifespan.shutdown"})
        await outbox.get()
        await task

    return stop


async def _cpu_per_call(call: Call, expect: int, *, calls: int, repeats: int) -> float:
    for _ in range(200):  # warm-up: caches, compiled statements
        status = await call()
    if status != expect:
        raise RuntimeError(f"answered {status}, expected {expect}")
    best = float("inf")
    for _ in range(repeats):
        started = time.process_time()
        for _ in range(calls):
            await call()
        best = min(best, (time.process_time() - started) / calls)
    return best * 1e6


async def run(calls: int, repeats: int) -> dict[str, float]:
    from bench import bare_app
    from digilocker_gateway.app import create_app
    from digilocker_gateway.config import Settings
    from digilocker_gateway.devclient import ensure_dev_client
    from digilocker_gateway.ops.logs import configure_logging

    settings = Settings()
    configure_logging(settings.effective_log_format, settings.log_level)
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(open(os.devnull, "w"))
    credentials = await ensure_dev_client(settings)
    app = create_app(settings)
    state: dict[str, Any] = {}
    stop = await _started(app, state)
    try:
        headers = [(name.encode(), value.encode()) for name, value in credentials.items()]
        documents = _asgi_call(app, "/api/digilocker/documents", headers, state)
        deadline = time.monotonic() + 120
        while await documents() != 200:  # the catalogue refresh at start-up
            if time.monotonic() > deadline:
                raise RuntimeError("catalogue never became ready")
            await asyncio.sleep(0.5)
        runtime = app.state.runtime
        snapshot = await runtime.catalogue.current(runtime.reading, revalidate_seconds=60)
        created = await _create_request(app, headers, state)
        gzip = [*headers, (b"accept-encoding", b"gzip")]
        not_modified = [*headers, (b"if-none-match", snapshot.etag.encode())]
        bare_status = "/api/digilocker/00000000-0000-4000-8000-000000000000/status"
        targets: dict[str, tuple[Call, int]] = {
            "bare /healthz": (_asgi_call(bare_app.app, "/healthz", [], {}), 200),
            "bare status": (_asgi_call(bare_app.app, bare_status, [], {}), 200),
            "bare catalogue": (_asgi_call(bare_app.app, "/static", [], {}), 200),
            "/healthz": (_asgi_call(app, "/healthz", [], state), 200),
            "catalogue": (_asgi_call(app, "/api/digilocker/documents", gzip, state), 200),
            "catalogue 304": (
                _asgi_call(app, "/api/digilocker/documents", not_modified, state),
                304,
            ),
            "status": (_asgi_call(app, f"/api/digilocker/{created}/status", headers, state), 200),
        }
        return {
            name: await _cpu_per_call(call, expect, calls=calls, repeats=repeats)
            for name, (call, expect) in targets.items()
        }
    finally:
        await stop()


async def _create_request(app: Any, headers: list[tuple[bytes, bytes]], state: Any) -> str:
    body = json.dumps({"redirectUrl": "https://example.com/done"}).encode()
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/digilocker",
        "raw_path": b"/api/digilocker",
        "query_string": b"",
        "root_path": "",
        "headers": [*headers, (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": dict(state),
    }
    await app(scope, receive, send)
    answer = json.loads(b"".join(m.get("body", b"") for m in sent[1:]))
    request_id: str = answer["id"]
    return request_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        os.environ["DLG_DATA_DIR"] = str(Path(data_dir))
        os.environ.setdefault("DLG_PURGE_INTERVAL_SECONDS", "3600")
        result = asyncio.run(run(args.calls, args.repeats))
    for name, micros in result.items():
        print(f"{name:15s}: {micros:7.1f} us/call")
    print(f"catalogue/bare : {result['catalogue'] / result['bare catalogue']:.2f}x")
    print(f"304/bare       : {result['catalogue 304'] / result['bare catalogue']:.2f}x")
    print(f"status/bare    : {result['status'] / result['bare status']:.2f}x")
    print(f"cpu count      : {os.cpu_count()}")


if __name__ == "__main__":
    main()
