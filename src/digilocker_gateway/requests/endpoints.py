"""Setu's create / status / revoke calls, and the browser-facing journey and callback."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from digilocker_gateway.config import CALLBACK_PATH, JOURNEY_PATH
from digilocker_gateway.db.models import RequestRecord
from digilocker_gateway.errors import (
    InternalServerError,
    InvalidPayload,
    InvalidRedirectUrl,
    PayloadTooLarge,
    RateLimited,
    RequestNotFound,
    Unauthorized,
    UpstreamServerError,
    UserNotAuthenticated,
)
from digilocker_gateway.kit.openapi import error_responses, json_request_body
from digilocker_gateway.kit.timefmt import to_ist_iso
from digilocker_gateway.kit.web import current_trace_id, read_json_body
from digilocker_gateway.ops.quota_deps import CREATE_QUOTA, STATUS_QUOTA
from digilocker_gateway.requests import journey, service, tokens
from digilocker_gateway.requests.details import fill_pending_details
from digilocker_gateway.requests.pages import message_page
from digilocker_gateway.requests.schemas import (
    DigilockerRequest,
    DigilockerRequestCreate,
    DigilockerRequestStatus,
    RevokeResult,
)
from digilocker_gateway.requests.status import RequestStatus
from digilocker_gateway.runtime import Runtime
from digilocker_gateway.tenants.deps import RuntimeDep, TenantDep

router = APIRouter(prefix="/api/digilocker", tags=["DigiLocker"])
browser_router = APIRouter(include_in_schema=False)


def journey_url(runtime: Runtime, request_id: str) -> str:
    return f"{runtime.settings.effective_public_base_url}{JOURNEY_PATH}/{request_id}"


def as_api(runtime: Runtime, row: RequestRecord) -> DigilockerRequest:
    return DigilockerRequest(
        id=row.id,
        status=row.status,
        url=journey_url(runtime, row.id),
        validUpto=to_ist_iso(row.valid_upto),
    )


@router.post(
    "",
    response_model=DigilockerRequest,
    summary="Create a DigiLocker request",
    openapi_extra=json_request_body(DigilockerRequestCreate),
    dependencies=[CREATE_QUOTA],
    responses=error_responses(
        Unauthorized,
        InvalidPayload,
        InvalidRedirectUrl,
        PayloadTooLarge,
        RateLimited,
        InternalServerError,
    ),
)
async def create_request(
    request: Request, runtime: RuntimeDep, tenant: TenantDep
) -> DigilockerRequest:
    body = await read_json_body(
        request, DigilockerRequestCreate, max_bytes=runtime.settings.max_body_bytes
    )
    async with runtime.transaction() as session:
        row = await service.create_request(
            session,
            tenant=tenant,
            body=body,
            clock=runtime.clock,
            sealed=runtime.sealed,
            settings=runtime.settings,
        )
        return as_api(runtime, row)


# HEAD answers like GET, for monitoring probes; Setu documents only GET. It is registered
# after GET (decorators apply bottom-up), so a 405's Allow names the GET route, the first
# that matches the path.
@router.head("/{request_id}/status", include_in_schema=False, dependencies=[STATUS_QUOTA])
@router.get(
    "/{request_id}/status",
    response_model=DigilockerRequestStatus,
    summary="Get DigiLocker request status",
    dependencies=[STATUS_QUOTA],
    responses=error_responses(Unauthorized, RequestNotFound, RateLimited, InternalServerError),
)
async def request_status(
    request_id: str, runtime: RuntimeDep, tenant: TenantDep
) -> DigilockerRequestStatus:
    now = runtime.clock.now()
    async with runtime.reading() as session:
        row = await service.get_request(session, tenant=tenant, request_id=request_id, now=now)
    if row.details_pending and row.status == RequestStatus.AUTHENTICATED:
        row = await fill_pending_details(runtime, tenant, row) or row
    return DigilockerRequestStatus(
        id=row.id,
        status=row.status,
        url=journey_url(runtime, row.id),
        validUpto=to_ist_iso(row.valid_upto),
        digilockerUserDetails=service.user_details(row, runtime.sealed),
        traceId=current_trace_id(),
        reauthRequired=row.reauth_required_at is not None,
        **service.consent_of(row),
    )


@router.get(
    "/{request_id}/revoke",
    response_model=RevokeResult,
    summary="Revoke the user's DigiLocker access token",
    responses=error_responses(
        Unauthorized,
        UserNotAuthenticated,
        RequestNotFound,
        InternalServerError,
        UpstreamServerError,
    ),
)
async def revoke_request(request_id: str, runtime: RuntimeDep, tenant: TenantDep) -> RevokeResult:
    await tokens.revoke(runtime, tenant, request_id)
    return RevokeResult(success=True)


@browser_router.get(JOURNEY_PATH + "/{request_id}")
async def start_journey(request_id: str, runtime: RuntimeDep) -> Response:
    try:
        started = await journey.start_journey(runtime, request_id)
    except journey.JourneyPage as page:
        return message_page(page.title, page.message, status=page.status)
    response = RedirectResponse(
        started.authorize_url, status_code=302, headers={"Cache-Control": "no-store"}
    )
    if started.binding is not None:
        name, value = started.binding
        # Sent back only to the callback, only on the top-level navigation DigiLocker makes to
        # it (Lax), never readable by scripts; Secure wherever the gateway is reached by https.
        response.set_cookie(
            name,
            value,
            max_age=runtime.settings.journey_lifetime_seconds,
            path=CALLBACK_PATH,
            httponly=True,
            secure=runtime.settings.effective_public_base_url.startswith("https://"),
            samesite="lax",
        )
    return response


@browser_router.get(CALLBACK_PATH)
async def callback(request: Request, runtime: RuntimeDep) -> Response:
    params = request.query_params
    try:
        url = await journey.complete_callback(
            runtime,
            state=params.get("state"),
            code=params.get("code"),
            error=params.get("error"),
            error_description=params.get("error_description"),
            cookies=request.cookies,
        )
    except journey.JourneyPage as page:
        return message_page(
            page.title, page.message, status=page.status, reference=current_trace_id()
        )
    return RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})
