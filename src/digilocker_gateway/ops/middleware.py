"""`OperationsMiddleware`: around every API call, the metrics and the one access-log line
(docs/operations.md); quotas are checked after authentication, by ops/quota_deps.py. Pure
ASGI, like the other middleware in kit/web.py, so streamed downloads are not buffered.

It sits inside `TraceIdMiddleware` (the log line and a 429's envelope carry the trace id) and
inside the trailing-slash rewrite, so the router writes the matched route into the very scope
it holds and the route template can be read back after the call.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from digilocker_gateway.config import CALLBACK_PATH, JOURNEY_PATH, SIMULATOR_MOUNT
from digilocker_gateway.ops.calls import begin_call, end_call
from digilocker_gateway.ops.logs import ACCESS_LOGGER
from digilocker_gateway.ops.metrics import GatewayMetrics

access_logger = logging.getLogger(ACCESS_LOGGER)

_INSTANCE_HEADER = b"x-product-instance-id"
# What an id the gateway issued looks like; anything else is never logged or used as a label.
_PLAUSIBLE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
# Calls that only probe the gateway: logged at DEBUG, so the access log is the API's.
_PROBES = frozenset({"/metrics", "/healthz", "/readyz"})
_JOURNEY_ROUTE = JOURNEY_PATH + "/{request_id}"
_DENIED = "user_consent_not_given"


@dataclass(frozen=True, slots=True)
class OperationsConfig:
    metrics: GatewayMetrics | None
    access_log: bool


class OperationsMiddleware:
    def __init__(self, app: ASGIApp, *, config: OperationsConfig) -> None:
        self.app = app
        self._metrics = config.metrics
        self._access_log = config.access_log
        # Each (route, method, status)'s counter and histogram children, looked up once:
        # prometheus_client's labels() takes a lock and builds its key on every call.
        self._observed: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(SIMULATOR_MOUNT):
            # The embedded simulator is DigiLocker, not the API: its calls are counted as
            # upstream calls, by operation.
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        record, token = begin_call()
        metrics = self._metrics
        if metrics is not None:
            metrics.http_in_progress.inc()
        instance = _instance_of(scope)
        method: str = scope["method"]
        status = 500
        location: str | None = None

        async def send_observed(message: Message) -> None:
            nonlocal status, location
            if message["type"] == "http.response.start":
                status = message["status"]
                if record.retry_after is not None and status >= 500:
                    # A breaker refused a DigiLocker call: tell the caller when to come back.
                    message["headers"] = [
                        *message.get("headers", []),
                        (b"retry-after", str(record.retry_after).encode()),
                    ]
                if status in (302, 303, 307):
                    for name, value in message.get("headers", []):
                        if name == b"location":
                            location = value.decode("latin-1")
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        finally:
            end_call(token)
            seconds = time.perf_counter() - started
            route = _route_template(scope)
            if metrics is not None:
                metrics.http_in_progress.dec()
                children = self._observed.get((route, method, status))
                if children is None:
                    children = (
                        metrics.http_requests.labels(route, method, str(status)),
                        metrics.http_duration.labels(route, method),
                    )
                    self._observed[(route, method, status)] = children
                children[0].inc()
                children[1].observe(seconds)
            if self._access_log:
                fields: dict[str, Any] = {
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                    "product_instance": instance if status != 401 else None,
                    "request_id": _request_id(scope),
                    "quota": record.quota,
                }
                if record.upstream:
                    fields["upstream_calls"] = ",".join(record.upstream)
                    fields["upstream_ms"] = round(record.upstream_seconds * 1000, 2)
                step = _journey_step(route, location)
                if step is not None:
                    fields["journey_step"], fields["error_code"] = step
                level = logging.DEBUG if path in _PROBES else logging.INFO
                access_logger.log(level, "api call", extra=fields)


def _instance_of(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == _INSTANCE_HEADER:
            text = value.decode("latin-1").strip()
            return text if _PLAUSIBLE_ID.fullmatch(text) else None
    return None


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    template = getattr(route, "path", None)
    return template if isinstance(template, str) else "unmatched"


def _request_id(scope: Scope) -> str | None:
    value = scope.get("path_params", {}).get("request_id")
    return value if isinstance(value, str) and _PLAUSIBLE_ID.fullmatch(value) else None


def _journey_step(route: str, location: str | None) -> tuple[str, str | None] | None:
    """The journey step a browser call made, from where the gateway sent the browser."""
    if route == _JOURNEY_ROUTE:
        return ("journey_opened", None) if location is not None else ("journey_refused", None)
    if route != CALLBACK_PATH:
        return None
    if location is None:
        return "callback_refused", None
    query = parse_qs(urlsplit(location).query)
    if query.get("success", [""])[-1] == "true":
        return "authenticated", None
    code = query.get("errCode", [""])[-1]
    code = code if _PLAUSIBLE_ID.fullmatch(code) else "unknown"
    return ("denied" if code == _DENIED else "failed"), code
