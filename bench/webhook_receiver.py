"""A webhook receiver for bench/webhook_delivery.py: answers 200 to every POST and notes when
each `webhook-id` arrived (CLOCK_MONOTONIC, which every process on the machine shares)."""

from __future__ import annotations

import time

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

arrivals: dict[str, int] = {}


async def hook(request: Request) -> Response:
    await request.body()
    arrivals.setdefault(request.headers.get("webhook-id", ""), time.monotonic_ns())
    return Response(b"ok")


async def times(_request: Request) -> JSONResponse:
    return JSONResponse(arrivals)


async def reset(_request: Request) -> Response:
    arrivals.clear()
    return Response(b"")


async def healthz(_request: Request) -> Response:
    return Response(b"ok")


app = Starlette(
    routes=[
        Route("/hook", hook, methods=["POST"]),
        Route("/times", times),
        Route("/reset", reset, methods=["POST"]),
        Route("/healthz", healthz),
    ]
)
