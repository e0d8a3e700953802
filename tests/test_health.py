"""Operations: /healthz (liveness) and /readyz (readiness), and the settings that size the
database pool and bound upstream calls reaching what the runtime builds."""

from __future__ import annotations

import socket
from pathlib import Path

from sqlalchemy.pool import QueuePool

from digilocker_gateway.config import Settings
from digilocker_gateway.db.engine import build_sessionmaker, engine_for
from digilocker_gateway.runtime_build import build_runtime, close_runtime
from digilocker_gateway.storage.blobs import LocalBlobStore
from tests.support import Gateway


def _closed_port() -> int:
    # Bound and released at once: nothing listens there for the length of the test.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_healthy_gateway_answers_healthz_and_readyz_200(gateway: Gateway) -> None:
    health = await gateway.client.get("/healthz")
    ready = await gateway.client.get("/readyz")

    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert (ready.status_code, ready.json()) == (200, {"status": "ready", "upstream": {}})


async def test_unreachable_database_makes_readyz_503_while_healthz_stays_200(
    gateway: Gateway,
) -> None:
    runtime = gateway.runtime
    original = runtime.read_sessions
    unreachable = engine_for(
        runtime.settings.model_copy(
            update={
                "database_url": f"postgresql+asyncpg://postgres@127.0.0.1:{_closed_port()}/gone",
                "database_pool_timeout_seconds": 1,
            }
        )
    )
    # A load balancer must stop sending calls to a process that cannot reach the database, but
    # an orchestrator must not restart it for that: the database, not the process, is broken.
    runtime.read_sessions = build_sessionmaker(unreachable, autocommit=True)
    try:
        ready = await gateway.client.get("/readyz")
        health = await gateway.client.get("/healthz")
    finally:
        runtime.read_sessions = original
        await unreachable.dispose()

    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "unavailable"
    assert set(body["problems"]) == {"database"}
    assert health.status_code == 200
    # Back on the real database the same process is ready again, without a restart.
    assert (await gateway.client.get("/readyz")).status_code == 200


async def test_unwritable_file_store_makes_readyz_503(gateway: Gateway, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_bytes(b"")
    runtime = gateway.runtime
    original = runtime.blobs
    # A file where the blob root should be fails even for root, unlike a read-only directory.
    runtime.blobs = LocalBlobStore(blocker / "files", runtime.keyring)
    try:
        ready = await gateway.client.get("/readyz")
    finally:
        runtime.blobs = original

    assert ready.status_code == 503
    assert set(ready.json()["problems"]) == {"file_store"}


async def test_pool_and_upstream_settings_reach_the_engine_and_http_client(
    tmp_path: Path,
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        # No connection is made: the engine connects lazily and migrations are not run.
        database_url=f"postgresql+asyncpg://postgres@127.0.0.1:{_closed_port()}/unused",
        database_pool_size=7,
        database_pool_timeout_seconds=2.5,
        upstream_connect_timeout_seconds=1.5,
        upstream_read_timeout_seconds=12.0,
    )
    runtime = await build_runtime(settings, check_schema=False)
    try:
        pool = runtime.engine.pool
        assert isinstance(pool, QueuePool)
        assert pool.size() == 7
        assert pool.timeout() == 2.5
        assert runtime.http.timeout.connect == 1.5
        assert runtime.http.timeout.read == 12.0
    finally:
        await close_runtime(runtime)
