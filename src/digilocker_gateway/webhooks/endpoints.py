"""The webhook API: manage a product instance's endpoints, list deliveries, replay
(docs/webhooks.md §6). Authenticated with the same three headers as every /api call; a
product instance sees only its own endpoints and deliveries."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request, Response

from digilocker_gateway.errors import InternalServerError, InvalidPayload, NotFound, Unauthorized
from digilocker_gateway.kit.openapi import error_responses, json_request_body
from digilocker_gateway.kit.web import read_json_body
from digilocker_gateway.tenants.deps import RuntimeDep, TenantDep
from digilocker_gateway.webhooks import schemas, service

router = APIRouter(prefix="/api/digilocker/webhooks", tags=["Webhooks"])


def _development(runtime: RuntimeDep) -> bool:
    return runtime.settings.environment == "dev"


@router.post(
    "",
    response_model=schemas.WebhookEndpointCreated,
    status_code=201,
    summary="Add a webhook endpoint (its secret is shown once)",
    openapi_extra=json_request_body(schemas.WebhookEndpointCreate),
    responses=error_responses(Unauthorized, InvalidPayload, InternalServerError),
)
async def create_endpoint(
    request: Request, runtime: RuntimeDep, tenant: TenantDep
) -> schemas.WebhookEndpointCreated:
    body = await read_json_body(
        request, schemas.WebhookEndpointCreate, max_bytes=runtime.settings.max_body_bytes
    )
    async with runtime.transaction() as session:
        created = await service.create_endpoint(
            session,
            product_instance_id=tenant.product_instance_id,
            url=body.url,
            event_types=body.eventTypes,
            enabled=body.enabled,
            sealed=runtime.sealed,
            now=runtime.clock.now(),
            development=_development(runtime),
        )
        view = service.endpoint_view(created.endpoint)
    return schemas.WebhookEndpointCreated(**view, secret=created.secret)


@router.get(
    "",
    response_model=schemas.WebhookEndpointList,
    summary="List webhook endpoints",
    responses=error_responses(Unauthorized, InternalServerError),
)
async def list_endpoints(runtime: RuntimeDep, tenant: TenantDep) -> schemas.WebhookEndpointList:
    async with runtime.reading() as session:
        found = await service.list_endpoints(
            session, product_instance_id=tenant.product_instance_id
        )
        views = [schemas.WebhookEndpoint(**service.endpoint_view(item)) for item in found]
    return schemas.WebhookEndpointList(endpoints=views)


# Before /{endpoint_id}: "deliveries" is not an endpoint id.
@router.get(
    "/deliveries",
    response_model=schemas.WebhookDeliveryList,
    summary="List deliveries of every endpoint, e.g. of one request",
    responses=error_responses(Unauthorized, InternalServerError),
)
async def list_all_deliveries(
    runtime: RuntimeDep,
    tenant: TenantDep,
    requestId: str | None = None,
    status: Literal["pending", "delivered", "failed"] | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
) -> schemas.WebhookDeliveryList:
    async with runtime.reading() as session:
        found = await service.list_deliveries(
            session,
            product_instance_id=tenant.product_instance_id,
            request_id=requestId,
            status=status,
            limit=limit,
        )
    return schemas.WebhookDeliveryList.model_validate({"deliveries": found})


@router.get(
    "/{endpoint_id}",
    response_model=schemas.WebhookEndpoint,
    summary="Get a webhook endpoint",
    responses=error_responses(Unauthorized, NotFound, InternalServerError),
)
async def get_endpoint(
    endpoint_id: str, runtime: RuntimeDep, tenant: TenantDep
) -> schemas.WebhookEndpoint:
    async with runtime.reading() as session:
        found = await service.get_endpoint(
            session, product_instance_id=tenant.product_instance_id, endpoint_id=endpoint_id
        )
        return schemas.WebhookEndpoint(**service.endpoint_view(found))


@router.patch(
    "/{endpoint_id}",
    response_model=schemas.WebhookEndpoint,
    summary="Change a webhook endpoint's URL, event types or enabled flag",
    openapi_extra=json_request_body(schemas.WebhookEndpointUpdate),
    responses=error_responses(Unauthorized, InvalidPayload, NotFound, InternalServerError),
)
async def update_endpoint(
    endpoint_id: str, request: Request, runtime: RuntimeDep, tenant: TenantDep
) -> schemas.WebhookEndpoint:
    body = await read_json_body(
        request, schemas.WebhookEndpointUpdate, max_bytes=runtime.settings.max_body_bytes
    )
    async with runtime.transaction() as session:
        found = await service.update_endpoint(
            session,
            product_instance_id=tenant.product_instance_id,
            endpoint_id=endpoint_id,
            url=body.url,
            event_types=body.eventTypes,
            enabled=body.enabled,
            now=runtime.clock.now(),
            development=_development(runtime),
        )
        return schemas.WebhookEndpoint(**service.endpoint_view(found))


@router.delete(
    "/{endpoint_id}",
    status_code=204,
    summary="Delete a webhook endpoint and its pending deliveries",
    responses=error_responses(Unauthorized, NotFound, InternalServerError),
)
async def delete_endpoint(endpoint_id: str, runtime: RuntimeDep, tenant: TenantDep) -> Response:
    async with runtime.transaction() as session:
        await service.delete_endpoint(
            session, product_instance_id=tenant.product_instance_id, endpoint_id=endpoint_id
        )
    return Response(status_code=204)


@router.post(
    "/{endpoint_id}/rotate-secret",
    response_model=schemas.RotatedSecret,
    summary="Rotate the signing secret; the old one signs too until the overlap ends",
    openapi_extra=json_request_body(schemas.SecretRotation),
    responses=error_responses(Unauthorized, InvalidPayload, NotFound, InternalServerError),
)
async def rotate_secret(
    endpoint_id: str, request: Request, runtime: RuntimeDep, tenant: TenantDep
) -> schemas.RotatedSecret:
    body = (
        await read_json_body(
            request, schemas.SecretRotation, max_bytes=runtime.settings.max_body_bytes
        )
        if await request.body()
        else schemas.SecretRotation()
    )
    overlap = body.overlapSeconds
    async with runtime.transaction() as session:
        rotated = await service.rotate_secret(
            session,
            product_instance_id=tenant.product_instance_id,
            endpoint_id=endpoint_id,
            overlap_seconds=(
                runtime.settings.webhook_rotation_overlap_seconds if overlap is None else overlap
            ),
            sealed=runtime.sealed,
            now=runtime.clock.now(),
        )
        view = service.endpoint_view(rotated.endpoint)
    return schemas.RotatedSecret(
        id=endpoint_id,
        secret=rotated.secret,
        previousSecretExpiresAt=view["previousSecretExpiresAt"],
    )


@router.get(
    "/{endpoint_id}/deliveries",
    response_model=schemas.WebhookDeliveryList,
    summary="List an endpoint's deliveries, newest first, with their attempts",
    responses=error_responses(Unauthorized, NotFound, InternalServerError),
)
async def list_deliveries(
    endpoint_id: str,
    runtime: RuntimeDep,
    tenant: TenantDep,
    requestId: str | None = None,
    status: Literal["pending", "delivered", "failed"] | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
) -> schemas.WebhookDeliveryList:
    async with runtime.reading() as session:
        await service.get_endpoint(
            session, product_instance_id=tenant.product_instance_id, endpoint_id=endpoint_id
        )
        found = await service.list_deliveries(
            session,
            product_instance_id=tenant.product_instance_id,
            endpoint_id=endpoint_id,
            request_id=requestId,
            status=status,
            limit=limit,
        )
    return schemas.WebhookDeliveryList.model_validate({"deliveries": found})


@router.post(
    "/{endpoint_id}/replay",
    response_model=schemas.ReplayResult,
    summary="Send events again: one delivery, every failed one since a time, or a request's",
    openapi_extra=json_request_body(schemas.ReplayRequest),
    responses=error_responses(Unauthorized, InvalidPayload, NotFound, InternalServerError),
)
async def replay(
    endpoint_id: str, request: Request, runtime: RuntimeDep, tenant: TenantDep
) -> schemas.ReplayResult:
    body = await read_json_body(
        request, schemas.ReplayRequest, max_bytes=runtime.settings.max_body_bytes
    )
    failed_since = body.failedSince
    if failed_since is not None and failed_since.tzinfo is None:
        raise InvalidPayload("failedSince must carry a time zone offset.")
    async with runtime.transaction() as session:
        queued = await service.replay(
            session,
            product_instance_id=tenant.product_instance_id,
            endpoint_id=endpoint_id,
            delivery_id=body.deliveryId,
            failed_since=failed_since,
            request_id=body.requestId,
            now=runtime.clock.now(),
        )
    return schemas.ReplayResult(queued=queued)
