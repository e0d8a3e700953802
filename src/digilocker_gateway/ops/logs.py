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
from datetime import UTC, datetime
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


def _base_fields(_logger: WrappedLogger, name: str, event: EventDict) -> EventDict:
    """The level, the logger, the time, the allowed `extra=` fields that are set and the trace
    id, in one step: the access log writes a line for every API call, and structlog's separate
    processors for these (one pass over the event each) cost as much as the rest of the line."""
    record: logging.LogRecord = event["_record"]
    event["level"] = name
    event["logger"] = record.name
    event["time"] = datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z")
    attributes = record.__dict__
    for key in FIELDS:
        value = attributes.get(key)
        if value is not None:
            event[key] = value
    trace_id = current_trace_id()
    if trace_id:
        event.setdefault("trace_id", trace_id)
    return event


def _console_line(_logger: WrappedLogger, _name: str, event: EventDict) -> str:
    """`time [level] event [logger] key=value …`: a plain line for people reading a terminal.
    Unlike structlog's ConsoleRenderer it pads nothing and styles nothing, at a third of its
    cost per line."""
    head = (
        f"{event.pop('time', '')} [{event.pop('level', '')}] {event.pop('event', '')} "
        f"[{event.pop('logger', '')}]"
    )
    fields = " ".join(
        f"{key}={value if isinstance(value, str) else repr(value)}" for key, value in event.items()
    )
    return f"{head} {fields}" if fields else head


def build_formatter(style: Literal["json", "console"]) -> logging.Formatter:
    renderer: Processor
    if style == "json":
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = _console_line
    return structlog.stdlib.ProcessorFormatter(
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            # Only the exception's type: a traceback's frames can carry tokens and personal
            # data (docs/architecture.md §4).
            _exception_type_only,
            renderer,
        ],
        foreign_pre_chain=[_base_fields],
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
