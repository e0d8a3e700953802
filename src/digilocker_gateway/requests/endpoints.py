"""Setu's create / status / revoke calls, and the browser-facing journey and callback."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.types import Receive, Scope, Send

from digilocker_gateway.config import CALLBACK_PATH, JOURNEY_PATH
from digilocker_gateway.db.models import DigilockerRequest as RequestRow
from digilocker_gateway.db.models import ProductInstance
from digilocker_gateway.errors import (
    GatewayError,
    InternalServerError,
    InvalidPayload,
    InvalidRedirectUrl,
    MissingCredentials,
    PayloadTooLarge,
    RequestNotFound,
    Unauthorized,
    UpstreamServerError,
    UserNotAuthenticated,
)
from digilocker_gateway.kit.timefmt import to_ist_iso
from digilocker_gateway.kit.web import current_trace_id, gateway_error_response, read_json_body
from digilocker_gateway.requests import journey, service, tokens
from digilocker_gateway.requests.fast_status import read_status
from digilocker_gateway.requests.pages import message_page
from digilocker_gateway.requests.schemas import (
    DigilockerRequest,
    DigilockerRequestCreate,
    DigilockerRequestStatus,
    ErrorEnvelope,
    RevokeResult,
)
from digilocker_gateway.runtime import Runtime
from digilocker_gateway.tenants.deps import (
    InstanceDep,
    RuntimeDep,
    instance_for_headers,
)

router = APIRouter(prefix="/api/digilocker", tags=["DigiLocker"])
browser_router = APIRouter(include_in_schema=False)


def errors(*classes: type[GatewayError]) -> dict[int | str, dict[str, Any]]:
    """`responses=` for an endpoint: each status it can answer with, and its codes."""
    by_status: dict[int, list[str]] = {}
    if Unauthorized in classes:  # every authenticated call can also lack the headers
        classes = (*classes, MissingCredentials)
    for cls in classes:
        by_status.setdefault(cls.status, []).append(cls.code)
    return {
        status: {"model": ErrorEnvelope, "description": "Error codes: " + ", ".join(codes)}
        for status, codes in sorted(by_status.items())
    }


def journey_url(runtime: Runtime, request_id: str) -> str:
    return f"{runtime.settings.effective_public_base_url}{JOURNEY_PATH}/{request_id}"


def as_api(runtime: Runtime, row: RequestRow) -> DigilockerRequest:
    return DigilockerRequest(
        id=row.id,
        status=row.status,
        url=journey_url(runtime, row.id),
        validUpto=to_ist_iso(row.valid_upto),
    )


CREATE_OPENAPI = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/DigilockerRequestCreate"}}
        },
    }
}


@router.post(
    "",
    response_model=DigilockerRequest,
    summary="Create a DigiLocker request",
    openapi_extra=CREATE_OPENAPI,
    responses=errors(
        Unauthorized, InvalidPayload, InvalidRedirectUrl, PayloadTooLarge, InternalServerError
    ),
)
@router.post("/", include_in_schema=False, response_model=DigilockerRequest)
async def create_request(
    request: Request, runtime: RuntimeDep, instance: InstanceDep
) -> DigilockerRequest:
    body = await read_json_body(
        request, DigilockerRequestCreate, max_bytes=runtime.settings.max_body_bytes
    )
    async with runtime.transaction() as session:
        row = await service.create_request(
            session, instance=instance, body=body, clock=runtime.clock
        )
        return as_api(runtime, row)


@router.get(
    "/{request_id}/status",
    response_model=DigilockerRequestStatus,
    summary="Get DigiLocker request status",
    responses=errors(Unauthorized, RequestNotFound, InternalServerError),
)
async def request_status(request_id: str, runtime: RuntimeDep, instance: InstanceDep) -> Response:
    # Documents the call; GETs and HEADs are answered by `StatusCall` below (same body).
    return await _status_response(runtime, instance, request_id)


async def _status_response(
    runtime: Runtime, instance: ProductInstance, request_id: str
) -> JSONResponse:
    row = await read_status(runtime, instance=instance, request_id=request_id)
    return JSONResponse(
        {
            "id": row.id,
            "status": row.status,
            "url": journey_url(runtime, row.id),
            "validUpto": to_ist_iso(row.valid_upto),
            "digilockerUserDetails": service.user_details(row),
            "traceId": current_trace_id(),
        }
    )


class StatusCall:
    """The status call as a bare ASGI app, answered by `GatewayApp` before FastAPI's routing.

    Status is the call clients poll, and on a small machine FastAPI's per-call machinery
    (router, dependency solving, middleware layers) costs several times the call itself. This
    serves the same body and the same error envelope as the documented FastAPI route above,
    which stays for /openapi.json, decides the path, and answers other methods (405). The
    trace id and the 500 envelope for unexpected errors come from TraceIdMiddleware, wrapped
    around it in app.create_app."""

    def __init__(self, app: Starlette) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = scope["path_params"]["request_id"]
        try:
            runtime = self._app.state.runtime
            instance = await instance_for_headers(runtime, Headers(scope=scope))
            response: Response = await _status_response(runtime, instance, request_id)
        except GatewayError as error:
            response = gateway_error_response(error)
        await response(scope, receive, send)


@router.get(
    "/{request_id}/revoke",
    response_model=RevokeResult,
    summary="Revoke the user's DigiLocker access token",
    responses=errors(
        Unauthorized,
        UserNotAuthenticated,
        RequestNotFound,
        InternalServerError,
        UpstreamServerError,
    ),
)
async def revoke_request(
    request_id: str, runtime: RuntimeDep, instance: InstanceDep
) -> RevokeResult:
    await tokens.revoke(runtime, instance, request_id)
    return RevokeResult(success=True)


@browser_router.get(JOURNEY_PATH + "/{request_id}")
async def start_journey(request_id: str, runtime: RuntimeDep) -> Response:
    try:
        url = await journey.start_journey(runtime, request_id)
    except journey.JourneyPage as page:
        return message_page(page.title, page.message, status=page.status)
    return RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})


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
        )
    except journey.JourneyPage as page:
        return message_page(
            page.title, page.message, status=page.status, reference=current_trace_id()
        )
    return RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})
