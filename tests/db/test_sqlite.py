"""The SQLite connections of the one engine: statements on the event loop, lock waits that
never block it, commits that write on a worker thread, durability as configured."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from digilocker_gateway.db import sqlite as inline
from digilocker_gateway.db.engine import build_engine


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path.as_posix()}"


async def make_table(path: Path) -> None:
    engine = build_engine(sqlite_url(path))
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE items (id INTEGER PRIMARY KEY, v TEXT)"))
    finally:
        await engine.dispose()


async def test_a_write_waiting_for_a_lock_lets_the_event_loop_run(tmp_path: Path) -> None:
    path = tmp_path / "lock.db"
    await make_table(path)
    holder = await inline.connect(str(path), busy_timeout_seconds=5)
    waiter = await inline.connect(str(path), busy_timeout_seconds=5)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.005)

    ticking = asyncio.create_task(ticker())
    try:
        held = holder.cursor()
        await held.execute("INSERT INTO items (v) VALUES ('first')")  # takes the write lock
        waiting = asyncio.create_task(
            waiter.cursor().execute("INSERT INTO items (v) VALUES ('second')")
        )
        await asyncio.sleep(0.2)
        assert not waiting.done()  # still waiting for the lock ...
        ticks_while_waiting = ticks
        assert ticks_while_waiting >= 10  # ... while the loop went on serving others
        await holder.commit()
        await waiting
        await waiter.commit()
    finally:
        ticking.cancel()
        await holder.close()
        await waiter.close()
    with sqlite3.connect(path) as check:
        assert [row[0] for row in check.execute("SELECT v FROM items ORDER BY id")] == [
            "first",
            "second",
        ]


async def test_a_lock_held_past_the_budget_fails_the_statement(tmp_path: Path) -> None:
    path = tmp_path / "budget.db"
    await make_table(path)
    holder = await inline.connect(str(path), busy_timeout_seconds=5)
    waiter = await inline.connect(str(path), busy_timeout_seconds=0.1)
    try:
        await holder.cursor().execute("INSERT INTO items (v) VALUES ('held')")
        started = time.monotonic()
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            await waiter.cursor().execute("INSERT INTO items (v) VALUES ('late')")
        assert time.monotonic() - started >= 0.05
    finally:
        await holder.close()
        await waiter.close()


async def test_only_commits_that_wrote_leave_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "threads.db"
    await make_table(path)
    hops: list[Any] = []
    real_to_thread = asyncio.to_thread

    async def counting_to_thread(function: Any, *args: Any) -> Any:
        hops.append(function)
        return await real_to_thread(function, *args)

    monkeypatch.setattr(asyncio, "to_thread", counting_to_thread)
    engine = build_engine(sqlite_url(path))
    try:
        async with engine.begin() as connection:
            await connection.execute(text("SELECT count(*) FROM items"))
        assert hops == []
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO items (v) VALUES ('x')"))
        assert len(hops) == 1
    finally:
        await engine.dispose()


@pytest.mark.parametrize(("setting", "pragma"), [("full", 2), ("normal", 1)])
async def test_commit_durability_follows_the_setting(
    tmp_path: Path, setting: str, pragma: int
) -> None:
    engine = build_engine(sqlite_url(tmp_path / "sync.db"), sqlite_synchronous=setting)
    try:
        async with engine.connect() as connection:
            found = (await connection.execute(text("PRAGMA synchronous"))).scalar_one()
            mode = (await connection.execute(text("PRAGMA journal_mode"))).scalar_one()
    finally:
        await engine.dispose()
    assert (found, mode) == (pragma, "wal")


@pytest.mark.parametrize(
    "url", ["sqlite+aiosqlite:///:memory:", "sqlite:///var/gateway.db", "sqlite+aiosqlite://"]
)
def test_sqlite_urls_the_engine_cannot_serve_are_refused_clearly(url: str) -> None:
    with pytest.raises(ValueError, match="sqlite\\+aiosqlite:///path"):
        build_engine(url)
