"""The demo's routes at `/demo`, mounted only in development (app.py): every call to the API
goes through the SDK, into this same app in process, with a credential of the demo's own."""

from __future__ import annotations

import asyncio
import re
import tempfile
from pathlib import Path

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from digilocker_gateway.client import (
    AadhaarResult,
    AsyncDigiLockerClient,
    CatalogueCache,
    CatalogueDocument,
    DigiLockerError,
    FetchedDocument,
    parse_callback,
)
from digilocker_gateway.config import FILES_PATH
from digilocker_gateway.demo import pages
from digilocker_gateway.runtime import Runtime
from digilocker_gateway.tenants.service import create_client

DEMO_PATH = "/demo"
_DOC_TYPE = re.compile(r"^[A-Z0-9]{2,12}$")
_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    # No CDN, no inline script: the page's one script is /demo/demo.js.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "style-src 'unsafe-inline'; frame-ancestors 'none'",
}


class DemoState:
    """The demo's own API credential (made on first use), the catalogue cache its SDK clients
    share, and the scope each finished journey reported, kept in this process only."""

    def __init__(self) -> None:
        self.credentials: dict[str, str] | None = None
        self.lock = asyncio.Lock()
        self.catalogue_cache = CatalogueCache()
        self.scopes: dict[str, list[str]] = {}

    async def sdk(self, request: Request) -> AsyncDigiLockerClient:
        runtime: Runtime = request.app.state.runtime
        async with self.lock:
            if self.credentials is None:
                settings = runtime.settings
                async with runtime.transaction() as session:
                    created = await create_client(
                        session,
                        hasher=runtime.hasher,
                        sealed=runtime.sealed,
                        clock=runtime.clock,
                        name="demo",
                        digilocker_client_id=settings.digilocker_client_id,
                        digilocker_client_secret=settings.digilocker_client_secret.get_secret_value(),
                        request_lifetime_seconds=settings.request_lifetime_seconds,
                    )
                self.credentials = created.as_headers()
        credentials = self.credentials
        return AsyncDigiLockerClient(
            runtime.settings.effective_public_base_url,
            client_id=credentials["x-client-id"],
            client_secret=credentials["x-client-secret"],
            product_instance_id=credentials["x-product-instance-id"],
            transport=httpx.ASGITransport(app=request.app),
            catalogue_cache=self.catalogue_cache,
            gateway=True,
        )


def _html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers=_HEADERS)


def demo_router() -> APIRouter:
    """The demo's routes, with a `DemoState` of their own (no module globals)."""
    state = DemoState()
    router = APIRouter(prefix=DEMO_PATH, include_in_schema=False)

    async def render(
        request: Request,
        request_id: str,
        *,
        aadhaar: AadhaarResult | None = None,
        fetched: FetchedDocument | None = None,
        fetched_label: str = "",
        error: DigiLockerError | str | None = None,
    ) -> HTMLResponse:
        async with await state.sdk(request) as sdk:
            try:
                status = await sdk.status(request_id)
            except DigiLockerError as exc:
                return _html(pages.start_page(exc), status=exc.status or 500)
            consented = state.scopes.get(request_id, [])
            documents: dict[str, list[CatalogueDocument]] = {}
            wanted = [doc for doc in consented if doc != "ADHAR"]
            if wanted and status.status == "authenticated":
                try:
                    catalogue = await sdk.catalogue()
                    documents = {doc: catalogue.find(doc) for doc in wanted}
                except DigiLockerError as exc:
                    error = error or exc
        view = pages.RequestView(
            status=status,
            consented=consented,
            documents=documents,
            aadhaar=aadhaar,
            fetched=fetched,
            fetched_label=fetched_label,
            error=error,
        )
        return _html(pages.request_page(view))

    @router.get("")
    async def start_page() -> HTMLResponse:
        return _html(pages.start_page())

    @router.get("/demo.js")
    async def script() -> Response:
        return Response(
            pages.SCRIPT,
            media_type="text/javascript",
            headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
        )

    @router.post("/start")
    async def start(request: Request) -> Response:
        form = await request.form()
        chosen = [v for v in form.getlist("doctype") if isinstance(v, str) and _DOC_TYPE.match(v)]
        base = request.app.state.runtime.settings.effective_public_base_url
        async with await state.sdk(request) as sdk:
            try:
                created = await sdk.create(f"{base}{DEMO_PATH}/return", doc_type=chosen or None)
            except DigiLockerError as exc:
                return _html(pages.start_page(exc), status=exc.status or 500)
        return RedirectResponse(created.url, status_code=303, headers={"Cache-Control": "no-store"})

    @router.get("/return")
    async def back(request: Request) -> Response:
        # The redirect back is only a hint; the request page asks the API for the status.
        result = parse_callback(request.query_params)
        if not result.success or result.id is None:
            return _html(pages.failed_page(result.err_code, result.err_message, result.id))
        state.scopes[result.id] = [s for s in result.scopes if _DOC_TYPE.match(s)]
        return RedirectResponse(f"{DEMO_PATH}/requests/{result.id}", status_code=303)

    @router.get("/requests/{request_id}")
    async def request_page(request: Request, request_id: str) -> HTMLResponse:
        return await render(request, request_id)

    @router.get("/requests/{request_id}/status.json")
    async def request_status(request: Request, request_id: str) -> JSONResponse:
        async with await state.sdk(request) as sdk:
            try:
                status = await sdk.status(request_id)
            except DigiLockerError as exc:
                return JSONResponse({"error": exc.code}, status_code=exc.status or 500)
        return JSONResponse({"status": status.status}, headers={"Cache-Control": "no-store"})

    @router.post("/requests/{request_id}/aadhaar")
    async def aadhaar(request: Request, request_id: str) -> HTMLResponse:
        async with await state.sdk(request) as sdk:
            try:
                result = await sdk.aadhaar(request_id)
            except DigiLockerError as exc:
                return await render(request, request_id, error=exc)
        return await render(request, request_id, aadhaar=result)

    @router.post("/requests/{request_id}/document")
    async def document(request: Request, request_id: str) -> HTMLResponse:
        form = await request.form()
        doc_type, org_id = str(form.get("docType", "")), str(form.get("orgId", ""))
        parameters = {
            key.removeprefix("param."): value.strip()
            for key, value in form.multi_items()
            if key.startswith("param.") and isinstance(value, str)
        }
        async with await state.sdk(request) as sdk:
            try:
                fetched = await sdk.fetch_document(
                    request_id, doc_type=doc_type, org_id=org_id, parameters=parameters
                )
            except DigiLockerError as exc:
                return await render(request, request_id, error=exc)
        return await render(request, request_id, fetched=fetched, fetched_label=doc_type)

    @router.get("/view")
    async def view(request: Request, file: str) -> Response:
        # Shown inline (the API's fileUrl answers as an attachment); only this gateway's own
        # file links, so the demo fetches nothing else.
        base = request.app.state.runtime.settings.effective_public_base_url
        if not file.startswith(f"{base}{FILES_PATH}/"):
            return _html(pages.start_page("That is not a file link of this gateway."), 400)
        async with await state.sdk(request) as sdk:
            with tempfile.TemporaryDirectory() as folder:
                try:
                    path = await sdk.download(file, Path(folder) / "document")
                except DigiLockerError as exc:
                    return _html(pages.start_page(exc), status=exc.status or 500)
                content = path.read_bytes()
        media_type = "application/pdf" if content.startswith(b"%PDF-") else "application/xml"
        return Response(
            content,
            media_type=media_type,
            headers={
                "Content-Disposition": "inline",
                "Cache-Control": "private, no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )

    @router.post("/requests/{request_id}/revoke")
    async def revoke(request: Request, request_id: str) -> Response:
        async with await state.sdk(request) as sdk:
            try:
                await sdk.revoke(request_id)
            except DigiLockerError as exc:
                return await render(request, request_id, error=exc)
        return RedirectResponse(f"{DEMO_PATH}/requests/{request_id}", status_code=303)

    return router
