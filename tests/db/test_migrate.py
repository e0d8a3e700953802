"""Migrations: `digilocker-gateway migrate` on its own, and servers that do not migrate."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection

from digilocker_gateway.config import Settings
from digilocker_gateway.db.engine import engine_for
from digilocker_gateway.db.migrate import HEAD_REVISION, SchemaNotMigrated, alembic_config
from tests.support import DatabaseUnderTest, running_gateway


def run_migrate_command(database: DatabaseUnderTest, data_dir: Path) -> str:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DLG_")} | {
        "DLG_DATA_DIR": str(data_dir),
        "DLG_DATABASE_URL": database.url,
    }
    if database.schema:
        env["DLG_DATABASE_SCHEMA"] = database.schema
    done = subprocess.run(
        [sys.executable, "-m", "digilocker_gateway", "migrate"],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    return done.stdout.decode() + done.stderr.decode()


async def tables_in(database: DatabaseUnderTest, data_dir: Path) -> set[str]:
    settings = Settings(
        data_dir=data_dir, database_url=database.url, database_schema=database.schema
    )
    engine = engine_for(settings)
    try:
        async with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                found = await connection.execute(
                    text(
                        "SELECT table_name FROM information_schema.tables WHERE table_schema = :s"
                    ),
                    {"s": database.schema},
                )
            else:
                found = await connection.execute(
                    text("SELECT name FROM sqlite_master WHERE type = 'table'")
                )
            return set(found.scalars().all())
    finally:
        await engine.dispose()


def test_head_revision_constant_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert script.get_heads() == [HEAD_REVISION]


async def test_migrate_command_alone_prepares_the_configured_schema_for_a_non_migrating_server(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    output = run_migrate_command(database, tmp_path)
    assert "latest schema" in output
    tables = await tables_in(database, tmp_path)
    assert {"alembic_version", "digilocker_requests", "clients"} <= tables
    async with running_gateway(database, tmp_path, migrate_on_start=False) as gateway:
        created = await gateway.create_request()
        status = await gateway.client.get(
            f"/api/digilocker/{created['id']}/status", headers=gateway.headers
        )
        assert status.status_code == 200, status.text


async def test_server_that_does_not_migrate_refuses_an_unmigrated_schema(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    with pytest.raises(SchemaNotMigrated, match="digilocker-gateway migrate"):
        async with running_gateway(database, tmp_path, migrate_on_start=False):
            pass
    assert await tables_in(database, tmp_path) == set()


async def test_migrating_twice_changes_nothing(database: DatabaseUnderTest, tmp_path: Path) -> None:
    run_migrate_command(database, tmp_path)
    before = await tables_in(database, tmp_path)
    run_migrate_command(database, tmp_path)
    assert await tables_in(database, tmp_path) == before


def _schema_differences(connection: Connection) -> list[Any]:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from digilocker_gateway.db.base import Base

    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_migrations_build_exactly_the_models_tables(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    run_migrate_command(database, tmp_path)
    engine = engine_for(
        Settings(data_dir=tmp_path, database_url=database.url, database_schema=database.schema)
    )
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(_schema_differences)
    finally:
        await engine.dispose()
    assert differences == []


async def test_migrating_logs_the_upgrades_and_none_of_alembics_chatter(
    database: DatabaseUnderTest, tmp_path: Path
) -> None:
    output = run_migrate_command(database, tmp_path)

    assert "Running upgrade" in output
    assert HEAD_REVISION in output
    for chatter in ("setup plugin", "Context impl", "Will assume"):
        assert chatter not in output
