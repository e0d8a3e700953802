"""Commands that open the database say which one, refuse to start a new one unless asked, and
keep what they create private."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def run(cwd: Path, *arguments: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DLG_")}
    return subprocess.run(
        [sys.executable, "-m", "digilocker_gateway", *arguments],
        cwd=cwd,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("command", [["admin", "create-client"], ["purge"], ["keys", "rewrap"]])
def test_a_command_run_where_there_is_no_database_refuses_and_creates_nothing(
    tmp_path: Path, command: list[str]
) -> None:
    done = run(tmp_path, *command)

    assert done.returncode == 1, done.stderr
    database = (tmp_path / "var" / "gateway.db").resolve()
    assert f"database: SQLite at {database}" in done.stderr
    assert "no database at" in done.stderr
    assert "--create" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "var").exists()
    assert "x-client-secret" not in done.stdout


def test_create_client_with_create_makes_a_private_database_it_names(tmp_path: Path) -> None:
    previous = os.umask(0o002)  # a permissive umask the files must not inherit
    try:
        done = run(tmp_path, "admin", "create-client", "--create", "--json")
    finally:
        os.umask(previous)

    assert done.returncode == 0, done.stderr
    assert "x-client-secret" in done.stdout
    data = tmp_path / "var"
    assert f"database: SQLite at {(data / 'gateway.db').resolve()}" in done.stderr
    assert data.stat().st_mode & 0o777 == 0o700
    for path in data.iterdir():
        if path.is_file():
            assert path.stat().st_mode & 0o777 == 0o600, path

    again = run(tmp_path, "admin", "create-client", "--json")
    assert again.returncode == 0, again.stderr  # the database exists now: no --create needed


def test_a_postgresql_database_is_named_without_its_password(tmp_path: Path) -> None:
    done = run(
        tmp_path,
        "purge",
        DLG_DATABASE_URL="postgresql+asyncpg://gateway:synthetic-password@127.0.0.1:1/none",
        DLG_DATABASE_POOL_TIMEOUT_SECONDS="1",
    )
    assert "database: postgresql+asyncpg://gateway:***@127.0.0.1:1/none" in done.stderr
    assert "synthetic-password" not in done.stderr + done.stdout
    assert done.returncode == 1
    assert "cannot use the database" in done.stderr
    assert "Traceback" not in done.stderr
