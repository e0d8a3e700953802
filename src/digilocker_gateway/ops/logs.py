"""Structured logs (docs/operations.md §2): every record of the standard `logging` module —
the gateway's, uvicorn's, the libraries' — rendered by one `structlog` formatter, as one JSON
object a line in production and as readable `key=value` lines in development.

The code that logs stays on plain `logging`: fields travel as `extra=` attributes named in
`FIELDS`, and the formatter adds the time, the level, the logger and the call's trace id. So
nothing depends on structlog's global configuration, and a record logged before
`configure_logging` runs is still a valid record.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, Literal

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from digilocker_gateway.kit.web import current_trace_id

__all__ = ["ACCESS_LOGGER", "FIELDS", "build_formatter", "configure_logging", "quiet_libraries"]

ACCESS_LOGGER = "digilocker_gateway.access"

# The structured fields a record may carry (as `extra=`); anything else in `extra` is dropped,
# so a careless `extra=` can never put a token in the log.
FIELDS = (
    "method",
    "route",
    "status",
    "duration_ms",
    "product_instance",
    "request_id",
    "upstream_calls",
    "upstream_ms",
    "journey_step",
    "error_code",
    "quota",
)


# Libraries that log personal data below WARNING: httpx logs full URLs at INFO (DigiLocker
# URLs carry document URIs, the callback's carry the code); signxml logs the canonicalised
# XML it verifies at DEBUG — an e-Aadhaar's name, date of birth and photo.
QUIET_LOGGERS = ("httpx", "signxml")


def quiet_libraries() -> None:
    """Hold the libraries in QUIET_LOGGERS at WARNING, whatever level the root logger has."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def _add_trace_id(_logger: WrappedLogger, _name: str, event: EventDict) -> EventDict:
    trace_id = current_trace_id()
    if trace_id:
        event.setdefault("trace_id", trace_id)
    return event


def _drop_empty(_logger: WrappedLogger, _name: str, event: EventDict) -> EventDict:
    for key in [key for key, value in event.items() if value is None]:
        del event[key]
    return event


def build_formatter(style: Literal["json", "console"]) -> logging.Formatter:
    chain: list[Processor] = [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
        structlog.stdlib.ExtraAdder(allow=FIELDS),
        _add_trace_id,
        _drop_empty,
    ]
    renderer: Processor
    if style == "json":
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=False, sort_keys=False)
    return structlog.stdlib.ProcessorFormatter(
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            # Only the exception's type: a traceback's frames can carry tokens and personal
            # data (docs/architecture.md §4).
            _exception_type_only,
            renderer,
        ],
        foreign_pre_chain=chain,
    )


def _exception_type_only(
    _logger: WrappedLogger, _name: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    exc_info = event.pop("exc_info", None)
    if isinstance(exc_info, tuple) and exc_info[0] is not None:
        event["exception"] = exc_info[0].__name__
    return event


def configure_logging(style: Literal["json", "console"], level: str = "INFO") -> None:
    """Send every record to stderr through the structured formatter (for `serve`)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(build_formatter(style))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
    quiet_libraries()
