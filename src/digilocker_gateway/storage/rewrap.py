"""`keys rewrap`: reseal everything stored under an older key with the keyring's active key, so
the older key can leave `DLG_ENCRYPTION_KEYS` before the longest request lifetime has passed.

storage/encryption.py describes the usual, lazy rotation: switch the active key and wait until
everything sealed under the old one has been purged with its request. That is not enough on its
own, because the partner app secrets of product instances never expire, and it is slow when
request lifetimes are long. This module moves the data instead, safely beside running gateway
processes:

- Encrypted columns are updated compare-and-swap (`WHERE column = old value`): a value a live
  process replaced meanwhile (a refreshed token, a revoke that cleared it) is left alone.
- Stored files are resealed while their request row and file row are locked, the same rows
  purge (FOR UPDATE SKIP LOCKED) and revoke (FOR UPDATE) lock before deleting a file, so a file
  being deleted is not written back.

Client secret hashes cannot be moved: they are keyed hashes of secrets the gateway never keeps
(kit/secrets.py), so they verify only while their key stays in the keyring. The report counts
them per key id so the operator knows whether the old key can go.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute

from digilocker_gateway.db.models import (
    Client,
    OfflineEkycFile,
    ProductInstance,
    RequestRecord,
    StoredFile,
    WebhookEndpoint,
)
from digilocker_gateway.runtime import Runtime
from digilocker_gateway.storage.encryption import DecryptionError
from digilocker_gateway.storage.sealed import (
    ACCESS_TOKEN,
    DIGILOCKER_ID,
    EMAIL,
    EXPECTED_IDENTITY,
    HINT,
    PARTNER_SECRET,
    PHONE_NUMBER,
    PKCE_VERIFIER,
    REFRESH_TOKEN,
    WEBHOOK_PREVIOUS_SECRET,
    WEBHOOK_SECRET,
    SealedField,
)

logger = logging.getLogger("digilocker_gateway.rewrap")

# Every sealed column (storage/sealed.py) of a request row, with the field it holds.
_REQUEST_COLUMNS: tuple[tuple[InstrumentedAttribute[str | None], SealedField], ...] = (
    (RequestRecord.pkce_verifier_enc, PKCE_VERIFIER),
    (RequestRecord.access_token_enc, ACCESS_TOKEN),
    (RequestRecord.refresh_token_enc, REFRESH_TOKEN),
    (RequestRecord.digilocker_id_enc, DIGILOCKER_ID),
    (RequestRecord.email_enc, EMAIL),
    (RequestRecord.phone_number_enc, PHONE_NUMBER),
    (RequestRecord.expected_enc, EXPECTED_IDENTITY),
    (RequestRecord.hint_enc, HINT),
)


@dataclass
class RewrapReport:
    """What `rewrap_all` did, and what still depends on keys other than the active one."""

    active_key_id: str
    values: int = 0  # encrypted columns resealed (tokens, PKCE verifiers, partner secrets)
    files: int = 0  # stored files resealed
    unreadable: int = 0  # values or files whose key is no longer in the keyring (or corrupt)
    # Clients whose secret hash is under another key: that key must stay until they get new
    # secrets (keyed hashes cannot be rewrapped).
    client_hashes_by_key: dict[str, int] = dataclass_field(default_factory=dict)


def _under_other_key(column: InstrumentedAttribute[Any], active_id: str) -> Any:
    # Key ids may contain "_", a LIKE wildcard, hence autoescape.
    return and_(column.is_not(None), ~column.startswith(f"v1.{active_id}.", autoescape=True))


async def _rewrap_column_value(
    runtime: Runtime,
    model: Any,
    column: InstrumentedAttribute[Any],
    row_id: str,
    old: str,
    field: SealedField,
) -> tuple[int, int]:
    """(resealed, unreadable) for one stored value, written only if it is still `old`."""
    try:
        new = runtime.sealed.reseal(field, row_id, old)
    except DecryptionError:
        return 0, 1
    if new == old:
        return 0, 0
    async with runtime.transaction() as session:
        result = await session.execute(
            update(model)
            .where(model.id == row_id, column == old)
            .values({column.key: new})
            .execution_options(synchronize_session=False)
        )
    return (1 if getattr(result, "rowcount", 0) == 1 else 0), 0


async def _rewrap_request_values(runtime: Runtime, report: RewrapReport, batch_size: int) -> None:
    active = runtime.keyring.active_id
    columns = [column for column, _ in _REQUEST_COLUMNS]
    last_id = ""
    while True:
        async with runtime.reading() as session:
            rows = (
                await session.execute(
                    select(RequestRecord.id, *columns)
                    .where(
                        RequestRecord.id > last_id,
                        or_(*(_under_other_key(column, active) for column in columns)),
                    )
                    .order_by(RequestRecord.id)
                    .limit(batch_size)
                )
            ).all()
        for row_id, *values in rows:
            for (column, field), old in zip(_REQUEST_COLUMNS, values, strict=True):
                if old is None:
                    continue
                done, bad = await _rewrap_column_value(
                    runtime, RequestRecord, column, row_id, old, field
                )
                report.values += done
                report.unreadable += bad
        if len(rows) < batch_size:
            return
        last_id = rows[-1][0]


async def _rewrap_partner_secrets(runtime: Runtime, report: RewrapReport, batch_size: int) -> None:
    active = runtime.keyring.active_id
    column = ProductInstance.digilocker_client_secret_enc
    last_id = ""
    while True:
        async with runtime.reading() as session:
            rows = (
                await session.execute(
                    select(ProductInstance.id, column)
                    .where(ProductInstance.id > last_id, _under_other_key(column, active))
                    .order_by(ProductInstance.id)
                    .limit(batch_size)
                )
            ).all()
        for row_id, old in rows:
            done, bad = await _rewrap_column_value(
                runtime, ProductInstance, column, row_id, old, PARTNER_SECRET
            )
            report.values += done
            report.unreadable += bad
        if len(rows) < batch_size:
            return
        last_id = rows[-1][0]


async def _rewrap_file(runtime: Runtime, file_id: str, request_id: str, now: datetime) -> bool:
    """Reseal one stored file under the active key; False if it is gone or expiring."""
    async with runtime.transaction() as session:
        # Lock the request row, then the file row (purge and revoke lock them before deleting
        # the blob). A no-op UPDATE takes the lock on PostgreSQL and SQLite alike.
        locked_request = await session.execute(
            update(RequestRecord)
            .where(RequestRecord.id == request_id, RequestRecord.valid_upto > now)
            .values(status=RequestRecord.status)
            .execution_options(synchronize_session=False)
        )
        if getattr(locked_request, "rowcount", 0) != 1:
            return False
        row = (
            await session.execute(
                select(StoredFile)
                .where(StoredFile.id == file_id, StoredFile.valid_upto > now)
                .with_for_update()
            )
        ).scalar_one_or_none()
        if row is None or not await runtime.blobs.exists(row.blob_key):
            return False
        plaintext = await runtime.blobs.open(row.blob_key)
        await runtime.blobs.put(row.blob_key, plaintext, content_type=row.content_type)
    return True


async def _rewrap_files(runtime: Runtime, report: RewrapReport, batch_size: int) -> None:
    # The blob store's interface hands out plaintext only, so a file's key id is not visible
    # here: every live file is resealed. Files live no longer than their request, so operators
    # with short request lifetimes can skip this and wait instead (`--skip-files`).
    last_id = ""
    while True:
        now = runtime.clock.now()
        async with runtime.reading() as session:
            rows = (
                await session.execute(
                    select(StoredFile.id, StoredFile.request_id)
                    .where(StoredFile.id > last_id, StoredFile.valid_upto > now)
                    .order_by(StoredFile.id)
                    .limit(batch_size)
                )
            ).all()
        for file_id, request_id in rows:
            try:
                if await _rewrap_file(runtime, file_id, request_id, now):
                    report.files += 1
            except DecryptionError:
                report.unreadable += 1
        if len(rows) < batch_size:
            return
        last_id = rows[-1][0]


async def _rewrap_offline_file(runtime: Runtime, file_id: str, now: datetime) -> bool:
    """Reseal one uploaded offline e-KYC, its row locked as purge locks it before deleting."""
    async with runtime.transaction() as session:
        row = (
            await session.execute(
                select(OfflineEkycFile)
                .where(OfflineEkycFile.id == file_id, OfflineEkycFile.valid_upto > now)
                .with_for_update()
            )
        ).scalar_one_or_none()
        if row is None or not await runtime.blobs.exists(row.blob_key):
            return False
        plaintext = await runtime.blobs.open(row.blob_key)
        await runtime.blobs.put(row.blob_key, plaintext, content_type=row.content_type)
    return True


async def _rewrap_offline_files(runtime: Runtime, report: RewrapReport, batch_size: int) -> None:
    last_id = ""
    while True:
        now = runtime.clock.now()
        async with runtime.reading() as session:
            ids = (
                (
                    await session.execute(
                        select(OfflineEkycFile.id)
                        .where(OfflineEkycFile.id > last_id, OfflineEkycFile.valid_upto > now)
                        .order_by(OfflineEkycFile.id)
                        .limit(batch_size)
                    )
                )
                .scalars()
                .all()
            )
        for file_id in ids:
            try:
                if await _rewrap_offline_file(runtime, file_id, now):
                    report.files += 1
            except DecryptionError:
                report.unreadable += 1
        if len(ids) < batch_size:
            return
        last_id = ids[-1]


async def _client_hashes_by_key(runtime: Runtime) -> dict[str, int]:
    active = runtime.keyring.active_id
    async with runtime.reading() as session:
        counted = await session.execute(
            select(Client.secret_hash_key_id, func.count())
            .where(Client.secret_hash_key_id != active)
            .group_by(Client.secret_hash_key_id)
        )
    return dict(counted.all())


async def _rewrap_webhook_secrets(runtime: Runtime, report: RewrapReport) -> None:
    """Webhook signing secrets never expire either (docs/webhooks.md §3)."""
    active = runtime.keyring.active_id
    columns: tuple[tuple[InstrumentedAttribute[Any], SealedField], ...] = (
        (WebhookEndpoint.secret_enc, WEBHOOK_SECRET),
        (WebhookEndpoint.previous_secret_enc, WEBHOOK_PREVIOUS_SECRET),
    )
    for column, field in columns:
        async with runtime.reading() as session:
            rows = (
                await session.execute(
                    select(WebhookEndpoint.id, column).where(_under_other_key(column, active))
                )
            ).all()
        for row_id, old in rows:
            done, bad = await _rewrap_column_value(
                runtime, WebhookEndpoint, column, row_id, old, field
            )
            report.values += done
            report.unreadable += bad


async def rewrap_all(
    runtime: Runtime, *, include_files: bool = True, batch_size: int = 100
) -> RewrapReport:
    """Reseal every encrypted value (and, unless told not to, every live stored file) under the
    active key. Safe to run while gateway processes serve, and to run again."""
    report = RewrapReport(active_key_id=runtime.keyring.active_id)
    await _rewrap_request_values(runtime, report, batch_size)
    await _rewrap_partner_secrets(runtime, report, batch_size)
    await _rewrap_webhook_secrets(runtime, report)
    if include_files:
        await _rewrap_files(runtime, report, batch_size)
        await _rewrap_offline_files(runtime, report, batch_size)
    report.client_hashes_by_key = await _client_hashes_by_key(runtime)
    logger.info(
        "rewrap: %d values and %d files resealed under key %s; %d unreadable",
        report.values,
        report.files,
        report.active_key_id,
        report.unreadable,
    )
    return report
