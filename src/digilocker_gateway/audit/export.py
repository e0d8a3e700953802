"""Read the audit log out: export as JSON Lines or CSV (`digilocker-gateway audit export`),
list a request's rows (the API), and drop rows past their retention (`audit.prune` job)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from digilocker_gateway.db.models import AuditChainHead, AuditRecord
from digilocker_gateway.kit.timefmt import to_ist_iso

COLUMNS = (
    "productInstanceId",
    "seq",
    "requestId",
    "action",
    "actor",
    "details",
    "createdAt",
    "keyId",
    "prevHash",
    "hash",
)


def as_dict(row: AuditRecord) -> dict[str, Any]:
    """A row as the API and the export show it (every column: the export can be re-checked)."""
    return {
        "productInstanceId": row.product_instance_id,
        "seq": row.seq,
        "requestId": row.request_id,
        "action": row.action,
        "actor": row.actor,
        "details": json.loads(row.details),
        "createdAt": to_ist_iso(row.created_at),
        "keyId": row.key_id,
        "prevHash": row.prev_hash,
        "hash": row.hash,
    }


async def count_since(session: AsyncSession, since: datetime | None) -> int:
    query = select(func.count()).select_from(AuditRecord)
    if since is not None:
        query = query.where(AuditRecord.created_at >= since)
    return int((await session.execute(query)).scalar_one())


async def export_lines(
    session: AsyncSession,
    *,
    since: datetime | None,
    file_format: Literal["jsonl", "csv"],
    on_row: Callable[[], None] | None = None,
) -> AsyncIterator[str]:
    """The rows created at or after `since`, chain by chain in order, as text lines."""
    query = select(AuditRecord).order_by(AuditRecord.product_instance_id, AuditRecord.seq)
    if since is not None:
        query = query.where(AuditRecord.created_at >= since)
    if file_format == "csv":
        yield ",".join(COLUMNS) + "\n"
    rows = await session.stream_scalars(query.execution_options(yield_per=500))
    async for row in rows:
        shown = as_dict(row)
        if file_format == "jsonl":
            yield json.dumps(shown, ensure_ascii=False, separators=(",", ":")) + "\n"
        else:
            buffer = io.StringIO()
            shown["details"] = json.dumps(shown["details"], sort_keys=True, separators=(",", ":"))
            csv.writer(buffer, lineterminator="\n").writerow(
                "" if shown[column] is None else shown[column] for column in COLUMNS
            )
            yield buffer.getvalue()
        if on_row is not None:
            on_row()


async def request_records(
    session: AsyncSession, *, product_instance_id: str, request_id: str
) -> list[dict[str, Any]]:
    rows = await session.scalars(
        select(AuditRecord)
        .where(
            AuditRecord.product_instance_id == product_instance_id,
            AuditRecord.request_id == request_id,
        )
        .order_by(AuditRecord.seq)
    )
    return [as_dict(row) for row in rows]


async def prune(session: AsyncSession, *, now: datetime, retention_days: int) -> int:
    """Delete rows older than the retention, oldest first per chain, and note in each head
    where its chain now starts, so `verify` still checks the rows that remain."""
    cut_off = now - timedelta(days=retention_days)
    removed = 0
    newest_old = (
        select(AuditRecord.product_instance_id, func.max(AuditRecord.seq))
        .where(AuditRecord.created_at < cut_off)
        .group_by(AuditRecord.product_instance_id)
    )
    for owner, through in (await session.execute(newest_old)).all():
        last = (
            await session.execute(
                select(AuditRecord.hash).where(
                    AuditRecord.product_instance_id == owner, AuditRecord.seq == through
                )
            )
        ).scalar_one()
        result = await session.execute(
            delete(AuditRecord).where(
                AuditRecord.product_instance_id == owner, AuditRecord.seq <= through
            )
        )
        removed += int(getattr(result, "rowcount", 0) or 0)
        await session.execute(
            update(AuditChainHead)
            .where(AuditChainHead.product_instance_id == owner)
            .values(pruned_through_seq=through, pruned_hash=last)
        )
    return removed
