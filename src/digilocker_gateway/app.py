"""`create_app(settings)`: the gateway's ASGI app — routers, error handlers, lifespan — with the
simulator mounted at /simulator and used as the upstream when no DigiLocker URL is configured."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import httpx
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.types import ASGIApp

from digilocker_gateway import __version__
from digilocker_gateway.aadhaar import endpoints as aadhaar_endpoints
from digilocker_gateway.accounts import endpoints as account_endpoints
from digilocker_gateway.accounts.schemas import AccountCheck
from digilocker_gateway.audit import endpoints as audit_endpoints
from digilocker_gateway.config import CALLBACK_PATH, SIMULATOR_MOUNT, Settings
from digilocker_gateway.db.engine import count_statements
from digilocker_gateway.documents import endpoints as document_endpoints
from digilocker_gateway.documents.catalogue import CatalogueCache
from digilocker_gateway.documents.schemas import DocumentFetch
from digilocker_gateway.jobs import start_background_jobs, sweep_at_start
from digilocker_gateway.kit.clock import Clock, SystemClock
from digilocker_gateway.kit.docs_pages import install_docs_pages
from digilocker_gateway.kit.openapi import install_openapi
from digilocker_gateway.kit.web import (
    DeadlineMiddleware,
    TraceIdMiddleware,
    TrailingSlashMiddleware,
    include_routes,
    install_error_handlers,
)
from digilocker_gateway.ops import build_operations
from digilocker_gateway.ops.endpoints import metrics_router
from digilocker_gateway.ops.logs import quiet_libraries
from digilocker_gateway.ops.middleware import OperationsMiddleware
from digilocker_gateway.requests import endpoints as request_endpoints
from digilocker_gateway.requests.schemas import DigilockerRequestCreate
from digilocker_gateway.runtime import Runtime
from digilocker_gateway.runtime_build import build_runtime, close_runtime
from digilocker_gateway.webhooks import endpoints as webhook_endpoints
from digilocker_gateway.webhooks.schemas import WEBHOOK_BODIES

if TYPE_CHECKING:
    from digilocker_gateway.ops.tracing import Tracing

logger = logging.getLogger("digilocker_gateway")
_SELECT_ONE = text("SELECT 1")


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    upstream_transport: httpx.AsyncBaseTransport | None = None,
    simulator: ASGIApp | None = None,
) -> FastAPI:
    """The gateway. `upstream_transport` replaces the network for DigiLocker calls (tests);
    `simulator` is the simulator app to mount when running on the embedded default."""
    settings = settings or Settings()
    clock = clock or SystemClock()
    operations = build_operations(settings, clock)
    quiet_libraries()  # whoever configures logging, no library logs personal data
    tracing: Tracing | None = None  # set below when DLG_OTEL_ENABLED (ops/tracing.py)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        transport = upstream_transport
        if transport is None and settings.uses_embedded_simulator:
            from digilocker_gateway.simulator.embedded import transport_through

            transport = transport_through(app, settings)
        runtime = await build_runtime(
            settings,
            clock=clock,
            transport=transport,
            catalogue=CatalogueCache(),
            worker_id=f"{socket.gethostname()}:{os.getpid()}",
        )
        runtime.upstream_observer = operations.guard
        if tracing is not None:
            tracing.instrument_runtime(runtime)
        if settings.database_statement_metrics and operations.metrics is not None:
            count_statements(
                runtime.engine,
                statement=operations.metrics.db_statements.inc,
                commit=operations.metrics.db_commits.inc,
            )
        app.state.runtime = runtime
        await sweep_at_start(runtime)
        tasks = start_background_jobs(runtime) if settings.background_jobs else []
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await close_runtime(runtime)
            if tracing is not None:
                tracing.close()
            if operations.metrics is not None:
                operations.metrics.process_stopped()

    app = FastAPI(
        title="DigiLocker gateway",
        version=__version__,
        summary="A self-hosted, Setu-compatible DigiLocker API",
        lifespan=lifespan,
        docs_url=None,  # served from local assets by install_docs_pages
        redoc_url=None,
        redirect_slashes=False,  # TrailingSlashMiddleware serves both forms directly
        # FastAPI's own OpenTelemetry spans are off: they would record raw paths and queries
        # (request ids, signed file tokens, the callback's code and state) whenever a process
        # has a tracer provider, and their checks for one cost every call. The gateway's
        # tracing (ops/tracing.py, DLG_OTEL_ENABLED) records scrubbed spans instead.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    install_error_handlers(app)
    app.state.quotas = operations.quotas  # read by the quota dependency (ops/quota_deps.py)
    include_routes(
        app,
        request_endpoints.router,
        document_endpoints.router,
        aadhaar_endpoints.router,
        aadhaar_endpoints.offline_router,
        request_endpoints.browser_router,
        document_endpoints.files_router,
        account_endpoints.router,
        webhook_endpoints.router,
        audit_endpoints.router,
    )

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        runtime: Runtime = app.state.runtime
        problems: dict[str, str] = {}
        try:
            async with runtime.reading() as session:
                await session.execute(_SELECT_ONE)
        except Exception as exc:
            problems["database"] = type(exc).__name__
        try:
            await runtime.blobs.check()
        except Exception as exc:
            problems["file_store"] = type(exc).__name__
        # An open breaker is DigiLocker's trouble, not this process's: shown, never failing.
        upstream = operations.breakers.states()
        if problems:
            return JSONResponse(
                {"status": "unavailable", "problems": problems, "upstream": upstream},
                status_code=503,
            )
        return JSONResponse({"status": "ready", "upstream": upstream})

    if operations.metrics is not None:
        include_routes(app, metrics_router(settings, operations.metrics))

    if settings.environment == "dev":
        # The demo integration (docs/sdk.md §6): a business's page, off in production.
        from digilocker_gateway.demo.endpoints import demo_router

        include_routes(app, demo_router())

    install_openapi(
        app, body_models=(DigilockerRequestCreate, DocumentFetch, AccountCheck, *WEBHOOK_BODIES)
    )
    install_docs_pages(app)

    if settings.uses_embedded_simulator:
        if simulator is None:
            # Imported here: a gateway in front of real DigiLocker never loads the simulator.
            from digilocker_gateway.simulator.embedded import simulator_for

            simulator = simulator_for(settings, clock=clock)
        app.mount(SIMULATOR_MOUNT, simulator)
    app.add_middleware(OperationsMiddleware, config=operations.middleware_config)
    app.add_middleware(
        DeadlineMiddleware,
        seconds=settings.api_deadline_seconds,
        per_path={CALLBACK_PATH: settings.callback_deadline_seconds},
    )
    app.add_middleware(TrailingSlashMiddleware, keep=(SIMULATOR_MOUNT + "/",))
    app.add_middleware(TraceIdMiddleware)
    if settings.otel_enabled:
        # Imported only here: with tracing off, nothing of OpenTelemetry is loaded.
        from digilocker_gateway.ops.tracing import Tracing

        tracing = Tracing(app)
    return app
