"""`admin set-options` sets a product instance's journey options in the database, and a
created request then obeys them (docs/journey-options.md §5)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.test_cli_data import run


def test_set_options_stores_the_instance_settings_and_resets_them(tmp_path: Path) -> None:
    created = run(tmp_path, "admin", "create-client", "--create", "--json")
    assert created.returncode == 0, created.stderr
    instance = json.loads(created.stdout)["x-product-instance-id"]

    done = run(
        tmp_path,
        "admin",
        "set-options",
        instance,
        "--max-request-lifetime",
        "3600",
        "--max-consent-validity",
        "600",
        "--default-flow",
        "signup",
        "--default-purpose",
        "Account opening",
        "--extensions",
        "docTypes,flow",
        "--account-checks-per-minute",
        "5",
    )
    assert done.returncode == 0, done.stderr
    database = sqlite3.connect(tmp_path / "var" / "gateway.db")
    columns = (
        "max_request_lifetime_seconds, max_consent_validity_seconds, default_flow, "
        "default_purpose, allowed_extensions, account_checks_per_minute"
    )
    query = f"SELECT {columns} FROM product_instances WHERE id = ?"
    assert database.execute(query, (instance,)).fetchone() == (
        3600,
        600,
        "signup",
        "Account opening",
        "docTypes,flow",
        5,
    )

    reset = run(
        tmp_path,
        "admin",
        "set-options",
        instance,
        "--default",
        "default-flow",
        "--extensions",
        "all",
    )
    assert reset.returncode == 0, reset.stderr
    row = database.execute(
        "SELECT default_flow, allowed_extensions FROM product_instances WHERE id = ?", (instance,)
    ).fetchone()
    assert row == (None, None)


def test_set_options_refuses_unknown_extensions_and_instances(tmp_path: Path) -> None:
    created = run(tmp_path, "admin", "create-client", "--create", "--json")
    instance = json.loads(created.stdout)["x-product-instance-id"]

    unknown = run(tmp_path, "admin", "set-options", instance, "--extensions", "docTypes,teleport")
    missing = run(tmp_path, "admin", "set-options", "no-such-id", "--default-flow", "signin")
    bad_purpose = run(tmp_path, "admin", "set-options", instance, "--default-purpose", "<b>")

    assert unknown.returncode == 2
    assert "teleport" in unknown.stderr
    assert missing.returncode == 1
    assert "no product instance no-such-id" in missing.stderr
    assert bad_purpose.returncode == 2
    assert "Traceback" not in unknown.stderr + missing.stderr + bad_purpose.stderr
