"""A per-minute rate limit shared by every gateway process: one row per limited key holding the
current minute's count, taken with a conditional UPDATE, which works the same on SQLite and
PostgreSQL (docs/architecture.md §3). Fixed windows: at most `2 * limit` calls can fall within
any 60 seconds that straddle two windows, which is enough to stop enumeration."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from digilocker_gateway.db.models import RateLimitWindow


async def take(session: AsyncSession, key: str, *, limit: int, now: datetime) -> bool:
    """Count one call under `key` in the minute of `now`; False (nothing counted) when the
    minute already holds `limit` calls. Flushes only; the caller commits."""
    if limit <= 0:
        return False
    window = now.replace(second=0, microsecond=0)
    for _ in range(2):
        counted = await session.execute(
            update(RateLimitWindow)
            .where(
                RateLimitWindow.key == key,
                or_(RateLimitWindow.window_start != window, RateLimitWindow.count < limit),
            )
            .values(
                count=case(
                    (RateLimitWindow.window_start == window, RateLimitWindow.count + 1), else_=1
                ),
                window_start=window,
            )
            .execution_options(synchronize_session=False)
        )
        if getattr(counted, "rowcount", 0) == 1:
            return True
        if await session.get(RateLimitWindow, key, populate_existing=True) is not None:
            return False  # the row exists and this minute is full
        try:
            async with session.begin_nested():
                session.add(RateLimitWindow(key=key, window_start=window, count=1))
            return True
        except IntegrityError:
            continue  # another process made the row first: count against it
    return False
