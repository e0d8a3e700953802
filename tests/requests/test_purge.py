"""Purge: expired requests go with their tokens and files; live ones stay."""

from __future__ import annotations

import dataclasses

from sqlalchemy import func, select

from digilocker_gateway.db.models import RequestRecord
from digilocker_gateway.jobs import run_once
from digilocker_gateway.requests.tasks import purge_expired
from tests.support import Gateway


async def count(gateway: Gateway) -> int:
    async with gateway.runtime.sessions() as session:
        return int((await session.execute(select(func.count(RequestRecord.id)))).scalar_one())


async def test_purge_deletes_only_expired_requests(gateway: Gateway) -> None:
    await gateway.create_request()
    gateway.clock.advance(gateway.runtime.settings.request_lifetime_seconds - 10)
    live = await gateway.create_request()
    gateway.clock.advance(20)
    assert await purge_expired(gateway.runtime) == 1
    assert await count(gateway) == 1
    response = await gateway.client.get(
        f"/api/digilocker/{live['id']}/status", headers=gateway.headers
    )
    assert response.status_code == 200


async def test_job_lease_lets_only_one_worker_run(gateway: Gateway) -> None:
    runtime = gateway.runtime
    ran: list[str] = []

    async def job(_runtime: object) -> None:
        # While this worker holds the lease, another worker's attempt must not run.
        other = dataclasses.replace(runtime, worker_id="other-worker")
        ran.append("inner" if await run_once(other, "test.job", job, lease_seconds=60) else "")
        ran.append("outer")

    assert await run_once(runtime, "test.job", job, lease_seconds=60)
    assert ran == ["", "outer"]
    # Released afterwards: the other worker can take it now.
    third = dataclasses.replace(runtime, worker_id="third-worker")

    async def quick(_runtime: object) -> None:
        ran.append("third")

    assert await run_once(third, "test.job", quick, lease_seconds=60)
    assert ran[-1] == "third"


async def test_expired_lease_of_a_crashed_worker_is_taken_over(gateway: Gateway) -> None:
    from digilocker_gateway.kit.leases import try_acquire

    runtime = gateway.runtime
    async with runtime.transaction() as session:
        assert await try_acquire(
            session, name="test.crash", holder="crashed", ttl_seconds=30, now=gateway.clock.now()
        )
    async with runtime.transaction() as session:
        assert not await try_acquire(
            session, name="test.crash", holder="alive", ttl_seconds=30, now=gateway.clock.now()
        )
    gateway.clock.advance(31)
    async with runtime.transaction() as session:
        assert await try_acquire(
            session, name="test.crash", holder="alive", ttl_seconds=30, now=gateway.clock.now()
        )
