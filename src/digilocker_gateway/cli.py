"""The `digilocker-gateway` command: serve, simulator, migrate, admin, catalogue, purge."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shlex
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import click
from pydantic import ValidationError

from digilocker_gateway import __version__
from digilocker_gateway.config import Settings
from digilocker_gateway.kit.private_files import private_directory

T = TypeVar("T")


def _run(coroutine_factory: Callable[[], Awaitable[T]]) -> T:
    """Run a command's coroutine; a database that cannot be reached ends it with one clear
    line instead of a driver's traceback."""
    from sqlalchemy.exc import DBAPIError

    async def main() -> T:
        return await coroutine_factory()

    try:
        return asyncio.run(main())
    except (OSError, DBAPIError) as exc:
        origin = getattr(exc, "orig", None) or exc
        raise click.ClickException(
            f"cannot use the database or the data folder: {type(origin).__name__}: {origin}"
        ) from None


def _settings(**overrides: object) -> Settings:
    """Settings from the environment and the command's options; refused settings (a dev
    placeholder in production, an incomplete S3 setup) end the command with their reasons."""
    values = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**values)  # type: ignore[arg-type]
    except ValidationError as exc:
        reasons = "; ".join(
            str(error["msg"]).removeprefix("Value error, ") for error in exc.errors()
        )
        raise click.ClickException(f"settings refused: {reasons}") from None


def _data_settings(*, create: bool) -> Settings:
    """Settings for a command that opens the database. It says which database it uses, and it
    refuses to start a new, empty SQLite database unless asked: run from the wrong folder (the
    default data directory is ./var, relative to where the command runs), it would otherwise
    print credentials that no running server knows."""
    from sqlalchemy import make_url

    settings = _settings()
    url = make_url(settings.effective_database_url)
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "").resolve()
        click.echo(f"database: SQLite at {path}", err=True)
        if not create and not path.exists():
            raise click.ClickException(
                f"no database at {path}. Run this where the gateway runs, or set "
                "DLG_DATA_DIR / DLG_DATABASE_URL as the server has them; pass --create to "
                "start a new database here."
            )
    else:
        click.echo(f"database: {url.render_as_string(hide_password=True)}", err=True)
    return settings


create_option = click.option(
    "--create",
    is_flag=True,
    help="Start a new database if none exists at the default ./var (otherwise refused).",
)


@click.group()
@click.version_option(__version__, prog_name="digilocker-gateway")
def main() -> None:
    """A self-hosted, Setu-compatible DigiLocker gateway, with an offline DigiLocker simulator."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # httpx logs full URLs at INFO, and DigiLocker URLs carry document URIs.
    logging.getLogger("httpx").setLevel(logging.WARNING)


@main.command()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port to listen on (default 8000).")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None, help="Default ./var.")
@click.option(
    "--graceful-timeout",
    type=click.IntRange(min=0),
    default=30,
    show_default=True,
    help="On SIGTERM, seconds to let in-flight calls finish before closing them.",
)
def serve(host: str | None, port: int | None, data_dir: Path | None, graceful_timeout: int) -> None:
    """Run the gateway: one process, one port. Without DLG_DIGILOCKER_BASE_URL it runs on the
    embedded default (SQLite and files under ./var, the simulator at /simulator).

    There is no --workers: to use more cores, start more `serve` processes (one port each, or
    behind a load balancer) on one PostgreSQL database; see docs/deployment.md."""
    import uvicorn

    from digilocker_gateway.app import create_app
    from digilocker_gateway.devclient import ensure_dev_client

    settings = _settings(host=host, port=port, data_dir=data_dir)
    from digilocker_gateway.ops.logs import configure_logging

    configure_logging(settings.effective_log_format, settings.log_level)
    private_directory(settings.data_dir)
    if settings.environment == "dev":
        credentials = _run(lambda: ensure_dev_client(settings))
        _print_dev_banner(settings, credentials)
    app = create_app(settings)
    # On SIGTERM uvicorn stops accepting, lets in-flight calls finish, then runs the lifespan
    # shutdown; the bound keeps a stuck upstream call (read timeout 30 s by default) from
    # holding a rolling deploy forever.
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        log_config=None,  # uvicorn's records go through the structured formatter too
        access_log=False,
        timeout_graceful_shutdown=graceful_timeout,
    )


def _print_dev_banner(settings: Settings, credentials: dict[str, str]) -> None:
    base = settings.effective_public_base_url
    headers = " ".join(f"-H {shlex.quote(f'{k}: {v}')}" for k, v in credentials.items())
    body = json.dumps({"redirectUrl": "https://example.com/kyc/done?sessionId=demo"})
    click.echo(
        "\nDigiLocker gateway (embedded default"
        + (": simulator at " + base + "/simulator" if settings.uses_embedded_simulator else "")
        + ")\n"
        f"  dev client credentials (kept in {settings.data_dir / 'dev-client.json'}):\n"
        + "".join(f"    {k}: {v}\n" for k, v in credentials.items())
        + "  create a request:\n"
        f"    curl -s -X POST {base}/api/digilocker {headers} "
        f"-H 'content-type: application/json' -d {shlex.quote(body)}\n"
        f"  test users: {base}/simulator/_sim/users   API docs: {base}/docs\n"
    )


def _register_simulator() -> None:
    try:
        from digilocker_gateway.simulator.cli import simulator_command
    except ImportError:  # pragma: no cover - only while the simulator is being built
        return
    main.add_command(simulator_command, name="simulator")


_register_simulator()


@main.command()
def migrate() -> None:
    """Apply database migrations (DLG_DATABASE_URL and DLG_DATABASE_SCHEMA; default SQLite
    under ./var)."""
    from digilocker_gateway.db.engine import engine_for
    from digilocker_gateway.db.migrate import upgrade_to_head

    settings = _data_settings(create=True)
    private_directory(settings.data_dir)

    async def go() -> None:
        engine = engine_for(settings)
        try:
            await upgrade_to_head(engine)
        finally:
            await engine.dispose()

    _run(go)
    click.echo("database is at the latest schema")


@main.group()
def admin() -> None:
    """Manage API clients."""


@admin.command("create-client")
@click.option("--name", default="client", show_default=True)
@click.option("--digilocker-client-id", default=None, help="Partner app id (default: settings).")
@click.option(
    "--digilocker-client-secret",
    default=None,
    envvar="DLG_NEW_CLIENT_DIGILOCKER_SECRET",
    help="Partner app secret (default: settings); or env DLG_NEW_CLIENT_DIGILOCKER_SECRET.",
)
@click.option("--redirect-host", multiple=True, help="Allow only these redirect hosts.")
@click.option("--request-lifetime", type=int, default=None, help="Seconds a request lives.")
@click.option("--allow-unverified-aadhaar", is_flag=True, help="Return unverifiable Aadhaar XML.")
@click.option(
    "--allow-missing-hmac",
    is_flag=True,
    help="UNSAFE: accept DigiLocker file answers that carry no hmac header.",
)
@click.option(
    "--no-browser-binding",
    is_flag=True,
    help="Do not tie a journey to the browser that opened it (web views that lose cookies).",
)
@click.option(
    "--refuse-number-mismatch",
    is_flag=True,
    help="Answer 400 customer_detail_mismatch when an expected document number differs.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the three credential headers as JSON.")
@create_option
def create_client_command(
    name: str,
    digilocker_client_id: str | None,
    digilocker_client_secret: str | None,
    redirect_host: tuple[str, ...],
    request_lifetime: int | None,
    allow_unverified_aadhaar: bool,
    allow_missing_hmac: bool,
    no_browser_binding: bool,
    refuse_number_mismatch: bool,
    as_json: bool,
    create: bool,
) -> None:
    """Create an API client with one product instance; its secret is shown only now."""
    from digilocker_gateway.runtime_build import standalone_runtime
    from digilocker_gateway.tenants.service import create_client

    settings = _data_settings(create=create)

    async def go() -> dict[str, str]:
        async with standalone_runtime(settings) as runtime, runtime.transaction() as session:
            created = await create_client(
                session,
                hasher=runtime.hasher,
                sealed=runtime.sealed,
                clock=runtime.clock,
                name=name,
                digilocker_client_id=digilocker_client_id or settings.digilocker_client_id,
                digilocker_client_secret=digilocker_client_secret
                or settings.digilocker_client_secret.get_secret_value(),
                request_lifetime_seconds=request_lifetime or settings.request_lifetime_seconds,
                redirect_allowed_hosts=list(redirect_host) or None,
                aadhaar_allow_unverified=allow_unverified_aadhaar,
                allow_missing_hmac=allow_missing_hmac,
                journey_browser_binding=not no_browser_binding,
                refuse_number_mismatch=refuse_number_mismatch,
            )
            return created.as_headers()

    headers = _run(go)
    if as_json:
        click.echo(json.dumps(headers))
    else:
        for key, value in headers.items():
            click.echo(f"{key}: {value}")


@main.group()
def catalogue() -> None:
    """The document catalogue."""


@catalogue.command("refresh")
@create_option
def catalogue_refresh(create: bool) -> None:
    """Fetch the catalogue from DigiLocker's pull meta-APIs and replace the stored copy."""
    from rich.progress import Progress

    from digilocker_gateway.documents.tasks import refresh_catalogue
    from digilocker_gateway.runtime_build import standalone_runtime

    settings = _data_settings(create=create)

    async def go() -> int:
        async with standalone_runtime(settings) as runtime:
            with Progress(transient=not os.isatty(1)) as progress:
                task = progress.add_task("issuers", total=None)

                def advance(done: int, total: int) -> None:
                    progress.update(task, completed=done, total=total)

                return await refresh_catalogue(runtime, progress=advance)

    count = _run(go)
    click.echo(f"catalogue refreshed: {count} documents")


@main.command()
@create_option
def purge(create: bool) -> None:
    """Delete expired requests with their tokens and files, expired files, and what a crash
    left in the blob store."""
    from digilocker_gateway.requests.tasks import purge_expired
    from digilocker_gateway.runtime_build import standalone_runtime

    settings = _data_settings(create=create)

    async def go() -> int:
        async with standalone_runtime(settings) as runtime:
            return await purge_expired(runtime)

    click.echo(f"purged {_run(go)} expired requests")


@main.group()
def keys() -> None:
    """Encryption keys (DLG_ENCRYPTION_KEYS, DLG_ENCRYPTION_ACTIVE_KEY_ID)."""


@keys.command("rewrap")
@click.option(
    "--skip-files",
    is_flag=True,
    help="Leave stored files alone (they are purged with their request anyway).",
)
@create_option
def keys_rewrap(skip_files: bool, create: bool) -> None:
    """Reseal stored tokens, partner secrets and files under the active key, so older keys can
    be removed. Safe while the gateway runs; safe to repeat. See docs/deployment.md."""
    from digilocker_gateway.runtime_build import standalone_runtime
    from digilocker_gateway.storage.rewrap import RewrapReport, rewrap_all

    settings = _data_settings(create=create)

    async def go() -> RewrapReport:
        async with standalone_runtime(settings, with_upstream=False) as runtime:
            return await rewrap_all(runtime, include_files=not skip_files)

    report = _run(go)
    click.echo(
        f"resealed under key {report.active_key_id!r}: {report.values} values, "
        f"{report.files} files" + ("" if not skip_files else " (files skipped)")
    )
    if report.unreadable:
        click.echo(
            f"{report.unreadable} values or files could not be decrypted with the configured "
            "keys (their key was already removed, or they are corrupt)",
            err=True,
        )
    for key_id, count in sorted(report.client_hashes_by_key.items()):
        click.echo(
            f"key {key_id!r} is still needed by {count} API client secret(s): keep it in "
            "DLG_ENCRYPTION_KEYS (keyed hashes cannot be resealed), or replace those clients"
        )
    if not report.client_hashes_by_key and not report.unreadable:
        click.echo("nothing depends on older keys any more: they can be removed")
