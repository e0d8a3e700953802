"""Fetched files: stored encrypted in the blob store, handed out as signed, expiring gateway URLs
that stream the file and stop working after `validUpto`, revoke or purge (or, with an S3 store
in presigned mode, as the bucket's own pre-signed URLs, which die with the deleted object)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from digilocker_gateway.audit import log as audit
from digilocker_gateway.config import FILES_PATH
from digilocker_gateway.db.base import table_of
from digilocker_gateway.db.models import OfflineEkycFile, RequestRecord, StoredFile
from digilocker_gateway.errors import NotFound
from digilocker_gateway.kit.web import current_trace_id
from digilocker_gateway.requests.service import get_request, require_authenticated
from digilocker_gateway.requests.status import RequestStatus
from digilocker_gateway.runtime import Runtime
from digilocker_gateway.storage.blobs import BlobNotFound
from digilocker_gateway.storage.signed_urls import (
    ExpiredSignedUrl,
    InvalidSignedUrl,
    sign_file_token,
    verify_file_token,
)
from digilocker_gateway.tenants.tenant import Tenant
from digilocker_gateway.webhooks import events

# The content type each fetch-document `format` is stored and served as.
CONTENT_TYPES = {"pdf": "application/pdf", "xml": "application/xml"}


@dataclass(frozen=True, slots=True)
class IssuedFileUrl:
    url: str
    valid_upto: datetime


def blob_key_for(request_id: str) -> str:
    # Grouped by request so purging a request finds all of its blobs.
    return f"requests/{request_id}/{uuid.uuid4().hex}"


def file_valid_upto(runtime: Runtime, request_valid_upto: datetime) -> datetime:
    """A file URL never outlives its request."""
    wanted = runtime.clock.now() + timedelta(seconds=runtime.settings.file_url_lifetime_seconds)
    return min(wanted, request_valid_upto)


async def signed_url(
    runtime: Runtime, blob_key: str, expires_at: datetime, filename: str, *, content_type: str
) -> str:
    """The `fileUrl` for a stored blob: the store's own pre-signed URL when it hands them out
    (S3 in presigned mode), else the gateway's signed `/files/{token}` URL."""
    direct = await runtime.blobs.presigned_url(
        blob_key, expires_at=expires_at, filename=filename, content_type=content_type
    )
    if direct is not None:
        return direct
    token = sign_file_token(
        runtime.keyring, blob_key=blob_key, expires_at=expires_at, filename=filename
    )
    return f"{runtime.settings.effective_public_base_url}{FILES_PATH}/{token}"


_STORED_FILES = table_of(StoredFile)
_FILE_COLUMNS = tuple(column.key for column in _STORED_FILES.columns)


def _file_value(name: str) -> Any:
    if name == "request_id":
        return RequestRecord.id
    return bindparam(name, type_=_STORED_FILES.c[name].type)


# The file's row, inserted only while its request is the tenant's, unexpired, authenticated and
# not revoked: one statement instead of reading the request and then inserting. FOR UPDATE
# (PostgreSQL) makes it wait for a revoke or purge that holds the request's row and then look
# at the request again, so a file is never kept for a request revoked meanwhile; SQLite's one
# writer at a time gives the same. Built once (requests/service.py, _REQUEST).
_KEEP_FILE = insert(_STORED_FILES).from_select(
    list(_FILE_COLUMNS),
    select(*(_file_value(name) for name in _FILE_COLUMNS))
    .where(
        RequestRecord.id == bindparam("request_id"),
        RequestRecord.product_instance_id == bindparam("product_instance_id"),
        RequestRecord.valid_upto > bindparam("now"),
        RequestRecord.status == RequestStatus.AUTHENTICATED,
        RequestRecord.access_token_enc.is_not(None),
    )
    .with_for_update(of=RequestRecord),
)


async def _insert_if_request_live(
    session: AsyncSession, tenant: Tenant, row: StoredFile, now: datetime
) -> None:
    """Insert the file's row if its request can still have files, else raise the error the
    request's state calls for (404, revoked, not authenticated)."""
    parameters = {name: getattr(row, name) for name in _FILE_COLUMNS}
    parameters |= {"product_instance_id": tenant.product_instance_id, "now": now}
    inserted = await session.execute(_KEEP_FILE, parameters)
    if getattr(inserted, "rowcount", 0) == 1:
        return
    request = await get_request(session, tenant=tenant, request_id=row.request_id, now=now)
    require_authenticated(request)
    raise RuntimeError("the file's row was not inserted for a live request")


async def keep_file(
    runtime: Runtime,
    tenant: Tenant,
    *,
    request_id: str,
    blob_key: str,
    kind: str,
    content_type: str,
    size: int,
    doc_type: str,
    org_id: str,
    valid_upto: datetime,
    filename: str,
) -> IssuedFileUrl:
    """Record a stored blob against its request and hand out its URL — only if the request is
    still live and authenticated after the download (a revoke or purge may have come in
    between); otherwise, or on any failure, the blob is deleted and nothing is kept."""
    now = runtime.clock.now()
    stored = StoredFile(
        id=str(uuid.uuid4()),
        request_id=request_id,
        blob_key=blob_key,
        kind=kind,
        content_type=content_type,
        size=size,
        doc_type=doc_type,
        org_id=org_id,
        created_at=now,
        valid_upto=valid_upto,
    )
    try:
        async with runtime.transaction() as session:
            await _insert_if_request_live(session, tenant, stored, now)
            await _report_fetch(runtime, session, tenant, stored)
    except BaseException:
        await runtime.blobs.delete(blob_key)
        raise
    url = await signed_url(runtime, blob_key, valid_upto, filename, content_type=content_type)
    return IssuedFileUrl(url, valid_upto)


async def _report_fetch(
    runtime: Runtime, session: AsyncSession, tenant: Tenant, stored: StoredFile
) -> None:
    """A document or the Aadhaar XML was fetched and kept: an event and an audit row, in the
    transaction that keeps the file. Neither carries the file, its URL or its contents."""
    aadhaar = stored.kind == "aadhaar_xml"
    now = stored.created_at
    data: dict[str, object] = {"fileId": stored.id, "contentType": stored.content_type}
    if not aadhaar:
        data |= {"docType": stored.doc_type, "orgId": stored.org_id}
    await events.emit(
        session,
        product_instance_id=tenant.product_instance_id,
        request_id=stored.request_id,
        event_type=events.AADHAAR_FETCHED if aadhaar else events.DOCUMENT_FETCHED,
        data=data,
        now=now,
    )
    await audit.append(
        session,
        runtime.keyring,
        product_instance_id=tenant.product_instance_id,
        request_id=stored.request_id,
        action=audit.AADHAAR_FETCHED if aadhaar else audit.DOCUMENT_FETCHED,
        actor=audit.client_actor(tenant.client_id),
        details={**data, "traceId": current_trace_id()},
        now=now,
        heads=runtime.audit_heads,
    )


async def delete_request_files(runtime: Runtime, session: AsyncSession, request_id: str) -> int:
    """Forget a request's files, in the caller's transaction, and delete their blobs: one
    DELETE that returns what it removed."""
    blob_keys = (
        (
            await session.execute(
                delete(StoredFile)
                .where(StoredFile.request_id == request_id)
                .returning(StoredFile.blob_key)
                .execution_options(synchronize_session=False)
            )
        )
        .scalars()
        .all()
    )
    for blob_key in blob_keys:
        await runtime.blobs.delete(blob_key)
    return len(blob_keys)


@dataclass(frozen=True, slots=True)
class OpenedFile:
    content_type: str
    size: int
    filename: str
    chunks: AsyncIterator[bytes]


async def open_signed_file(
    runtime: Runtime, token: str, *, client_ip: str | None = None
) -> OpenedFile:
    """The file behind a signed URL, if the URL is genuine and unexpired and the file still
    belongs to a live, unrevoked request. Every failure is the same 404. Each download is an
    audit row (docs/audit.md §2), with the client address as `audit_client_ip` says."""
    now = runtime.clock.now()
    try:
        signed = verify_file_token(runtime.keyring, token, now=now)
    except (InvalidSignedUrl, ExpiredSignedUrl):
        raise NotFound("This file link is invalid or has expired.") from None
    # One transaction: the file and its request read, and the download's audit row.
    async with runtime.transaction() as session:
        found = (
            await session.execute(
                select(StoredFile, RequestRecord)
                .join(RequestRecord, RequestRecord.id == StoredFile.request_id)
                .where(StoredFile.blob_key == signed.blob_key)
            )
        ).first()
        offline: OfflineEkycFile | None = None
        if found is None:
            # An uploaded offline e-KYC belongs to its product instance, not to a request.
            offline = (
                await session.execute(
                    select(OfflineEkycFile).where(OfflineEkycFile.blob_key == signed.blob_key)
                )
            ).scalar_one_or_none()
        if found is not None:
            stored, request = found
            expired = stored.valid_upto <= now or request.valid_upto <= now
            if expired or request.status == RequestStatus.REVOKED:
                raise NotFound("This file link is invalid or has expired.")
            content_type, size = stored.content_type, stored.size
            owner, request_id = request.product_instance_id, request.id
            details = {"fileId": stored.id, "kind": stored.kind, "docType": stored.doc_type}
        elif offline is not None and offline.valid_upto > now:
            content_type, size = offline.content_type, offline.size
            owner, request_id = offline.product_instance_id, None
            details = {"fileId": offline.id, "kind": "offline_ekyc", "docType": ""}
        else:
            raise NotFound("This file link is invalid or has expired.")
        await audit.append(
            session,
            runtime.keyring,
            product_instance_id=owner,
            request_id=request_id,
            action=audit.FILE_DOWNLOADED,
            actor="file_url",
            details={
                **details,
                "clientIp": audit.client_ip_for_audit(
                    client_ip,
                    mode=runtime.settings.audit_client_ip,
                    key=runtime.keyring.subkey("audit-client-ip"),
                ),
            },
            now=now,
            heads=runtime.audit_heads,
        )
    try:
        chunks = await runtime.blobs.open(signed.blob_key)
    except BlobNotFound:
        raise NotFound("This file link is invalid or has expired.") from None
    return OpenedFile(content_type, size, signed.filename or "document", chunks)
