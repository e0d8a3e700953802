"""Clocks. Everything that expires (codes, tokens, requests, signed URLs) reads time from a
`Clock` passed in, never from `datetime.now()` directly, so tests can move time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)
