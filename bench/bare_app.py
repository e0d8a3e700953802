"""The baseline for bench/status_throughput.py: a bare Starlette JSON endpoint, no database."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

BODY = {
    "id": "00000000-0000-4000-8000-000000000000",
    "status": "unauthenticated",
    "url": "http://127.0.0.1/digilocker/journey/00000000-0000-4000-8000-000000000000",
    "validUpto": "2026-11-29T10:00:00+05:30",
    "digilockerUserDetails": {},
    "traceId": "1-00000000-000000000000000000000000",
}


async def status(_request: Request) -> JSONResponse:
    return JSONResponse(BODY)


async def healthz(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(
    routes=[Route("/api/digilocker/{request_id}/status", status), Route("/healthz", healthz)]
)


def _static_body() -> bytes:
    import os

    path = os.environ.get("BENCH_STATIC_BODY")
    if not path:
        return b"{}"
    with open(path, "rb") as handle:
        return handle.read()


_STATIC = _static_body()


async def static(_request: Request) -> Response:
    """The same gzip bytes the gateway serves for the catalogue, from memory."""
    return Response(
        _STATIC,
        media_type="application/json",
        headers={"Content-Encoding": "gzip", "ETag": '"static"'},
    )


app.router.routes.append(Route("/static", static))
