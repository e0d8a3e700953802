"""A real `serve` process killed with SIGKILL right after an event's commit, before it could
deliver it: the restarted process delivers it, once (the outbox, docs/webhooks.md §4)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.conftest import POSTGRES_URL_ENV, postgres_url
from tests.test_multiprocess import _free_port, _schema, _start, _wait_until_answers
from tests.webhooks.receiver import receiving

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_event_committed_by_a_killed_process_is_delivered_after_restart(
    backend: str, tmp_path: Path
) -> None:
    database_url = postgres_url() if backend == "postgresql" else None
    if backend == "postgresql" and database_url is None:
        pytest.skip(f"PostgreSQL run skipped: set {POSTGRES_URL_ENV}")
    port = _free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("DLG_")}
    env.update(
        DLG_DATA_DIR=str(tmp_path / "data"),
        DLG_PORT=str(port),
        DLG_CATALOGUE_REFRESH_ON_START="false",
        # The first process polls once at start and then not for an hour: it cannot deliver.
        DLG_WEBHOOK_POLL_SECONDS="3600",
    )
    schema = f"killed_{uuid.uuid4().hex[:12]}"
    if database_url is not None:
        env.update(DLG_DATABASE_URL=database_url, DLG_DATABASE_SCHEMA=schema)
        asyncio.run(_schema(database_url, f'CREATE SCHEMA "{schema}"'))
    base = f"http://127.0.0.1:{port}"
    with ExitStack() as stack, receiving() as receiver:
        if database_url is not None:
            stack.callback(
                lambda: asyncio.run(_schema(database_url, f'DROP SCHEMA "{schema}" CASCADE'))
            )
        first = _start(stack, "first", ["serve"], port=port, env=env, logs=tmp_path)
        _wait_until_answers(first, "/readyz")
        headers = json.loads((tmp_path / "data" / "dev-client.json").read_text())
        headers = {k: v for k, v in headers.items() if k.startswith("x-")}
        made = httpx.post(
            base + "/api/digilocker/webhooks", json={"url": receiver.url}, headers=headers
        )
        assert made.status_code == 201, made.text
        receiver.secrets.append(made.json()["secret"])
        created = httpx.post(
            base + "/api/digilocker",
            json={"redirectUrl": "https://app.example.com/done"},
            headers=headers,
        )
        assert created.status_code == 200, created.text
        first.popen.send_signal(signal.SIGKILL)
        first.popen.wait(timeout=30)
        assert receiver.received == []

        env["DLG_WEBHOOK_POLL_SECONDS"] = "0.2"
        second = _start(stack, "second", ["serve"], port=port, env=env, logs=tmp_path)
        _wait_until_answers(second, "/readyz")
        deadline = time.monotonic() + 60
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1)  # a duplicate, if there were one, would come within the next polls

        [message] = receiver.received
        assert message.payload["type"] == "request.created"
        assert message.payload["data"]["id"] == created.json()["id"]
        assert message.verified_by == [0]
