"""The engine's statement counter (settings.database_statement_metrics)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from digilocker_gateway.db.engine import build_engine, build_sessionmaker, count_statements


async def test_counts_every_statement_and_each_commit_but_not_reads_outside_one(
    tmp_path: Path,
) -> None:
    engine = build_engine(f"sqlite+aiosqlite:///{tmp_path / 'count.db'}")
    counts = {"statements": 0, "commits": 0}

    def statement() -> None:
        counts["statements"] += 1

    def commit() -> None:
        counts["commits"] += 1

    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (x INTEGER)"))
        count_statements(engine, statement=statement, commit=commit)
        sessions = build_sessionmaker(engine)
        async with sessions() as session, session.begin():
            await session.execute(text("INSERT INTO t VALUES (1)"))
            await session.execute(text("INSERT INTO t VALUES (2)"))
        assert counts == {"statements": 2, "commits": 1}
        async with build_sessionmaker(engine, autocommit=True)() as session:
            assert (await session.execute(text("SELECT count(*) FROM t"))).scalar_one() == 2
        assert counts == {"statements": 3, "commits": 1}
    finally:
        await engine.dispose()
