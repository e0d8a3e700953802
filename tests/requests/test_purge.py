"""Purge: expired requests go with their tokens and files; live ones stay."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from digilocker_gateway.db.models import RequestRecord, StoredFile
from digilocker_gateway.jobs import run_once
from digilocker_gateway.requests.tasks import purge_expired, sweep_blobs
from tests.documents.test_fetch import authenticated, fetch, fetch_body, pick
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


async def single(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def test_purge_deletes_a_blob_without_a_row_after_the_grace_period_only(
    catalogued_gateway: Gateway,
) -> None:
    gateway = catalogued_gateway
    request_id, user = await authenticated(gateway, "complete")
    fetched = await fetch(gateway, request_id, fetch_body(pick(user, issued=True)))
    assert fetched.status_code == 200, fetched.text
    blobs = gateway.runtime.blobs
    # What a process killed between writing a blob and committing its row leaves behind.
    orphan = f"requests/{request_id}/orphan-synthetic"
    await blobs.put(orphan, single(b"%PDF-1.7 orphan"), content_type="application/pdf")
    grace = gateway.runtime.settings.orphan_blob_grace_seconds

    gateway.clock.set(datetime.now(UTC) + timedelta(seconds=grace - 60))
    assert await sweep_blobs(gateway.runtime) == (0, 0)
    assert await blobs.exists(orphan)

    gateway.clock.set(datetime.now(UTC) + timedelta(seconds=grace + 5))
    assert await sweep_blobs(gateway.runtime) == (0, 1)
    assert not await blobs.exists(orphan)
    async with gateway.runtime.sessions() as session:
        owned = (await session.execute(select(StoredFile.blob_key))).scalars().all()
    assert owned
    for key in owned:
        assert await blobs.exists(key)
