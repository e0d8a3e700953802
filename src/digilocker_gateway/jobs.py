"""Background jobs, run by every gateway process. A lease per job (kit/leases.py) makes sure
only one process runs a job at a time; a crashed process's lease expires and another takes over."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from digilocker_gateway.documents.tasks import catalogue_due, refresh_catalogue
from digilocker_gateway.kit.leases import last_run, release, try_acquire
from digilocker_gateway.requests.tasks import purge_expired, sweep_unfinished_writes
from digilocker_gateway.runtime import Runtime
from digilocker_gateway.webhooks.delivery import delivery_loop
from digilocker_gateway.webhooks.tasks import prune_webhooks_and_audit

logger = logging.getLogger("digilocker_gateway.jobs")

Job = Callable[[Runtime], Awaitable[object]]
Due = Callable[[Runtime], Awaitable[bool]]


def every(name: str, seconds: float) -> Due:
    async def due(runtime: Runtime) -> bool:
        async with runtime.reading() as session:
            previous = await last_run(session, name)
        return previous is None or previous + timedelta(seconds=seconds) <= runtime.clock.now()

    return due


async def run_once(
    runtime: Runtime, name: str, job: Job, *, lease_seconds: float, due: Due | None = None
) -> bool:
    """Run `job` if this process can take its lease (and, with `due`, the job is still due
    once the lease is held: another process may have just run it); True if it ran."""
    now = runtime.clock.now()
    async with runtime.transaction() as session:
        acquired = await try_acquire(
            session, name=name, holder=runtime.worker_id, ttl_seconds=lease_seconds, now=now
        )
    if not acquired:
        return False
    ran = False
    try:
        if due is None or await due(runtime):
            await job(runtime)
            ran = True
    finally:
        async with runtime.transaction() as session:
            await release(
                session,
                name=name,
                holder=runtime.worker_id,
                ran_at=runtime.clock.now() if ran else None,
            )
    return ran


async def _loop(
    runtime: Runtime, name: str, job: Job, due: Due, *, poll_seconds: float, lease_seconds: float
) -> None:
    while True:
        try:
            if await due(runtime):
                await run_once(runtime, name, job, lease_seconds=lease_seconds, due=due)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a failed run is retried at the next poll
            logger.warning("job %s failed: %s", name, type(exc).__name__)
        await asyncio.sleep(poll_seconds)


async def sweep_at_start(runtime: Runtime) -> None:
    """Remove the unfinished writes of a process that was killed: a restart after a crash
    starts clean. A store that cannot be reached now is swept by the next purge instead."""
    try:
        removed = await sweep_unfinished_writes(runtime)
    except Exception as exc:
        logger.warning("could not sweep unfinished blob writes at start: %s", type(exc).__name__)
        return
    if removed:
        logger.info("removed %d unfinished blob writes left by a stopped process", removed)


def start_background_jobs(runtime: Runtime) -> list[asyncio.Task[None]]:
    settings = runtime.settings
    purge_every = settings.purge_interval_seconds
    return [
        asyncio.create_task(
            _loop(
                runtime,
                "requests.purge",
                purge_expired,
                every("requests.purge", purge_every),
                poll_seconds=min(purge_every, 60),
                lease_seconds=max(purge_every, 60),
            ),
            name="requests.purge",
        ),
        asyncio.create_task(
            _loop(
                runtime,
                "documents.refresh_catalogue",
                refresh_catalogue,
                catalogue_due,
                poll_seconds=60,
                lease_seconds=3600,
            ),
            name="documents.refresh_catalogue",
        ),
        # Every process delivers: rows are claimed one by one (webhooks/delivery.py), so no
        # job lease is needed and deliveries spread over the processes.
        asyncio.create_task(delivery_loop(runtime), name="webhooks.deliver"),
        asyncio.create_task(
            _loop(
                runtime,
                "webhooks.prune",
                prune_webhooks_and_audit,
                every("webhooks.prune", 3600),
                poll_seconds=60,
                lease_seconds=3600,
            ),
            name="webhooks.prune",
        ),
    ]
