"""Setu's fetch-Aadhaar call."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

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
from digilocker_gateway.requests.endpoints import errors
from digilocker_gateway.tenants.deps import RuntimeDep, TenantDep

router = APIRouter(prefix="/api/digilocker", tags=["DigiLocker"])


class AadhaarAddress(BaseModel):
    careOf: str
    country: str
    district: str
    house: str
    landmark: str
    locality: str
    pin: str
    postOffice: str
    state: str
    street: str
    subDistrict: str
    vtc: str


class AadhaarVerified(BaseModel):
    email: bool
    phone: bool
    signature: bool


class AadhaarXml(BaseModel):
    fileUrl: str
    shareCode: str
    validUntil: str


class Aadhaar(BaseModel):
    address: AadhaarAddress
    dateOfBirth: str
    email: str
    gender: str
    generatedAt: str
    maskedNumber: str
    name: str
    phone: str
    photo: str
    verified: AadhaarVerified
    xml: AadhaarXml


class AadhaarResult(BaseModel):
    aadhaar: Aadhaar
    id: str
    status: str


@router.get(
    "/{request_id}/aadhaar",
    response_model=AadhaarResult,
    summary="Fetch Aadhaar data (verified e-Aadhaar XML as OKYC JSON)",
    responses=errors(
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
