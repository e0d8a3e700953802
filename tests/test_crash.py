"""A real `serve` process killed with SIGKILL in the middle of a callback and of a 10 MB download,
then started again, on SQLite and on PostgreSQL: the request is consistent, a retry works, no
partial file is ever served, and no temporary file is left once the restarted process swept.

The simulator runs in its own process with a `trickle_ms` fault on the file (so the download is
still running when the kill comes) or a `latency_ms` fault on the token endpoint (so the callback
is still waiting on DigiLocker).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from digilocker_gateway.config import Settings
from digilocker_gateway.db.engine import build_sessionmaker, engine_for
from digilocker_gateway.db.models import StoredFile
from digilocker_gateway.documents.catalogue import CatalogueDocument, store_catalogue
from digilocker_gateway.simulator.driver import run_journey
from tests.conftest import POSTGRES_URL_ENV, postgres_url
from tests.support import query_of
from tests.test_multiprocess import (
    Process,
    _cli,
    _free_port,
    _schema,
    _start,
    _stop,
    _wait_until_answers,
)

pytestmark = pytest.mark.slow

PARTNER_ID = "CRASHTEST01"
PARTNER_SECRET = "crash-test-partner-secret"
REDIRECT_URL = "https://app.example.com/kyc/done"


@dataclass
class Deployment:
    env: dict[str, str]
    data_dir: Path
    simulator: Process
    headers: dict[str, str]
    port: int
    stack: ExitStack
    gateway: Process | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start_gateway(self) -> Process:
        name = f"gateway-{time.monotonic_ns()}"
        self.gateway = _start(
            self.stack,
            name,
            ["serve", "--port", str(self.port)],
            port=self.port,
            env=self.env,
            logs=self.data_dir.parent,
        )
        _wait_until_answers(self.gateway, "/readyz")
        return self.gateway

    def kill_gateway(self) -> None:
        assert self.gateway is not None
        self.gateway.popen.send_signal(signal.SIGKILL)
        self.gateway.popen.wait(timeout=10)

    def temporaries(self) -> list[Path]:
        return [path for path in (self.data_dir / "files").rglob("*.tmp") if path.is_file()]

    def settings(self) -> Settings:
        return Settings(
            data_dir=self.data_dir,
            database_url=self.env.get("DLG_DATABASE_URL"),
            database_schema=self.env.get("DLG_DATABASE_SCHEMA"),
            encryption_keys=self.env["DLG_ENCRYPTION_KEYS"],
        )


async def _store_catalogue(settings: Settings, documents: list[CatalogueDocument]) -> None:
    # The server would walk the simulator's whole catalogue (tens of seconds); the test stores
    # the copy the session already fetched.
    engine = engine_for(settings)
    try:
        async with build_sessionmaker(engine)() as session, session.begin():
            await store_catalogue(session, documents, now=datetime.now(UTC))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def deployment(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    catalogue_documents: list[CatalogueDocument],
) -> Iterator[Deployment]:
    database_url = postgres_url() if request.param == "postgresql" else None
    if request.param == "postgresql" and database_url is None:
        pytest.skip(f"PostgreSQL crash run skipped: set {POSTGRES_URL_ENV}")
    port, simulator_port = _free_port(), _free_port()
    data_dir = tmp_path / "data"
    env = {name: value for name, value in os.environ.items() if not name.startswith("DLG_")}
    env.update(
        DLG_ENVIRONMENT="production",
        DLG_DATA_DIR=str(data_dir),
        DLG_ENCRYPTION_KEYS=f"crash:{base64.b64encode(os.urandom(32)).decode()}",
        DLG_PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        DLG_DIGILOCKER_BASE_URL=f"http://127.0.0.1:{simulator_port}/public",
        DLG_DIGILOCKER_CLIENT_ID=PARTNER_ID,
        DLG_DIGILOCKER_CLIENT_SECRET=PARTNER_SECRET,
        DLG_CATALOGUE_REFRESH_ON_START="false",
        DLG_INCOMPLETE_WRITE_GRACE_SECONDS="0",
    )
    schema = None
    if database_url is not None:
        schema = f"crash_{uuid.uuid4().hex[:12]}"
        env.update(DLG_DATABASE_URL=database_url, DLG_DATABASE_SCHEMA=schema)
        asyncio.run(_schema(database_url, f'CREATE SCHEMA "{schema}"'))
    with ExitStack() as stack:
        if database_url is not None:
            stack.callback(
                lambda: asyncio.run(_schema(database_url, f'DROP SCHEMA "{schema}" CASCADE'))
            )
        app = f"{PARTNER_ID}:{PARTNER_SECRET}:http://127.0.0.1:{port}/digilocker/callback"
        simulator = _start(
            stack,
            "simulator",
            ["simulator", "--port", str(simulator_port), "--app", app],
            port=simulator_port,
            env=env,
            logs=tmp_path,
        )
        _cli(["migrate"], env)
        headers = json.loads(_cli(["admin", "create-client", "--json"], env))
        deployed = Deployment(env, data_dir, simulator, headers, port, stack)
        asyncio.run(_store_catalogue(deployed.settings(), catalogue_documents))
        _wait_until_answers(simulator, "/_sim/users")
        deployed.start_gateway()
        yield deployed
        if deployed.gateway is not None:
            _stop(deployed.gateway)


@asynccontextmanager
async def browser() -> AsyncIterator[httpx.AsyncClient]:
    # One cookie jar, as one browser: the journey is bound to the browser that opened it.
    async with httpx.AsyncClient(timeout=60) as client:
        yield client


async def _faults(client: httpx.AsyncClient, deployed: Deployment, faults: dict[str, Any]) -> None:
    answer = await client.put(f"{deployed.simulator.base}/_sim/admin/faults", json=faults)
    assert answer.status_code == 200, answer.text


async def _user(client: httpx.AsyncClient, deployed: Deployment, scenario: str) -> dict[str, Any]:
    users = (await client.get(f"{deployed.simulator.base}/_sim/users")).json()
    user: dict[str, Any] = next(u for u in users if u["scenario"] == scenario)
    return user


async def _callback_url(client: httpx.AsyncClient, journey_url: str, user: dict[str, Any]) -> str:
    start = await client.get(journey_url)
    assert start.status_code == 302, start.text
    callback = await run_journey(
        client,
        start.headers["location"],
        identifier=user["identifier"],
        otp=user["otp"],
        pin=user["pin"],
    )
    return str(callback)


async def _status(client: httpx.AsyncClient, deployed: Deployment, request_id: str) -> str:
    answer = await client.get(
        f"{deployed.base}/api/digilocker/{request_id}/status", headers=deployed.headers
    )
    assert answer.status_code == 200, answer.text
    status: str = answer.json()["status"]
    return status


def _large_pdf_body(user: dict[str, Any]) -> dict[str, Any]:
    document = next(d for d in user["documents"] if d["docType"] == "DGCER")
    return {
        "docType": document["docType"],
        "orgId": document["orgId"],
        "format": "pdf",
        "consent": "Y",
        "parameters": [{"name": k, "value": v} for k, v in document["parameters"].items()],
    }


async def _stored_files(deployed: Deployment) -> int:
    engine = engine_for(deployed.settings())
    try:
        async with engine.connect() as connection:
            return int((await connection.execute(select(func.count(StoredFile.id)))).scalar_one())
    finally:
        await engine.dispose()


async def test_killed_during_a_10_mb_download_restarts_clean_and_the_retry_serves_it_whole(
    deployment: Deployment,
) -> None:
    deployed = deployment
    async with browser() as client:
        user = await _user(client, deployed, "large-document")
        created = await client.post(
            f"{deployed.base}/api/digilocker",
            json={"redirectUrl": REDIRECT_URL},
            headers=deployed.headers,
        )
        request_id = created.json()["id"]
        callback = await _callback_url(client, created.json()["url"], user)
        back = await client.get(callback)
        assert query_of(back.headers["location"])["success"] == "true"
        # About 160 pieces of 64 KiB, 40 ms apart: the download runs for several seconds.
        await _faults(client, deployed, {"file": {"trickle_ms": 40}})

        fetching = asyncio.create_task(
            client.post(
                f"{deployed.base}/api/digilocker/{request_id}/document",
                json=_large_pdf_body(user),
                headers=deployed.headers,
            )
        )
        deadline = time.monotonic() + 30
        while not any(path.stat().st_size > 0 for path in deployed.temporaries()):
            assert time.monotonic() < deadline, "the download never reached the blob store"
            assert not fetching.done(), fetching.result().text
            await asyncio.sleep(0.02)
        deployed.kill_gateway()
        with pytest.raises(httpx.TransportError):
            await fetching
        assert deployed.temporaries(), "the kill came after the download finished"
        assert await _stored_files(deployed) == 0

        deployed.start_gateway()
        # The restarted process swept the dead writer's temporary file before it answered.
        assert deployed.temporaries() == []
        assert await _status(client, deployed, request_id) == "authenticated"

        await _faults(client, deployed, {})
        retried = await client.post(
            f"{deployed.base}/api/digilocker/{request_id}/document",
            json=_large_pdf_body(user),
            headers=deployed.headers,
        )
        assert retried.status_code == 200, retried.text
        download = await client.get(retried.json()["fileUrl"])
        assert download.status_code == 200
        assert len(download.content) > 10 * 1024 * 1024
        assert download.content.startswith(b"%PDF")
        assert download.content.rstrip().endswith(b"%%EOF")
        assert await _stored_files(deployed) == 1
        assert deployed.temporaries() == []


async def test_killed_while_the_callback_waits_on_digilocker_the_user_can_consent_again(
    deployment: Deployment,
) -> None:
    deployed = deployment
    async with browser() as client:
        user = await _user(client, deployed, "complete")
        created = await client.post(
            f"{deployed.base}/api/digilocker",
            json={"redirectUrl": REDIRECT_URL},
            headers=deployed.headers,
        )
        request_id = created.json()["id"]
        journey_url = created.json()["url"]
        callback = await _callback_url(client, journey_url, user)
        await _faults(client, deployed, {"token": {"latency_ms": 5000}})

        returning = asyncio.create_task(client.get(callback))
        await asyncio.sleep(1.5)  # the callback is now waiting for the token answer
        assert not returning.done()
        deployed.kill_gateway()
        with pytest.raises(httpx.TransportError):
            await returning

        deployed.start_gateway()
        await _faults(client, deployed, {})
        # Nothing half-done is visible: no tokens were stored, so not authenticated.
        assert await _status(client, deployed, request_id) == "unauthenticated"

        # The same request id can be consented again from its journey URL.
        again = await _callback_url(client, journey_url, user)
        back = await client.get(again)
        assert back.status_code == 302, back.text
        final = query_of(back.headers["location"])
        assert final["success"] == "true", back.headers["location"]
        assert final["id"] == request_id
        assert await _status(client, deployed, request_id) == "authenticated"
