"""`POST /api/digilocker/accounts/verify`, a gateway extension (docs/journey-options.md §4)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from digilocker_gateway.accounts.schemas import AccountCheck, AccountCheckResult
from digilocker_gateway.accounts.service import account_exists
from digilocker_gateway.errors import (
    ExtensionNotAllowed,
    InternalServerError,
    InvalidPayload,
    PayloadTooLarge,
    RateLimited,
    Unauthorized,
    UpstreamServerError,
)
from digilocker_gateway.kit.openapi import error_responses, json_request_body
from digilocker_gateway.kit.web import read_json_body
from digilocker_gateway.ops.quota_deps import ACCOUNT_CHECK_QUOTA
from digilocker_gateway.tenants.deps import RuntimeDep, TenantDep

router = APIRouter(prefix="/api/digilocker", tags=["DigiLocker"])


@router.post(
    "/accounts/verify",
    response_model=AccountCheckResult,
    summary="Check whether a mobile or Aadhaar number has a DigiLocker account",
    description="Ask before sending the user, to choose `flow` (signin or signup). The number "
    "is neither stored nor logged; calls are limited per product instance per minute.",
    openapi_extra=json_request_body(AccountCheck),
    dependencies=[ACCOUNT_CHECK_QUOTA],
    responses=error_responses(
        Unauthorized,
        InvalidPayload,
        PayloadTooLarge,
        ExtensionNotAllowed,
        RateLimited,
        InternalServerError,
        UpstreamServerError,
    ),
)
async def verify_account(
    request: Request, runtime: RuntimeDep, tenant: TenantDep
) -> AccountCheckResult:
    body = await read_json_body(request, AccountCheck, max_bytes=runtime.settings.max_body_bytes)
    return AccountCheckResult(exists=await account_exists(runtime, tenant, body))
