"""A call's budget for waiting on DigiLocker: one deadline per API call or browser callback,
shared by every upstream request, retry and download made while serving it, however many
there are (docs/errors.md, "Waiting on DigiLocker").

The deadline lives in a context variable set around the call (`within`), so the upstream
client reads it without it being passed through every service; background jobs set none and
are bounded by the client's own timeouts only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_deadline: ContextVar[float | None] = ContextVar("upstream_deadline", default=None)


def current() -> float | None:
    """The event loop time by which the current call must be done with DigiLocker, if any."""
    return _deadline.get()


def remaining() -> float | None:
    deadline = _deadline.get()
    if deadline is None:
        return None
    return deadline - asyncio.get_running_loop().time()


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """Run the block under a budget of `seconds`; a budget already running (an outer call)
    is never extended."""
    deadline = asyncio.get_running_loop().time() + seconds
    outer = _deadline.get()
    if outer is not None and outer < deadline:
        deadline = outer
    token = _deadline.set(deadline)
    try:
        yield
    finally:
        _deadline.reset(token)
