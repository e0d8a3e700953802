"""Run Alembic migrations programmatically (no alembic.ini needed): `digilocker-gateway migrate`
calls `upgrade_to_head`; `serve` and the other commands call `ensure_schema`.

Alembic is imported only when a migration has to run: a process starting on a schema that is
already at `HEAD_REVISION` reads one row and goes on.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# The newest revision under migrations/versions; a test holds it equal to Alembic's own head.
HEAD_REVISION = "0010_webhook_fan_out"

# Any fixed number: processes starting together on one PostgreSQL migrate one at a time.
MIGRATION_LOCK_ID = 7_305_144_512


class SchemaNotMigrated(RuntimeError):
    """The database schema is behind this version of the gateway and migrating is turned off."""


def _upgrade_lines_only(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING or record.getMessage().startswith("Running upgrade")


def _quiet_alembic() -> None:
    """Alembic announces each of its plugins, its dialect and its DDL mode at INFO on every run,
    from the moment it is imported; the upgrade lines are enough."""
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    migration = logging.getLogger("alembic.runtime.migration")
    if _upgrade_lines_only not in migration.filters:
        migration.addFilter(_upgrade_lines_only)


def alembic_config(url: str) -> Config:
    _quiet_alembic()  # before the import, which already logs
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _has_version_table(connection: Connection) -> bool:
    # The default schema: on PostgreSQL the first of the search_path (DLG_DATABASE_SCHEMA).
    return inspect(connection).has_table("alembic_version")


def _upgrade(connection: Connection, url: str, revision: str) -> None:
    config = alembic_config(url)
    from alembic import command

    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def current_revision(connection: AsyncConnection) -> str | None:
    """The revision the schema is at; None for an empty database."""
    if not await connection.run_sync(_has_version_table):
        return None  # nothing was ever migrated here
    found = await connection.execute(text("SELECT version_num FROM alembic_version"))
    revisions = found.scalars().all()
    return revisions[0] if len(revisions) == 1 else None


async def upgrade_to_head(engine: AsyncEngine, revision: str = "head") -> None:
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID}
            )
        if revision == "head" and await current_revision(connection) == HEAD_REVISION:
            return
        await connection.run_sync(_upgrade, engine.url.render_as_string(False), revision)


async def ensure_schema(engine: AsyncEngine, *, migrate: bool) -> None:
    """Migrate to the latest schema, or (with `migrate` off) refuse a schema that is behind."""
    async with engine.connect() as connection:
        at = await current_revision(connection)
    if at == HEAD_REVISION:
        return
    if migrate:
        await upgrade_to_head(engine)
        return
    raise SchemaNotMigrated(
        f"the database schema is at {at or 'nothing'}, this gateway needs {HEAD_REVISION}: "
        "run `digilocker-gateway migrate` (or set DLG_MIGRATE_ON_START=true)"
    )
