"""`requests.purge`: delete expired requests with their tokens and files, expired files of
live requests, expired offline e-KYC uploads, and what a crash left in the blob store. Rows are
claimed with FOR UPDATE SKIP LOCKED (PostgreSQL), so any number of processes can purge at once
without doing the same work twice."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from digilocker_gateway.audit import log as audit
from digilocker_gateway.db.models import OfflineEkycFile, RequestRecord, StoredFile
from digilocker_gateway.requests.files import delete_request_files
from digilocker_gateway.runtime import Runtime
from digilocker_gateway.webhooks import events

logger = logging.getLogger("digilocker_gateway.purge")


async def purge_expired(runtime: Runtime, *, batch_size: int = 200) -> int:
    """Purge until nothing expired is left; returns how many requests were deleted."""
    purged = 0
    while True:
        now = runtime.clock.now()
        async with runtime.transaction() as session:
            expired = (
                await session.execute(
                    select(RequestRecord.id, RequestRecord.product_instance_id)
                    .where(RequestRecord.valid_upto <= now)
                    .limit(batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            ids = [request_id for request_id, _ in expired]
            for request_id, product_instance_id in expired:
                await delete_request_files(runtime, session, request_id)
                await _report_purge(runtime, session, product_instance_id, request_id, now)
            if ids:
                await session.execute(delete(RequestRecord).where(RequestRecord.id.in_(ids)))
        purged += len(ids)
        if len(ids) < batch_size:
            break
    await _purge_expired_blobs(runtime, StoredFile, batch_size=batch_size)
    await _purge_expired_blobs(runtime, OfflineEkycFile, batch_size=batch_size)
    await sweep_blobs(runtime)
    if purged:
        logger.info("purged %d expired requests", purged)
    return purged


async def _report_purge(
    runtime: Runtime,
    session: AsyncSession,
    product_instance_id: str,
    request_id: str,
    now: datetime,
) -> None:
    """The request reached its `validUpto` and its data is gone: both are events and audit
    rows, written in the purge's transaction (docs/webhooks.md §2, docs/audit.md §2)."""
    for event_type, action in (
        (events.REQUEST_EXPIRED, audit.REQUEST_EXPIRED),
        (events.REQUEST_PURGED, audit.REQUEST_PURGED),
    ):
        await events.emit(
            session,
            product_instance_id=product_instance_id,
            request_id=request_id,
            event_type=event_type,
            data={},
            now=now,
        )
        await audit.append(
            session,
            runtime.keyring,
            product_instance_id=product_instance_id,
            request_id=request_id,
            action=action,
            actor=audit.GATEWAY_ACTOR,
            details={},
            now=now,
            heads=runtime.audit_heads,
        )


_WithBlob = TypeVar("_WithBlob", StoredFile, OfflineEkycFile)


async def _purge_expired_blobs(
    runtime: Runtime, model: type[_WithBlob], *, batch_size: int
) -> None:
    """Delete the rows of `model` (a stored file or an offline upload) past their `valid_upto`,
    with their blobs, a batch per transaction."""
    while True:
        now = runtime.clock.now()
        async with runtime.transaction() as session:
            rows = (
                (
                    await session.execute(
                        select(model)
                        .where(model.valid_upto <= now)
                        .limit(batch_size)
                        .with_for_update(skip_locked=True)
                    )
                )
                .scalars()
                .all()
            )
            for row in rows:
                await runtime.blobs.delete(row.blob_key)
                await session.delete(row)
        if len(rows) < batch_size:
            return


async def sweep_unfinished_writes(runtime: Runtime) -> int:
    """Remove blob writes a killed process never finished; run at start and by the purge."""
    grace = timedelta(seconds=runtime.settings.incomplete_write_grace_seconds)
    return await runtime.blobs.sweep_incomplete(started_before=runtime.clock.now() - grace)


async def sweep_blobs(runtime: Runtime) -> tuple[int, int]:
    """Remove what a crash left in the blob store: unfinished writes, and blobs whose row was
    never committed (killed between writing the blob and committing its row). Returns
    (unfinished writes removed, orphan blobs removed)."""
    settings = runtime.settings
    now = runtime.clock.now()
    incomplete = await sweep_unfinished_writes(runtime)
    # Candidates first, rows second: a blob listed here was written before the cut-off, so its
    # row, if it is ever to have one, has been committed by the time the rows are read.
    cut_off = now - timedelta(seconds=settings.orphan_blob_grace_seconds)
    candidates = [locator async for locator in runtime.blobs.stored_before(cut_off)]
    orphans = 0
    if candidates:
        async with runtime.reading() as session:
            keys = (await session.execute(select(StoredFile.blob_key))).scalars().all()
            offline = (await session.execute(select(OfflineEkycFile.blob_key))).scalars().all()
        owned = {runtime.blobs.locator(key) for key in (*keys, *offline)}
        for locator in candidates:
            if locator not in owned:
                await runtime.blobs.delete_located(locator)
                orphans += 1
    if incomplete or orphans:
        logger.info(
            "removed %d unfinished blob writes and %d blobs without a row", incomplete, orphans
        )
    return incomplete, orphans
