"""`GET /api/digilocker/{id}/audit`: the audit rows of one of the caller's requests — also
after the request itself was purged, for as long as the audit log keeps them (docs/audit.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import select

from digilocker_gateway.audit.export import request_records
from digilocker_gateway.db.models import RequestRecord
from digilocker_gateway.errors import InternalServerError, RequestNotFound, Unauthorized
from digilocker_gateway.kit.openapi import error_responses
from digilocker_gateway.tenants.deps import RuntimeDep, TenantDep

router = APIRouter(prefix="/api/digilocker", tags=["Audit"])


class AuditRecord(BaseModel):
    productInstanceId: str
    seq: int
    requestId: str | None
    action: str
    actor: str
    details: dict[str, Any]
    createdAt: str
    keyId: str
    prevHash: str
    hash: str


class AuditRecordList(BaseModel):
    records: list[AuditRecord]


@router.get(
    "/{request_id}/audit",
    response_model=AuditRecordList,
    summary="The audit log of a request",
    responses=error_responses(Unauthorized, RequestNotFound, InternalServerError),
)
async def request_audit(request_id: str, runtime: RuntimeDep, tenant: TenantDep) -> AuditRecordList:
    async with runtime.reading() as session:
        found = await request_records(
            session, product_instance_id=tenant.product_instance_id, request_id=request_id
        )
        if not found:
            # No rows yet: an answer for the caller's own live request, 404 for anything else.
            live = await session.scalar(
                select(RequestRecord.id).where(
                    RequestRecord.id == request_id,
                    RequestRecord.product_instance_id == tenant.product_instance_id,
                )
            )
            if live is None:
                raise RequestNotFound()
    return AuditRecordList.model_validate({"records": found})
