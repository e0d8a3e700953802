"""The `digilocker-gateway` command: serve, simulator, migrate, admin, catalogue, purge."""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import os
import shlex
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, TypeVar

import click
from pydantic import ValidationError

from digilocker_gateway import __version__
from digilocker_gateway.config import Settings
from digilocker_gateway.kit.private_files import private_directory

if TYPE_CHECKING:
    from rich.console import Console

    from digilocker_gateway.ops.quotas import QuotaKind, Span

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


class _LazyGroup(click.Group):
    """A group whose heavier subcommand groups are imported only when one of them is run (or
    listed in --help): `serve` does not pay for the client CLI or the simulator's."""

    LAZY: ClassVar[dict[str, tuple[str, str]]] = {
        "client": ("digilocker_gateway.client.cli", "client_command"),
        "simulator": ("digilocker_gateway.simulator.cli", "simulator_command"),
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.LAZY])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.LAZY:
            module, name = self.LAZY[cmd_name]
            command = getattr(importlib.import_module(module), name)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, cmd_name)


@click.group(cls=_LazyGroup)
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


@admin.command("set-options")
@click.argument("product_instance_id")
@click.option("--max-request-lifetime", type=click.IntRange(min=1), help="Seconds (maximum).")
@click.option("--max-consent-validity", type=click.IntRange(min=1), help="Seconds (maximum).")
@click.option(
    "--default-flow",
    type=click.Choice(["signin", "signup", "none"]),
    help="The flow of a request that names none; none lets DigiLocker decide.",
)
@click.option("--default-purpose", help="Shown at DigiLocker when a request gives none; '' clears.")
@click.option(
    "--extensions",
    help="Comma list of the extensions allowed (see docs/journey-options.md), 'all' or 'none'.",
)
@click.option("--account-checks-per-minute", type=click.IntRange(min=0), help="0 turns them off.")
@click.option(
    "--default",
    "cleared",
    multiple=True,
    help="Reset a setting (e.g. max-request-lifetime) to the gateway's default; may repeat.",
)
@create_option
def set_options_command(
    product_instance_id: str,
    max_request_lifetime: int | None,
    max_consent_validity: int | None,
    default_flow: str | None,
    default_purpose: str | None,
    extensions: str | None,
    account_checks_per_minute: int | None,
    cleared: tuple[str, ...],
    create: bool,
) -> None:
    """Set a product instance's journey options: bounds, defaults, allowed extensions."""
    import re

    from digilocker_gateway.requests.options import EXTENSIONS, PURPOSE_MAX_CHARS, PURPOSE_PATTERN
    from digilocker_gateway.runtime_build import standalone_runtime
    from digilocker_gateway.tenants.service import set_journey_options

    changes: dict[str, object] = {}
    for name in cleared:
        column = {
            "max-request-lifetime": "max_request_lifetime_seconds",
            "max-consent-validity": "max_consent_validity_seconds",
            "default-flow": "default_flow",
            "default-purpose": "default_purpose",
            "extensions": "allowed_extensions",
            "account-checks-per-minute": "account_checks_per_minute",
        }.get(name)
        if column is None:
            raise click.BadParameter(f"no setting {name!r}", param_hint="--default")
        changes[column] = None
    if max_request_lifetime is not None:
        changes["max_request_lifetime_seconds"] = max_request_lifetime
    if max_consent_validity is not None:
        changes["max_consent_validity_seconds"] = max_consent_validity
    if default_flow is not None:
        changes["default_flow"] = None if default_flow == "none" else default_flow
    if default_purpose is not None:
        purpose = default_purpose.strip()
        if purpose and (
            len(purpose) > PURPOSE_MAX_CHARS or not re.fullmatch(PURPOSE_PATTERN, purpose)
        ):
            raise click.BadParameter(
                f"at most {PURPOSE_MAX_CHARS} letters, digits, spaces and _",
                param_hint="--default-purpose",
            )
        changes["default_purpose"] = purpose or None
    if extensions is not None:
        if extensions.strip() == "all":
            changes["allowed_extensions"] = None
        else:
            names = [n.strip() for n in extensions.split(",") if n.strip() and n.strip() != "none"]
            unknown = sorted(set(names) - set(EXTENSIONS))
            if unknown:
                raise click.BadParameter(
                    f"unknown {', '.join(unknown)}; known: {', '.join(EXTENSIONS)}",
                    param_hint="--extensions",
                )
            changes["allowed_extensions"] = ",".join(dict.fromkeys(names))
    if account_checks_per_minute is not None:
        changes["account_checks_per_minute"] = account_checks_per_minute
    if not changes:
        raise click.UsageError("nothing to set")
    settings = _data_settings(create=create)

    async def go() -> bool:
        async with standalone_runtime(settings) as runtime, runtime.transaction() as session:
            return await set_journey_options(session, product_instance_id, changes) is not None

    if not _run(go):
        raise click.ClickException(f"no product instance {product_instance_id}")
    for column, value in sorted(changes.items()):
        click.echo(f"{column}: {'(gateway default)' if value is None else value}")


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


# Webhooks (docs/webhooks.md §6) and the audit log (docs/audit.md §4).


def _when_option(value: str | None) -> datetime | None:
    """An ISO 8601 time from the command line; without an offset it is read as UTC."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


@admin.group("webhooks")
def admin_webhooks() -> None:
    """Webhook endpoints of a product instance: add, list, change, rotate, replay."""


product_instance_option = click.option(
    "--product-instance", "product_instance_id", required=True, help="Product instance id."
)


def _print_json(value: object) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


@admin_webhooks.command("create")
@product_instance_option
@click.option("--url", required=True, help="https URL (http only to loopback in development).")
@click.option("--event", "event_types", multiple=True, help="An event type (default: all).")
@click.option("--disabled", is_flag=True, help="Create it disabled.")
def webhooks_create(
    product_instance_id: str, url: str, event_types: tuple[str, ...], disabled: bool
) -> None:
    """Add an endpoint; its signing secret is printed only now."""
    from digilocker_gateway.runtime_build import standalone_runtime
    from digilocker_gateway.webhooks import service

    settings = _data_settings(create=False)

    async def go() -> dict[str, object]:
        async with standalone_runtime(settings, with_upstream=False) as runtime:
            async with runtime.transaction() as session:
                created = await service.create_endpoint(
                    session,
                    product_instance_id=product_instance_id,
                    url=url,
                    event_types=list(event_types),
                    enabled=not disabled,
                    sealed=runtime.sealed,
                    now=runtime.clock.now(),
                    development=settings.environment == "dev",
                )
                return {**service.endpoint_view(created.endpoint), "secret": created.secret}

    _print_json(_run_gateway_call(go))


def _run_gateway_call(go: Callable[[], Awaitable[T]]) -> T:
    """`_run`, with the gateway's own refusals (a bad URL, an unknown id) as one line."""
    from digilocker_gateway.errors import GatewayError

    try:
        return _run(go)
    except GatewayError as exc:
        raise click.ClickException(f"{exc.code}: {exc.detail}") from None


@admin_webhooks.command("list")
@product_instance_option
def webhooks_list(product_instance_id: str) -> None:
    """The product instance's endpoints (never their secrets)."""
    from digilocker_gateway.runtime_build import standalone_runtime
    from digilocker_gateway.webhooks import service

    settings = _data_settings(create=False)

    async def go() -> list[dict[str, object]]:
        async with standalone_runtime(settings, with_upstream=False) as runtime:
            async with runtime.reading() as session:
                found = await service.list_endpoints(
                    session, product_instance_id=product_instance_id
                )
                return [service.endpoint_view(endpoint) for endpoint in found]

    _print_json(_run_gateway_call(go))


@admin_webhooks.command("update")
@product_instance_option
@click.argument("endpoint_id")
@click.option("--url", default=None)
@click.option("--event", "event_types", multiple=True, help="Replace the event types.")
@click.option("--all-events", is_flag=True, help="Receive every event type.")
@click.option("--enable/--disable", "enabled", default=None)
def webhooks_update(
    product_instance_id: str,
    endpoint_id: str,
    url: str | None,
    event_types: tuple[str, ...],
    all_events: bool,
    enabled: bool | None,
) -> None:
    """Change an endpoint's URL, event types or enabled flag."""
    from digilocker_gateway.runtime_build import standalone_runtime
    from digilocker_gateway.webhooks import service

    settings = _data_settings(create=False)
    chosen = [] if all_events else (list(event_types) or None)

    async def go() -> dict[str, object]:
        async with standalone_runtime(settings, with_upstream=False) as runtime:
            async with runtime.transaction() as session:
                found = await service.update_endpoint(
                    session,
                    product_instance_id=product_instance_id,
                    endpoint_id=endpoint_id,
                    url=url,
                    event_types=chosen,
                    enabled=enabled,
                    now=runtime.clock.now(),
                    development=settings.environment == "dev",
                )
                return service.endpoint_view(found)

    _print_json(_run_gateway_call(go))


@admin_webhooks.command("delete")
@product_instance_option
@click.argument("endpoint_id")
def webhooks_delete(product_instance_id: str, endpoint_id: str) -> None:
    """Delete an endpoint and its pending deliveries."""
    from digilocker_gateway.runtime_build import standalone_runtime
    from digilocker_gateway.webhooks import service

    settings = _data_settings(create=False)

    async def go() -> None:
        async with standalone_runtime(settings, with_upstream=False) as runtime:
            async with runtime.transaction() as session:
                await service.delete_endpoint(
                    session, product_instance_id=product_instance_id, endpoint_id=endpoint_id
                )

    _run_gateway_call(go)
    click.echo(f"deleted {endpoint_id}")


@admin_webhooks.command("rotate-secret")
@product_instance_option
@click.argument("endpoint_id")
@click.option(
    "--overlap",
    type=click.IntRange(min=0),
    default=None,
    help="Seconds the old secret still signs (default DLG_WEBHOOK_ROTATION_OVERLAP_SECONDS).",
)
def webhooks_rotate(product_instance_id: str, endpoint_id: str, overlap: int | None) -> None:
    """Give an endpoint a new signing secret, printed only now."""
    from digilocker_gateway.runtime_build import standalone_runtime
    from digilocker_gateway.webhooks import service

    settings = _data_settings(create=False)

    async def go() -> dict[str, object]:
        async with standalone_runtime(settings, with_upstream=False) as runtime:
            async with runtime.transaction() as session:
                rotated = await service.rotate_secret(
                    session,
                    product_instance_id=product_instance_id,
                    endpoint_id=endpoint_id,
                    overlap_seconds=(
                        settings.webhook_rotation_overlap_seconds if overlap is None else overlap
                    ),
                    sealed=runtime.sealed,
                    now=runtime.clock.now(),
                )
                view = service.endpoint_view(rotated.endpoint)
                return {
                    "id": endpoint_id,
                    "secret": rotated.secret,
                    "previousSecretExpiresAt": view["previousSecretExpiresAt"],
                }

    _print_json(_run_gateway_call(go))


@admin_webhooks.command("deliveries")
@product_instance_option
@click.option("--endpoint", "endpoint_id", default=None, help="Only this endpoint's.")
@click.option("--request", "request_id", default=None, help="Only this request's.")
@click.option("--status", type=click.Choice(["pending", "delivered", "failed"]), default=None)
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
def webhooks_deliveries(
    product_instance_id: str,
    endpoint_id: str | None,
    request_id: str | None,
    status: str | None,
    limit: int,
) -> None:
    """Deliveries, newest first, with each attempt."""
    from digilocker_gateway.runtime_build import standalone_runtime
    from digilocker_gateway.webhooks import service

    settings = _data_settings(create=False)

    async def go() -> list[dict[str, object]]:
        async with standalone_runtime(settings, with_upstream=False) as runtime:
            async with runtime.reading() as session:
                return await service.list_deliveries(
                    session,
                    product_instance_id=product_instance_id,
                    endpoint_id=endpoint_id,
                    request_id=request_id,
                    status=status,
                    limit=limit,
                )

    _print_json(_run_gateway_call(go))


@admin_webhooks.command("replay")
@product_instance_option
@click.option("--endpoint", "endpoint_id", required=True, help="The endpoint to send to.")
@click.option("--delivery", "delivery_id", type=int, default=None, help="One delivery.")
@click.option("--failed-since", default=None, help="Every failed delivery since (ISO 8601).")
@click.option("--request", "request_id", default=None, help="Every event of a request.")
def webhooks_replay(
    product_instance_id: str,
    endpoint_id: str,
    delivery_id: int | None,
    failed_since: str | None,
    request_id: str | None,
) -> None:
    """Queue events again (same webhook-id); a running gateway delivers them."""
    from digilocker_gateway.runtime_build import standalone_runtime
    from digilocker_gateway.webhooks import service

    settings = _data_settings(create=False)
    since = _when_option(failed_since)

    async def go() -> int:
        async with standalone_runtime(settings, with_upstream=False) as runtime:
            async with runtime.transaction() as session:
                return await service.replay(
                    session,
                    product_instance_id=product_instance_id,
                    endpoint_id=endpoint_id,
                    delivery_id=delivery_id,
                    failed_since=since,
                    request_id=request_id,
                    now=runtime.clock.now(),
                )

    click.echo(f"queued {_run_gateway_call(go)} deliveries")


@main.group()
def audit() -> None:
    """The audit log of consents and access to users' data."""


@audit.command("export")
@click.option("--since", default=None, help="Rows created at or after (ISO 8601).")
@click.option("--format", "file_format", type=click.Choice(["jsonl", "csv"]), default="jsonl")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File to write (default: standard output).",
)
def audit_export(since: str | None, file_format: str, output: Path | None) -> None:
    """Write the audit log out, chain by chain, with every column (so it can be re-checked)."""
    from rich.progress import Progress

    from digilocker_gateway.audit.export import count_since, export_lines
    from digilocker_gateway.runtime_build import standalone_runtime

    settings = _data_settings(create=False)
    start = _when_option(since)

    async def go() -> int:
        written = 0
        async with standalone_runtime(settings, with_upstream=False) as runtime:
            async with runtime.reading() as session:
                total = await count_since(session, start)
            stream = output.open("w", encoding="utf-8", newline="") if output else None
            try:
                # The bar goes to standard error, so standard output stays the export itself.
                with Progress(console=_stderr_console(), transient=True) as progress:
                    task = progress.add_task("audit rows", total=total)
                    async with runtime.transaction() as session:
                        async for line in export_lines(
                            session,
                            since=start,
                            file_format=file_format,  # type: ignore[arg-type]
                            on_row=lambda: progress.advance(task),
                        ):
                            if stream is not None:
                                stream.write(line)
                            else:
                                click.echo(line, nl=False)
                            written += 1
            finally:
                if stream is not None:
                    stream.close()
        return written

    lines = _run(go)
    rows = lines - 1 if file_format == "csv" else lines
    click.echo(f"exported {rows} audit rows", err=True)


def _stderr_console() -> Console:
    from rich.console import Console

    return Console(stderr=True)


@audit.command("verify")
@click.option("--product-instance", "product_instance_id", default=None, help="Only this chain.")
def audit_verify(product_instance_id: str | None) -> None:
    """Check every chain: an edited, deleted or reordered row is reported; exit status 1."""
    from digilocker_gateway.audit.log import ChainReport, verify_chains
    from digilocker_gateway.runtime_build import standalone_runtime

    settings = _data_settings(create=False)

    async def go() -> ChainReport:
        async with standalone_runtime(settings, with_upstream=False) as runtime:
            async with runtime.transaction() as session:
                return await verify_chains(
                    session, runtime.keyring, product_instance_id=product_instance_id
                )

    report = _run(go)
    for problem in report.problems:
        click.echo(problem, err=True)
    if not report.intact:
        raise click.ClickException(
            f"audit log tampered: {len(report.problems)} problem(s) in {report.chains} chain(s)"
        )
    click.echo(f"audit log intact: {report.rows} rows in {report.chains} chain(s)")


# Quotas (docs/operations.md §3).


def _quota_number(value: str, hint: str) -> int | None:
    """A quota from the command line: a number of calls (0 refuses every call), or
    `unlimited` (None)."""
    text = value.strip().lower()
    if text == "unlimited":
        return None
    if text.isdigit():
        return int(text)
    raise click.BadParameter(
        f"{value!r} is not a number of calls (0 or more) or 'unlimited'", param_hint=hint
    )


_QUOTA_KINDS = ("create", "fetch", "status", "account_check")


@admin.group("quotas")
def admin_quotas() -> None:
    """A product instance's quotas: calls per minute and per day, for each kind of call."""


def _print_quota_view(
    stored: dict[tuple[QuotaKind, Span], int | None] | None,
    product_instance_id: str,
    settings: Settings,
) -> None:
    """Print each kind's limits and where they come from; `stored` None: no such instance."""
    from digilocker_gateway.ops.quotas import QuotaKind, Span, default_limits

    if stored is None:
        raise click.ClickException(f"no product instance {product_instance_id}")

    defaults = default_limits(settings)
    view: dict[str, dict[str, object]] = {}
    for kind in QuotaKind:
        entry: dict[str, object] = {}
        for span, default in (
            (Span.MINUTE, defaults[kind].per_minute),
            (Span.DAY, defaults[kind].per_day),
        ):
            own = (kind, span) in stored
            entry[f"per_{span.value}"] = {
                "limit": stored[(kind, span)] if own else default,
                "from": "instance" if own else "gateway",
            }
        view[kind.value] = entry
    _print_json(view)


@admin_quotas.command("set")
@product_instance_option
@click.option("--kind", type=click.Choice(_QUOTA_KINDS), required=True, help="The kind of call.")
@click.option("--per-minute", metavar="N|unlimited", help="Calls per minute (sliding window).")
@click.option("--per-day", metavar="N|unlimited", help="Calls per day (from midnight IST).")
def quotas_set(
    product_instance_id: str, kind: str, per_minute: str | None, per_day: str | None
) -> None:
    """Give a product instance its own limit for one kind of call; running gateways apply it
    within 30 seconds."""
    from digilocker_gateway.ops.quotas import QuotaKind, Span, set_limit, stored_limits
    from digilocker_gateway.runtime_build import standalone_runtime

    changes = {
        span: _quota_number(value, f"--per-{span.value}")
        for span, value in ((Span.MINUTE, per_minute), (Span.DAY, per_day))
        if value is not None
    }
    if not changes:
        raise click.UsageError("give --per-minute, --per-day or both")
    settings = _data_settings(create=False)

    async def go() -> dict[tuple[QuotaKind, Span], int | None] | None:
        async with standalone_runtime(settings, with_upstream=False) as runtime:
            async with runtime.transaction() as session:
                for span, value in changes.items():
                    if not await set_limit(
                        session, product_instance_id, QuotaKind(kind), span, value
                    ):
                        return None
                return await stored_limits(session, product_instance_id)

    _print_quota_view(_run(go), product_instance_id, settings)


@admin_quotas.command("show")
@product_instance_option
def quotas_show(product_instance_id: str) -> None:
    """Each kind's limits and where they come from: the instance's own, or the gateway's
    settings (as this command's environment has them: run it with the server's settings)."""
    from digilocker_gateway.db.models import ProductInstance
    from digilocker_gateway.ops.quotas import stored_limits
    from digilocker_gateway.runtime_build import standalone_runtime

    settings = _data_settings(create=False)

    async def go() -> dict[tuple[QuotaKind, Span], int | None] | None:
        async with standalone_runtime(settings, with_upstream=False) as runtime:
            async with runtime.reading() as session:
                if await session.get(ProductInstance, product_instance_id) is None:
                    return None
                return await stored_limits(session, product_instance_id)

    _print_quota_view(_run(go), product_instance_id, settings)


@admin_quotas.command("clear")
@product_instance_option
@click.option("--kind", type=click.Choice(_QUOTA_KINDS), default=None, help="Only this kind.")
@click.option("--span", type=click.Choice(["minute", "day"]), default=None, help="Only this span.")
def quotas_clear(product_instance_id: str, kind: str | None, span: str | None) -> None:
    """Remove a product instance's own limits: the gateway's settings apply again."""
    from digilocker_gateway.ops.quotas import QuotaKind, Span, clear_limits
    from digilocker_gateway.runtime_build import standalone_runtime

    settings = _data_settings(create=False)

    async def go() -> int:
        async with standalone_runtime(settings, with_upstream=False) as runtime:
            async with runtime.transaction() as session:
                return await clear_limits(
                    session,
                    product_instance_id,
                    None if kind is None else QuotaKind(kind),
                    None if span is None else Span(span),
                )

    click.echo(f"cleared {_run(go)} limit(s) of {product_instance_id}")
