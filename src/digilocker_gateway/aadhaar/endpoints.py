"""Setu's fetch-Aadhaar call."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from digilocker_gateway.aadhaar.schemas import AadhaarResult
from digilocker_gateway.aadhaar.service import fetch_aadhaar
from digilocker_gateway.errors import (
    AadhaarNotAvailable,
    AadhaarNotLinked,
    GetXmlFailed,
    InternalServerError,
    InvalidToken,
    RequestNotFound,
    TokenRevoked,
    Unauthorized,
    UnwrapAadhaarFailed,
    UserConsentNotGiven,
    UserNotAuthenticated,
)
from digilocker_gateway.kit.openapi import error_responses
from digilocker_gateway.tenants.deps import RuntimeDep, TenantDep

router = APIRouter(prefix="/api/digilocker", tags=["DigiLocker"])


@router.get(
    "/{request_id}/aadhaar",
    response_model=AadhaarResult,
    summary="Fetch Aadhaar data (verified e-Aadhaar XML as OKYC JSON)",
    responses=error_responses(
        AadhaarNotLinked,
        UserConsentNotGiven,
        Unauthorized,
        UserNotAuthenticated,
        TokenRevoked,
        AadhaarNotAvailable,
        InvalidToken,
        RequestNotFound,
        GetXmlFailed,
        UnwrapAadhaarFailed,
        InternalServerError,
    ),
)
async def aadhaar(request_id: str, runtime: RuntimeDep, tenant: TenantDep) -> JSONResponse:
    result: dict[str, Any] = await fetch_aadhaar(runtime, tenant, request_id)
    return JSONResponse(result, headers={"Cache-Control": "no-store"})
