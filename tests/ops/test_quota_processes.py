"""Two real `digilocker-gateway serve` processes on one database, SQLite file or PostgreSQL
schema: a product instance's quota, set with `admin quotas set`, holds across both — the calls
both processes admit together stay within the limit (counted in the database, ops/quotas.py),
where counters of each process's own would admit the limit twice."""

from __future__ import annotations

import asyncio
import base64
import json
import os
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from digilocker_gateway.ops.quotas import Windows
from tests.support import DatabaseUnderTest
from tests.test_multiprocess import (
    Process,
    _cli,
    _free_port,
    _start,
    _wait_until_answers,
)

pytestmark = pytest.mark.slow

DAY_LIMIT = 30
CALLS_PER_PROCESS = 40
REDIRECT_URL = "https://app.example.com/kyc/done?sessionId=QP"


def _environment(database: DatabaseUnderTest, data_dir: Path, public_base: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("DLG_")}
    env.update(
        DLG_ENVIRONMENT="production",
        DLG_DATABASE_URL=database.url,
        DLG_DATA_DIR=str(data_dir),
        DLG_ENCRYPTION_KEYS="qp:" + base64.b64encode(os.urandom(32)).decode(),
        DLG_PUBLIC_BASE_URL=public_base,
        # Creates never call DigiLocker; nothing listens here.
        DLG_DIGILOCKER_BASE_URL=f"http://127.0.0.1:{_free_port()}/public",
        DLG_DIGILOCKER_CLIENT_ID="QPTEST0001",
        DLG_DIGILOCKER_CLIENT_SECRET="quota-processes-partner-secret",
        DLG_BACKGROUND_JOBS="false",
    )
    if database.schema is not None:
        env["DLG_DATABASE_SCHEMA"] = database.schema
    return env


async def _burst(gateways: list[Process], headers: dict[str, str]) -> list[tuple[str, int, str]]:
    """Creates sent to both processes at once, interleaved: (process, status, Retry-After)."""
    body = {"redirectUrl": REDIRECT_URL}
    async with httpx.AsyncClient(timeout=60) as client:

        async def one(gateway: Process) -> tuple[str, int, str]:
            answer = await client.post(f"{gateway.base}/api/digilocker", json=body, headers=headers)
            return gateway.name, answer.status_code, answer.headers.get("retry-after", "")

        return await asyncio.gather(*(one(gateways[i % 2]) for i in range(2 * CALLS_PER_PROCESS)))


async def test_a_day_quota_holds_across_two_processes(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    ports = [_free_port(), _free_port()]
    env = _environment(database, tmp_path / "data", f"http://127.0.0.1:{ports[0]}")
    _cli(["migrate"], env)
    with ExitStack() as stack:
        gateways = [
            _start(
                stack,
                f"gateway{i}",
                ["serve", "--port", str(port)],
                port=port,
                env=env,
                logs=tmp_path,
            )
            for i, port in enumerate(ports)
        ]
        for gateway in gateways:
            _wait_until_answers(gateway, "/readyz")
        # A fresh instance per try; a second try only if the burst straddled midnight IST
        # (the day's count starts again there, so the total could rightly pass the limit).
        for _ in range(2):
            headers: dict[str, str] = json.loads(_cli(["admin", "create-client", "--json"], env))
            instance = headers["x-product-instance-id"]
            _cli(
                [
                    "admin",
                    "quotas",
                    "set",
                    "--product-instance",
                    instance,
                    "--kind",
                    "create",
                    "--per-day",
                    str(DAY_LIMIT),
                ],
                env,
            )
            day = Windows.at(datetime.now(UTC)).day_start
            answers = await _burst(gateways, headers)
            if Windows.at(datetime.now(UTC)).day_start == day:
                break

    statuses = Counter(status for _, status, _ in answers)
    assert set(statuses) <= {200, 429}, [g.log_text()[-2000:] for g in gateways]
    # Exactly the limit: the database counts every call of both processes one after another
    # (counters of each process's own would have admitted up to twice as many).
    assert statuses[200] == DAY_LIMIT, statuses
    assert statuses[429] == 2 * CALLS_PER_PROCESS - DAY_LIMIT
    assert Counter(name for name, _, _ in answers) == {"gateway0": 40, "gateway1": 40}
    assert all(int(wait) >= 1 for _, status, wait in answers if status == 429)
