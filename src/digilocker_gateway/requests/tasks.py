"""`requests.purge`: delete expired requests with their tokens and files, expired files of
live requests, and expired offline e-KYC uploads. Rows are claimed with FOR UPDATE SKIP LOCKED
(PostgreSQL), so any number of processes can purge at once without doing the same work twice."""

from __future__ import annotations

import logging

from sqlalchemy import delete, select

from digilocker_gateway.db.models import OfflineEkycFile, RequestRecord, StoredFile
from digilocker_gateway.requests.files import delete_request_files
from digilocker_gateway.runtime import Runtime

logger = logging.getLogger("digilocker_gateway.purge")


async def purge_expired(runtime: Runtime, *, batch_size: int = 200) -> int:
    """Purge until nothing expired is left; returns how many requests were deleted."""
    purged = 0
    while True:
        now = runtime.clock.now()
        async with runtime.transaction() as session:
            ids = (
                (
                    await session.execute(
                        select(RequestRecord.id)
                        .where(RequestRecord.valid_upto <= now)
                        .limit(batch_size)
                        .with_for_update(skip_locked=True)
                    )
                )
                .scalars()
                .all()
            )
            for request_id in ids:
                await delete_request_files(runtime, session, request_id)
            if ids:
                await session.execute(delete(RequestRecord).where(RequestRecord.id.in_(ids)))
        purged += len(ids)
        if len(ids) < batch_size:
            break
    await _purge_expired_files(runtime, batch_size=batch_size)
    await _purge_expired_offline_files(runtime, batch_size=batch_size)
    if purged:
        logger.info("purged %d expired requests", purged)
    return purged


async def _purge_expired_files(runtime: Runtime, *, batch_size: int) -> None:
    while True:
        now = runtime.clock.now()
        async with runtime.transaction() as session:
            rows = (
                (
                    await session.execute(
                        select(StoredFile)
                        .where(StoredFile.valid_upto <= now)
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


async def _purge_expired_offline_files(runtime: Runtime, *, batch_size: int) -> None:
    while True:
        now = runtime.clock.now()
        async with runtime.transaction() as session:
            rows = (
                (
                    await session.execute(
                        select(OfflineEkycFile)
                        .where(OfflineEkycFile.valid_upto <= now)
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
