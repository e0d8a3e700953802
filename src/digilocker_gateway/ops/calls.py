"""What one API call did, gathered while it runs: the DigiLocker calls it made, how long the
caller should wait when a circuit breaker refused one, and which quota refused the call. The
middleware puts a fresh record in a context variable; the upstream observer and the quota
check write into that same object, so it is seen whatever context copies the framework makes
in between."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass(slots=True)
class CallRecord:
    upstream: list[str] = field(default_factory=list)  # "operation:outcome", in order
    upstream_seconds: float = 0.0
    retry_after: int | None = None
    quota: str | None = None  # the kind of call a quota refused (ops/quotas.py)


_current: ContextVar[CallRecord | None] = ContextVar("dlg_call_record", default=None)


def current_call() -> CallRecord | None:
    return _current.get()


def begin_call() -> tuple[CallRecord, object]:
    record = CallRecord()
    return record, _current.set(record)


def end_call(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]
