"""HTTP plumbing shared by every router: the trace id, the Setu error envelope, bounded bodies."""

from __future__ import annotations

import logging
import random
import re
import time
from contextvars import ContextVar
from typing import Any, TypeVar

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from digilocker_gateway.errors import GatewayError, InvalidPayload, PayloadTooLarge, RateLimited
from digilocker_gateway.kit import deadline

logger = logging.getLogger("digilocker_gateway")

ModelT = TypeVar("ModelT", bound=BaseModel)

TRACE_HEADER = "x-trace-id"
_trace_id: ContextVar[str] = ContextVar("trace_id", default="")


def current_trace_id() -> str:
    return _trace_id.get()


def new_trace_id() -> str:
    # Setu's shape: "1-<8 hex seconds>-<24 hex>", so operators can sort traces by time. A trace
    # id names a call and grants nothing, so it needs to be unique, not unguessable: `random`
    # (seeded from the OS, reseeded in a forked child) instead of a system call per call.
    return f"1-{int(time.time()):08x}-{random.getrandbits(96):024x}"


_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")


def trace_id_from_traceparent(value: str | None) -> str | None:
    """The trace id of a W3C `traceparent` header (Trace Context §3.2), when it is valid, so
    one trace id follows a call from the business's own services through the gateway's logs."""
    if not value:
        return None
    match = _TRACEPARENT.fullmatch(value.strip().lower()[:55])
    if match is None or match.group(1) == "ff" or set(match.group(2)) == {"0"}:
        return None
    return match.group(2)


def _incoming_traceparent(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"traceparent":
            return str(value.decode("latin-1"))
    return None


class TraceIdMiddleware:
    """Gives every call a trace id, available to handlers and sent back as `x-trace-id`.
    Pure ASGI (not BaseHTTPMiddleware) so streaming responses are not buffered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        trace_id = trace_id_from_traceparent(_incoming_traceparent(scope)) or new_trace_id()
        token = _trace_id.set(trace_id)
        header = (TRACE_HEADER.encode(), trace_id.encode())

        started = False

        async def send_with_trace(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_trace)
        except Exception as exc:
            # Caught here, inside the trace, rather than by Starlette's outermost handler: the
            # answer keeps its traceId, and only the type is logged — a traceback's locals and
            # SQL parameters can carry tokens or personal data.
            logger.error("unexpected error %s (trace %s)", type(exc).__name__, trace_id)
            if started:
                raise
            response = error_response(GatewayError())
            await response(scope, receive, send_with_trace)
        finally:
            _trace_id.reset(token)


class TrailingSlashMiddleware:
    """Serves every path with or without one trailing slash, directly: many HTTP clients do not
    follow a redirect, and a 307 would carry no error envelope (docs/reference/setu-api.md §2).
    Paths under `keep` (the mounted simulator, whose DigiLocker paths differ by their slash)
    are left alone."""

    def __init__(self, app: ASGIApp, *, keep: tuple[str, ...] = ()) -> None:
        self.app = app
        self._keep = keep

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if (
            scope["type"] == "http"
            and len(path) > 1
            and path.endswith("/")
            and not path.endswith("//")
            and not path.startswith(self._keep)
        ):
            scope = {**scope, "path": path[:-1]}
            raw: bytes | None = scope.get("raw_path")
            if raw is not None and raw.endswith(b"/"):
                scope["raw_path"] = raw[:-1]
        await self.app(scope, receive, send)


class DeadlineMiddleware:
    """Gives every call its budget for waiting on DigiLocker (kit/deadline.py): `seconds`, or
    the budget `per_path` names for a path."""

    def __init__(
        self, app: ASGIApp, *, seconds: float, per_path: dict[str, float] | None = None
    ) -> None:
        self.app = app
        self._seconds = seconds
        self._per_path = per_path or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with deadline.within(self._per_path.get(scope["path"], self._seconds)):
            await self.app(scope, receive, send)


def include_routes(app: FastAPI, *routers: APIRouter) -> None:
    """Add each router's routes to the app itself, in order. Every router here carries its
    prefix, tags and dependencies on its own routes (`APIRouter(prefix=…, tags=…)`), so
    FastAPI's `include_router`, which adds nothing to them, would only wrap each router in a
    branch that the app walks route by route on every call: about 60 µs of CPU before a
    route of the last router matched. Added flat, a call is matched as by a plain router.

    What only `include_router` applies is refused rather than lost: a router's body and form
    limits. `app.dependency_overrides` does not reach these routes (nothing here uses it)."""
    for router in routers:
        if getattr(router, "max_body_size", None) is not None or getattr(
            router, "form_limits", None
        ):
            raise ValueError(f"{router.prefix or '/'}: body limits need app.include_router")
        app.router.routes.extend(router.routes)


def error_response(error: GatewayError, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": {"code": error.code, "detail": error.detail, "traceId": current_trace_id()}}
    return JSONResponse(body, status_code=error.status, headers=headers)


def gateway_error_response(error: GatewayError) -> JSONResponse:
    """A GatewayError raised by a handler, answered in the envelope (5xx are logged, by code)."""
    if error.status >= 500:
        logger.warning("call failed: %s (trace %s)", error.code, current_trace_id())
    if isinstance(error, RateLimited) and error.retry_after is not None:
        return error_response(error, headers={"Retry-After": str(error.retry_after)})
    return error_response(error)


def install_error_handlers(app: FastAPI) -> None:
    async def on_gateway_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, GatewayError)
        return gateway_error_response(exc)

    async def on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return error_response(InvalidPayload(describe_validation_errors(exc.errors())))

    async def on_http_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "bad_request")
        headers = dict(exc.headers or {})
        detail = str(exc.detail)
        if exc.status_code == 405 and "Allow" in headers:
            detail = f"This path does not answer that method; it answers {headers['Allow']}."
        error = GatewayError(detail, code=code)
        error.status = exc.status_code
        # A 405 keeps Starlette's Allow header (RFC 9110 §15.5.6).
        return error_response(error, headers=headers or None)

    app.add_exception_handler(GatewayError, on_gateway_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)


def describe_validation_errors(errors: Any) -> str:
    parts: list[str] = []
    for error in list(errors)[:5]:
        location = ".".join(str(item) for item in error.get("loc", ()) if item != "body")
        message = error.get("msg", "invalid")
        parts.append(f"{location}: {message}" if location else str(message))
    return "; ".join(parts) or "The request body is not valid."


# Media types a JSON body may come with: Setu's clients often send none, or text/plain.
_JSON_MEDIA_TYPES = frozenset({"", "application/json", "text/plain"})


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


async def read_body(
    request: Request, *, max_bytes: int, too_large: type[GatewayError] = PayloadTooLarge
) -> bytes:
    """The whole body, refused with `too_large` as soon as it passes `max_bytes`: by its
    declared length before reading, or while reading, so a large body is never held."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise too_large()
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > max_bytes:
            raise too_large()
    return bytes(body)


def media_type_of(request: Request) -> str:
    return _media_type(request.headers.get("content-type", ""))


async def read_json_body(request: Request, model: type[ModelT], *, max_bytes: int) -> ModelT:
    """Read at most `max_bytes` of body and validate it as `model`. Done by hand, after
    authentication, so a bad body never outranks a 401. A body without a content type, or with
    text/plain, is read as JSON when it is JSON (docs/reference/setu-api.md §2); a form or any
    other media type is refused."""
    media_type = _media_type(request.headers.get("content-type", ""))
    if media_type not in _JSON_MEDIA_TYPES and not media_type.endswith("+json"):
        raise InvalidPayload(f"The body must be a JSON object, not {media_type}.")
    body = await read_body(request, max_bytes=max_bytes)
    if not body:
        raise InvalidPayload("The request body is empty; a JSON object is expected.")
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise InvalidPayload(describe_validation_errors(exc.errors())) from None
