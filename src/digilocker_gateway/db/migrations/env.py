"""Alembic environment: always given a live connection by `db.migrate` (sync or via run_sync)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from digilocker_gateway.db import models  # noqa: F401 - registers the tables
from digilocker_gateway.db.base import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    # Used only by `alembic revision --autogenerate` during development, on a sync URL.
    url = config.get_main_option("sqlalchemy.url") or ""
    engine = create_engine(url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg"))
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run()
