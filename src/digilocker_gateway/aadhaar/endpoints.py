"""Setu's fetch-Aadhaar call, and the offline e-KYC upload (a gateway extension,
docs/document-data.md §6)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from digilocker_gateway.aadhaar.offline_upload import OfflineUpload, upload_offline_ekyc
from digilocker_gateway.aadhaar.schemas import AadhaarResult
from digilocker_gateway.aadhaar.service import fetch_aadhaar
from digilocker_gateway.errors import (
    AadhaarNotAvailable,
    AadhaarNotLinked,
    CustomerDetailMismatch,
    GetXmlFailed,
    InternalServerError,
    InvalidPayload,
    InvalidToken,
    OfflineEkycExpired,
    OfflineEkycInvalid,
    OfflineEkycNotZip,
    OfflineEkycSignatureInvalid,
    OfflineEkycTampered,
    OfflineEkycTooLarge,
    OfflineEkycUnsafeEntry,
    OfflineEkycWrongShareCode,
    OfflineEkycZipBomb,
    RateLimited,
    RequestNotFound,
    TokenRevoked,
    Unauthorized,
    UnwrapAadhaarFailed,
    UserConsentNotGiven,
    UserNotAuthenticated,
)
from digilocker_gateway.identity.expected import ExpectedIdentity
from digilocker_gateway.kit.openapi import error_responses
from digilocker_gateway.kit.web import describe_validation_errors, media_type_of, read_body
from digilocker_gateway.ops.quota_deps import FETCH_QUOTA
from digilocker_gateway.tenants.deps import RuntimeDep, TenantDep

router = APIRouter(prefix="/api/digilocker", tags=["DigiLocker"])


@router.get(
    "/{request_id}/aadhaar",
    response_model=AadhaarResult,
    summary="Fetch Aadhaar data (verified e-Aadhaar XML as OKYC JSON)",
    dependencies=[FETCH_QUOTA],
    responses=error_responses(
        AadhaarNotLinked,
        UserConsentNotGiven,
        CustomerDetailMismatch,
        Unauthorized,
        UserNotAuthenticated,
        TokenRevoked,
        AadhaarNotAvailable,
        InvalidToken,
        RequestNotFound,
        GetXmlFailed,
        UnwrapAadhaarFailed,
        RateLimited,
        InternalServerError,
    ),
)
async def aadhaar(request_id: str, runtime: RuntimeDep, tenant: TenantDep) -> JSONResponse:
    result: dict[str, Any] = await fetch_aadhaar(runtime, tenant, request_id)
    return JSONResponse(result, headers={"Cache-Control": "no-store"})


offline_router = APIRouter(prefix="/api/aadhaar", tags=["Aadhaar"])

_MAX_FIELD = 320  # share code, mobile, email: a little room beyond the longest email
_MAX_EXPECTED = 8 * 1024

OFFLINE_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "shareCode"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "UIDAI's offline e-KYC ZIP, as downloaded",
                        },
                        "shareCode": {
                            "type": "string",
                            "description": "The share code the user chose; it opens the ZIP",
                        },
                        "mobile": {
                            "type": "string",
                            "description": "The mobile number the user declares (checked)",
                        },
                        "email": {
                            "type": "string",
                            "description": "The email the user declares (checked)",
                        },
                        "expected": {
                            "type": "string",
                            "description": "JSON of an ExpectedIdentity, to answer `match`",
                        },
                    },
                }
            }
        },
    }
}


def _text(form: FormData, name: str, *, required: bool = False) -> str | None:
    value = form.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidPayload(f"{name} is required.")
        return None
    if not isinstance(value, str) or len(value) > _MAX_FIELD:
        raise InvalidPayload(f"{name} must be a short text field.")
    return value.strip()


async def read_offline_upload(request: Request, *, max_bytes: int) -> OfflineUpload:
    """The multipart form, its whole size bounded before it is parsed."""
    if media_type_of(request) != "multipart/form-data":
        raise InvalidPayload("The body must be multipart/form-data with file and shareCode.")
    body = await read_body(request, max_bytes=max_bytes, too_large=OfflineEkycTooLarge)

    async def replay() -> AsyncGenerator[bytes, None]:
        yield body

    parser = MultiPartParser(
        request.headers, replay(), max_files=1, max_fields=8, max_part_size=_MAX_EXPECTED
    )
    try:
        form = await parser.parse()
    except MultiPartException:
        raise InvalidPayload("The multipart body cannot be read.") from None
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidPayload("file is required: the offline e-KYC ZIP.")
        archive = await upload.read()
        share_code = _text(form, "shareCode", required=True)
        assert share_code is not None
        expected_text = form.get("expected")
        expected = None
        if isinstance(expected_text, str) and expected_text.strip():
            try:
                expected = ExpectedIdentity.model_validate_json(expected_text)
            except ValidationError as exc:
                detail = describe_validation_errors(exc.errors())
                raise InvalidPayload(f"expected: {detail}") from None
        return OfflineUpload(
            archive=archive,
            share_code=share_code,
            mobile=_text(form, "mobile"),
            email=_text(form, "email"),
            expected=expected,
        )
    finally:
        await form.close()


@offline_router.post(
    "/offline",
    response_model=AadhaarResult,
    summary="Verify a UIDAI offline e-KYC ZIP (no DigiLocker request needed)",
    openapi_extra=OFFLINE_FORM,
    responses=error_responses(
        InvalidPayload,
        OfflineEkycTooLarge,
        OfflineEkycNotZip,
        OfflineEkycZipBomb,
        OfflineEkycUnsafeEntry,
        OfflineEkycWrongShareCode,
        OfflineEkycTampered,
        OfflineEkycSignatureInvalid,
        OfflineEkycExpired,
        OfflineEkycInvalid,
        CustomerDetailMismatch,
        Unauthorized,
        InternalServerError,
    ),
)
async def offline(request: Request, runtime: RuntimeDep, tenant: TenantDep) -> JSONResponse:
    upload = await read_offline_upload(
        request, max_bytes=runtime.settings.aadhaar_offline_max_upload_bytes
    )
    result: dict[str, Any] = await upload_offline_ekyc(runtime, tenant, upload)
    return JSONResponse(result, headers={"Cache-Control": "no-store"})
