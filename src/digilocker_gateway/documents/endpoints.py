"""Setu's catalogue and fetch-document calls, and the signed file URLs they hand out."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from digilocker_gateway.config import FILES_PATH
from digilocker_gateway.documents.fetch import fetch_document
from digilocker_gateway.documents.issued import list_issued
from digilocker_gateway.documents.schemas import (
    Catalogue,
    DocumentFetch,
    FetchedDocument,
    IssuedItem,
    IssuedList,
)
from digilocker_gateway.errors import (
    AadhaarNotLinked,
    CatalogueNotReady,
    ConsentNotGiven,
    CustomerDetailMismatch,
    ExtensionNotAllowed,
    InternalServerError,
    InvalidPayload,
    InvalidToken,
    InvalidUri,
    PayloadTooLarge,
    PullResponsePending,
    RateLimited,
    RecordNotFound,
    RequestNotFound,
    TokenRevoked,
    Unauthorized,
    UpstreamServerError,
    UserConsentNotGiven,
    UserNotAuthenticated,
)
from digilocker_gateway.kit.openapi import error_responses, json_request_body
from digilocker_gateway.kit.timefmt import to_ist_iso
from digilocker_gateway.kit.web import read_json_body
from digilocker_gateway.ops.quota_deps import FETCH_QUOTA
from digilocker_gateway.requests.files import open_signed_file
from digilocker_gateway.tenants.deps import RuntimeDep, TenantDep

router = APIRouter(prefix="/api/digilocker", tags=["DigiLocker"])
files_router = APIRouter(include_in_schema=False)


@router.get(
    "/documents",
    response_model=Catalogue,
    summary="List every document DigiLocker lets you fetch",
    responses={
        304: {"description": "Not modified (If-None-Match matched the ETag)"},
        **error_responses(Unauthorized, InternalServerError, CatalogueNotReady),
    },
)
async def catalogue(request: Request, runtime: RuntimeDep, _tenant: TenantDep) -> Response:
    snapshot = await runtime.catalogue.current(
        runtime.reading, revalidate_seconds=runtime.settings.catalogue_revalidate_seconds
    )
    if snapshot is None:
        raise CatalogueNotReady()
    headers = {
        "ETag": snapshot.etag,
        "Cache-Control": "private, max-age=0, must-revalidate",
        "Vary": "Accept-Encoding",
    }
    if_none_match = request.headers.get("if-none-match", "")
    if snapshot.etag in {tag.strip() for tag in if_none_match.split(",")} or if_none_match == "*":
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(snapshot.body_gzip, media_type="application/json", headers=headers)
    return Response(snapshot.body, media_type="application/json", headers=headers)


@router.post(
    "/{request_id}/document",
    response_model=FetchedDocument,
    # `data` and `match` appear only when asked for (docs/document-data.md §2).
    response_model_exclude_unset=True,
    summary="Fetch a document (all but Aadhaar)",
    openapi_extra=json_request_body(DocumentFetch),
    dependencies=[FETCH_QUOTA],
    responses=error_responses(
        InvalidPayload,
        PayloadTooLarge,
        ConsentNotGiven,
        AadhaarNotLinked,
        RecordNotFound,
        PullResponsePending,
        InvalidUri,
        CustomerDetailMismatch,
        UserConsentNotGiven,
        Unauthorized,
        TokenRevoked,
        UserNotAuthenticated,
        InvalidToken,
        RequestNotFound,
        RateLimited,
        InternalServerError,
        UpstreamServerError,
    ),
)
async def fetch(
    request_id: str, request: Request, runtime: RuntimeDep, tenant: TenantDep
) -> FetchedDocument:
    body = await read_json_body(request, DocumentFetch, max_bytes=runtime.settings.max_body_bytes)
    fetched = await fetch_document(runtime, tenant, request_id, body)
    extensions: dict[str, Any] = {}
    if fetched.data is not None:
        extensions["data"] = fetched.data
    if fetched.match is not None:
        extensions["match"] = fetched.match
    return FetchedDocument.model_validate(
        {
            "fileUrl": fetched.file.url,
            "validUpto": to_ist_iso(fetched.file.valid_upto),
            "parametersVerified": fetched.parameters_verified,
            **extensions,
        }
    )


# Beside Setu's `/{id}/document` (fetch one) and `/documents` (the catalogue of all that can
# be fetched), `/{id}/issued` says what this user already holds, as DigiLocker's own
# `files/issued` does (docs/journey-options.md §3).
@router.get(
    "/{request_id}/issued",
    response_model=IssuedList,
    summary="List the documents the user holds and consented to share (extension)",
    dependencies=[FETCH_QUOTA],
    responses=error_responses(
        Unauthorized,
        ExtensionNotAllowed,
        TokenRevoked,
        UserNotAuthenticated,
        InvalidToken,
        UserConsentNotGiven,
        RequestNotFound,
        RateLimited,
        InternalServerError,
        UpstreamServerError,
    ),
)
async def issued(request_id: str, runtime: RuntimeDep, tenant: TenantDep) -> IssuedList:
    listed = await list_issued(runtime, tenant, request_id)
    return IssuedList(
        documents=[
            IssuedItem(
                docType=item.document.doctype,
                orgId=item.org_id,
                orgName=item.org_name,
                issuerId=item.document.issuerid,
                name=item.document.name,
                description=item.document.description,
                date=item.document.date,
                uri=item.document.uri,
                availableFormats=list(item.formats),
                fetchable=item.fetchable,
            )
            for item in listed
        ]
    )


@files_router.get(FILES_PATH + "/{token}")
async def download(token: str, request: Request, runtime: RuntimeDep) -> StreamingResponse:
    client = request.client
    opened = await open_signed_file(
        runtime, token, client_ip=client.host if client is not None else None
    )
    return StreamingResponse(
        opened.chunks,
        media_type=opened.content_type,
        headers={
            "Content-Length": str(opened.size),
            "Content-Disposition": f'attachment; filename="{opened.filename}"',
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
