"""Leases for background jobs: in a fleet of gateway processes, at most one runs a given job at
a time, and a crashed holder's lease simply expires. Portable SQL (one conditional UPDATE), so
it behaves the same on SQLite and PostgreSQL."""

from __future__ import annotations

import importlib
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert

from digilocker_gateway.db.models import JobLease


def dialect_insert(session: AsyncSession, model: Any) -> Any:
    """An INSERT in whichever dialect the session speaks, for its ON CONFLICT clauses
    (PostgreSQL's and SQLite's take the same arguments)."""
    # Each dialect's module is imported when its engine is in use: SQLite's start-up does not
    # pay for PostgreSQL's (about 60 ms of imports).
    dialect = "postgresql" if session.get_bind().dialect.name == "postgresql" else "sqlite"
    return importlib.import_module(f"sqlalchemy.dialects.{dialect}").insert(model)


def insert_ignore(session: AsyncSession, model: Any, values: dict[str, Any]) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING, in whichever dialect the session speaks."""
    statement: Insert = dialect_insert(session, model).values(**values).on_conflict_do_nothing()
    return statement


async def try_acquire(
    session: AsyncSession, *, name: str, holder: str, ttl_seconds: float, now: datetime
) -> bool:
    await session.execute(insert_ignore(session, JobLease, {"name": name}))
    result = await session.execute(
        update(JobLease)
        .where(
            JobLease.name == name,
            or_(JobLease.holder.is_(None), JobLease.expires_at < now, JobLease.holder == holder),
        )
        .values(holder=holder, expires_at=now + timedelta(seconds=ttl_seconds))
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def release(
    session: AsyncSession, *, name: str, holder: str, ran_at: datetime | None = None
) -> None:
    values: dict[str, object] = {"holder": None, "expires_at": None}
    if ran_at is not None:
        values["last_run_at"] = ran_at
    await session.execute(
        update(JobLease)
        .where(JobLease.name == name, JobLease.holder == holder)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def last_run(session: AsyncSession, name: str) -> datetime | None:
    found = await session.execute(select(JobLease.last_run_at).where(JobLease.name == name))
    return found.scalar_one_or_none()
