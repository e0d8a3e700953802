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


def test_quotas_set_show_and_clear_an_instances_own_limits(tmp_path: Path) -> None:
    created = run(tmp_path, "admin", "create-client", "--create", "--json")
    assert created.returncode == 0, created.stderr
    instance = json.loads(created.stdout)["x-product-instance-id"]
    target = ("--product-instance", instance)

    done = run(
        tmp_path,
        "admin",
        "quotas",
        "set",
        *target,
        "--kind",
        "create",
        "--per-minute",
        "20",
        "--per-day",
        "unlimited",
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["create"] == {
        "per_minute": {"limit": 20, "from": "instance"},
        "per_day": {"limit": None, "from": "instance"},
    }
    more = run(tmp_path, "admin", "quotas", "set", *target, "--kind", "fetch", "--per-day", "0")
    assert more.returncode == 0, more.stderr
    database = sqlite3.connect(tmp_path / "var" / "gateway.db")
    rows = database.execute(
        "SELECT kind, span, max_calls FROM quota_limits WHERE product_instance_id = ? "
        "ORDER BY kind, span",
        (instance,),
    ).fetchall()
    assert rows == [("create", "day", None), ("create", "minute", 20), ("fetch", "day", 0)]

    shown = run(tmp_path, "admin", "quotas", "show", *target)
    assert shown.returncode == 0, shown.stderr
    view = json.loads(shown.stdout)
    assert view["fetch"]["per_day"] == {"limit": 0, "from": "instance"}
    assert view["status"]["per_minute"] == {"limit": None, "from": "gateway"}
    assert set(view) == {"create", "fetch", "status", "account_check"}

    cleared = run(tmp_path, "admin", "quotas", "clear", *target, "--kind", "create")
    assert cleared.returncode == 0, cleared.stderr
    assert "cleared 2 limit(s)" in cleared.stdout
    left = database.execute(
        "SELECT kind FROM quota_limits WHERE product_instance_id = ?", (instance,)
    ).fetchall()
    assert left == [("fetch",)]


def test_quotas_set_refuses_bad_numbers_and_unknown_instances(tmp_path: Path) -> None:
    created = run(tmp_path, "admin", "create-client", "--create", "--json")
    instance = json.loads(created.stdout)["x-product-instance-id"]

    negative = run(
        tmp_path,
        "admin",
        "quotas",
        "set",
        "--product-instance",
        instance,
        "--kind",
        "create",
        "--per-minute",
        "-3",
    )
    nothing = run(
        tmp_path, "admin", "quotas", "set", "--product-instance", instance, "--kind", "create"
    )
    missing = run(
        tmp_path,
        "admin",
        "quotas",
        "set",
        "--product-instance",
        "no-such-id",
        "--kind",
        "fetch",
        "--per-day",
        "5",
    )
    unknown_show = run(tmp_path, "admin", "quotas", "show", "--product-instance", "no-such-id")

    assert negative.returncode == 2
    assert "--per-minute" in negative.stderr
    assert nothing.returncode == 2
    assert missing.returncode == 1
    assert "no product instance no-such-id" in missing.stderr
    assert unknown_show.returncode == 1
    assert "Traceback" not in negative.stderr + nothing.stderr + missing.stderr
    database = sqlite3.connect(tmp_path / "var" / "gateway.db")
    assert database.execute("SELECT count(*) FROM quota_limits").fetchone() == (0,)
