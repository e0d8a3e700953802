"""Time formatting as Setu shows it: ISO 8601 with the India offset, `+05:30`."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

IST = timezone(timedelta(hours=5, minutes=30), "IST")


def to_ist_iso(when: datetime) -> str:
    """`2021-10-05T19:06:28+05:30`: seconds precision, explicit offset."""
    if when.tzinfo is None:
        raise ValueError("naive datetime: times must be timezone-aware")
    return when.astimezone(IST).isoformat(timespec="seconds")
