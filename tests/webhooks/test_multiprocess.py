"""Two gateway processes on one PostgreSQL database deliver each event exactly once between
them: deliveries are claimed row by row (FOR UPDATE SKIP LOCKED, then a claim)."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from digilocker_gateway.webhooks.delivery import deliver_until_idle
from tests.support import DatabaseUnderTest, running_gateway
from tests.webhooks.receiver import receiving
from tests.webhooks.support import add_endpoint


async def test_two_processes_deliver_each_event_once_between_them(
    postgres_database: DatabaseUnderTest, tmp_path: Path
) -> None:
    with receiving() as receiver:
        async with (
            running_gateway(postgres_database, tmp_path, webhook_batch_size=5) as one,
            running_gateway(postgres_database, tmp_path, webhook_batch_size=5) as two,
        ):
            one.runtime.worker_id = "process-one"
            two.runtime.worker_id = "process-two"
            await add_endpoint(one, receiver)
            created = [await one.create_request() for _ in range(40)]

            sent = await asyncio.gather(
                deliver_until_idle(one.runtime), deliver_until_idle(two.runtime)
            )

            assert sum(sent) == 40
            counts = Counter(message.message_id for message in receiver.received)
            assert len(counts) == 40
            assert set(counts.values()) == {1}
            assert {m.payload["data"]["id"] for m in receiver.received} == {
                item["id"] for item in created
            }
