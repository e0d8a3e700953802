"""`GET /metrics`: the Prometheus text exposition (docs/operations.md §1). Outside dev it
answers only a bearer token equal to DLG_METRICS_BEARER_TOKEN, and is off with none set: the
metrics name product instances and show traffic, which is nobody else's business."""

from __future__ import annotations

import hmac
import logging

from fastapi import APIRouter, Request
from fastapi.responses import Response

from digilocker_gateway.config import Settings
from digilocker_gateway.errors import NotFound, Unauthorized
from digilocker_gateway.kit.web import error_response
from digilocker_gateway.ops.metrics import (
    CONTENT_TYPE_LATEST,
    GatewayMetrics,
    Snapshot,
    read_snapshot,
)
from digilocker_gateway.runtime import Runtime

logger = logging.getLogger("digilocker_gateway.ops")

METRICS_PATH = "/metrics"


def metrics_router(settings: Settings, metrics: GatewayMetrics) -> APIRouter:
    router = APIRouter()
    token = settings.metrics_bearer_token
    expected = None if token is None else f"Bearer {token.get_secret_value()}".encode()
    off = expected is None and settings.environment != "dev"
    if off:
        logger.warning("/metrics is off: set DLG_METRICS_BEARER_TOKEN to scrape it")

    @router.get(METRICS_PATH, include_in_schema=False)
    async def scrape(request: Request) -> Response:
        if off:
            return error_response(NotFound("Metrics are off; set DLG_METRICS_BEARER_TOKEN."))
        if expected is not None:
            given = request.headers.get("authorization", "").encode()
            if not hmac.compare_digest(given, expected):
                return error_response(
                    Unauthorized("A bearer token is needed to read the metrics."),
                    headers={"WWW-Authenticate": "Bearer"},
                )
        runtime: Runtime = request.app.state.runtime
        snapshot: Snapshot | None
        try:
            snapshot = await read_snapshot(runtime)
        except Exception as exc:  # the counters are still worth answering without the database
            logger.warning("metrics: could not read the database: %s", type(exc).__name__)
            snapshot = None
        return Response(metrics.render(snapshot), media_type=CONTENT_TYPE_LATEST)

    return router
