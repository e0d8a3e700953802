"""`digilocker-gateway client …`: the SDK on the command line, for operators and for trying
things. Answers are printed as JSON (Setu's field names) on stdout, errors as Setu's envelope
on stderr; progress and spinners go to stderr, and only on a terminal.

Exit codes: 0 done, 2 usage (a bad option, missing credentials), 3 the API answered an error,
4 no answer (network, timeout), 5 `wait` ran out of time."""

from __future__ import annotations

import functools
import itertools
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click
from pydantic import BaseModel

from digilocker_gateway.client._core import CatalogueCache
from digilocker_gateway.client.errors import DigiLockerError, NetworkError, WaitTimeoutError
from digilocker_gateway.client.sync_client import DigiLockerClient

__all__ = ["EXIT_API", "EXIT_NETWORK", "EXIT_USAGE", "EXIT_WAIT_TIMEOUT", "client_command"]

EXIT_USAGE = 2
EXIT_API = 3
EXIT_NETWORK = 4
EXIT_WAIT_TIMEOUT = 5

P = ParamSpec("P")
T = TypeVar("T")


@dataclass
class Options:
    base_url: str | None
    client_id: str | None
    client_secret: str | None
    product_instance_id: str | None
    timeout: float
    retries: int
    pretty: bool
    progress: bool

    def open(self, **extra: Any) -> DigiLockerClient:
        try:
            return DigiLockerClient(
                self.base_url,
                client_id=self.client_id,
                client_secret=self.client_secret,
                product_instance_id=self.product_instance_id,
                timeout=self.timeout,
                max_retries=self.retries,
                **extra,
            )
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None

    def emit(self, value: BaseModel | dict[str, Any]) -> None:
        data = (
            value.model_dump(mode="json", by_alias=True) if isinstance(value, BaseModel) else value
        )
        click.echo(json.dumps(data, indent=2 if self.pretty else None, ensure_ascii=False))


def _fail(error: DigiLockerError, code: int) -> None:
    envelope = {
        "error": {
            "code": error.code,
            "detail": error.detail,
            "traceId": error.trace_id,
            "status": error.status,
        }
    }
    click.echo(json.dumps(envelope), err=True)
    sys.exit(code)


def api_call(function: Callable[P, T]) -> Callable[P, T]:
    """Map the SDK's exceptions to the documented exit codes."""

    @functools.wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return function(*args, **kwargs)
        except WaitTimeoutError as exc:
            _fail(exc, EXIT_WAIT_TIMEOUT)
        except NetworkError as exc:
            _fail(exc, EXIT_NETWORK)
        except DigiLockerError as exc:
            _fail(exc, EXIT_API)
        raise AssertionError("unreachable")  # pragma: no cover

    return run


class ByteProgress:
    """A progress line on stderr: a bar when the size is known, a byte count otherwise."""

    def __init__(self, label: str, enabled: bool) -> None:
        self.label = label
        self.enabled = enabled
        self.shown = False

    def __call__(self, done: int, total: int | None) -> None:
        if not self.enabled:
            return
        if total:
            width = 30
            filled = min(width, done * width // total)
            line = f"{self.label} [{'#' * filled}{'-' * (width - filled)}] {done * 100 // total}%"
        else:
            line = f"{self.label} {done / 1024:,.0f} KiB"
        click.echo("\r" + line, nl=False, err=True)
        self.shown = True

    def finish(self) -> None:
        if self.shown:
            click.echo(err=True)


def _options(ctx: click.Context) -> Options:
    options = ctx.find_object(Options)
    assert options is not None
    return options


@click.group("client")
@click.option("--base-url", help="The gateway, or Setu's host. Env DLG_CLIENT_BASE_URL.")
@click.option("--client-id", help="x-client-id. Env DLG_CLIENT_ID or SETU_CLIENT_ID.")
@click.option(
    "--client-secret", help="x-client-secret. Env DLG_CLIENT_SECRET or SETU_CLIENT_SECRET."
)
@click.option(
    "--product-instance-id",
    help="x-product-instance-id. Env DLG_CLIENT_PRODUCT_INSTANCE_ID or SETU_PRODUCT_INSTANCE_ID.",
)
@click.option("--timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True)
@click.option("--retries", type=click.IntRange(min=0, max=10), default=2, show_default=True)
@click.option("--pretty", is_flag=True, help="Indent the JSON output.")
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress on stderr (default: only when stderr is a terminal).",
)
@click.pass_context
def client_command(
    ctx: click.Context,
    base_url: str | None,
    client_id: str | None,
    client_secret: str | None,
    product_instance_id: str | None,
    timeout: float,
    retries: int,
    pretty: bool,
    progress: bool | None,
) -> None:
    """Call the gateway's (or Setu's) API with the Python SDK; JSON out."""
    ctx.obj = Options(
        base_url,
        client_id,
        client_secret,
        product_instance_id,
        timeout,
        retries,
        pretty,
        sys.stderr.isatty() if progress is None else progress,
    )


@client_command.command()
@click.option("--redirect-url", required=True, help="Where the user's browser comes back to.")
@click.option("--doc-type", multiple=True, help="A doc type to pre-select (repeat for several).")
@click.pass_context
@api_call
def create(ctx: click.Context, redirect_url: str, doc_type: tuple[str, ...]) -> None:
    """Create a request; open its `url` in a browser."""
    options = _options(ctx)
    with options.open() as client:
        options.emit(client.create(redirect_url, doc_type=list(doc_type) or None))


@client_command.command()
@click.argument("request_id")
@click.pass_context
@api_call
def status(ctx: click.Context, request_id: str) -> None:
    """A request's status and, once authenticated, the user's DigiLocker details."""
    options = _options(ctx)
    with options.open() as client:
        options.emit(client.status(request_id))


@client_command.command()
@click.option("--refresh", is_flag=True, help="Ask the server again, ignoring the cached copy.")
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep the catalogue here between runs (revalidated by ETag).",
)
@click.option("--doc-type", help="Print only this doc type's entries.")
@click.pass_context
@api_call
def catalogue(
    ctx: click.Context, refresh: bool, cache_dir: Path | None, doc_type: str | None
) -> None:
    """Every document DigiLocker lets you fetch."""
    options = _options(ctx)
    bar = ByteProgress("catalogue", options.progress)
    with options.open(catalogue_cache=CatalogueCache(cache_dir)) as client:
        result = client.catalogue(refresh=refresh, progress=bar)
    bar.finish()
    documents = result.find(doc_type) if doc_type else result.documents
    options.emit({"documents": [item.model_dump(mode="json", by_alias=True) for item in documents]})


def _parameter(text: str) -> tuple[str, str]:
    name, separator, value = text.partition("=")
    if not separator or not name:
        raise click.BadParameter(f"{text!r} is not NAME=VALUE", param_hint="--param")
    return name, value


@client_command.command()
@click.argument("request_id")
@click.option("--doc-type", required=True)
@click.option("--org-id", required=True)
@click.option("--format", "format_", type=click.Choice(["pdf", "xml"]), default="pdf")
@click.option("--param", "params", multiple=True, help="NAME=VALUE, once per parameter.")
@click.option("--with-data", is_flag=True, help="Gateway only: the document's fields as `data`.")
@click.option("--uri", help="Gateway only: a document's uri from `issued`, instead of --param.")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also download the file here.",
)
@click.pass_context
@api_call
def fetch(
    ctx: click.Context,
    request_id: str,
    doc_type: str,
    org_id: str,
    format_: str,
    params: tuple[str, ...],
    with_data: bool,
    uri: str | None,
    output: Path | None,
) -> None:
    """Fetch a document (not Aadhaar); --output downloads it."""
    options = _options(ctx)
    parameters = dict(_parameter(text) for text in params)
    if uri is not None and parameters:
        raise click.UsageError("give --param or --uri, not both")
    with options.open() as client:
        fetched = client.fetch_document(
            request_id,
            doc_type=doc_type,
            org_id=org_id,
            parameters=parameters,
            format=format_,
            with_data=with_data,
            uri=uri,
        )
        # Only the extensions the answer lacks are left out; nulls inside `data` stay.
        dumped = fetched.model_dump(mode="json", by_alias=True)
        answer = {name: value for name, value in dumped.items() if value is not None}
        if output is not None:
            bar = ByteProgress("download", options.progress)
            client.download(fetched.file_url, output, progress=bar)
            bar.finish()
            answer["path"] = str(output)
    options.emit(answer)


@client_command.command()
@click.argument("request_id")
@click.pass_context
@api_call
def aadhaar(ctx: click.Context, request_id: str) -> None:
    """The user's verified e-Aadhaar as OKYC JSON."""
    options = _options(ctx)
    with options.open() as client:
        options.emit(client.aadhaar(request_id))


@client_command.command()
@click.argument("request_id")
@click.pass_context
@api_call
def revoke(ctx: click.Context, request_id: str) -> None:
    """Revoke the request's DigiLocker access."""
    options = _options(ctx)
    with options.open() as client:
        options.emit(client.revoke(request_id))


@client_command.command()
@click.argument("request_id")
@click.option("--timeout", "wait_timeout", type=click.FloatRange(min=0), default=300.0)
@click.option("--interval", type=click.FloatRange(min=0.05), default=2.0, show_default=True)
@click.pass_context
@api_call
def wait(ctx: click.Context, request_id: str, wait_timeout: float, interval: float) -> None:
    """Poll the status until the user has finished the journey (exit 5 on --timeout)."""
    options = _options(ctx)
    spinner = itertools.cycle("|/-\\")
    deadline = time.monotonic() + wait_timeout
    with options.open() as client:
        while True:
            current = client.status(request_id)
            if current.status != "unauthenticated":
                break
            if time.monotonic() + interval > deadline:
                if options.progress:
                    click.echo(err=True)
                raise WaitTimeoutError(
                    f"request still unauthenticated after {wait_timeout:g} s", code="wait_timeout"
                )
            if options.progress:
                click.echo(f"\r{next(spinner)} waiting for the user", nl=False, err=True)
            time.sleep(interval)
    if options.progress:
        click.echo(err=True)
    options.emit(current)


@client_command.command()
@click.argument("request_id")
@click.pass_context
@api_call
def issued(ctx: click.Context, request_id: str) -> None:
    """Gateway only: the documents the user holds and shared; fetch one with `fetch --uri`."""
    options = _options(ctx)
    with options.open() as client:
        options.emit(client.issued(request_id))


@client_command.group()
def accounts() -> None:
    """Gateway only: DigiLocker accounts."""


def _number(value: str | None) -> str | None:
    # "-" reads the number from stdin, so that it is in neither the shell's history nor `ps`.
    if value == "-":
        return sys.stdin.readline().strip()
    return value


@accounts.command("verify")
@click.option("--mobile", help="A 10-digit mobile number ('-': read it from stdin).")
@click.option("--aadhaar", help="A 12-digit Aadhaar number ('-': read it from stdin).")
@click.pass_context
@api_call
def verify_account(ctx: click.Context, mobile: str | None, aadhaar: str | None) -> None:
    """Whether a mobile or Aadhaar number has a DigiLocker account: {"exists": …}."""
    if (mobile is None) == (aadhaar is None):
        raise click.UsageError("give exactly one of --mobile or --aadhaar")
    options = _options(ctx)
    with options.open() as client:
        options.emit(client.verify_account(mobile=_number(mobile), aadhaar=_number(aadhaar)))


@client_command.command("offline-ekyc")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--share-code", required=True)
@click.pass_context
@api_call
def offline_ekyc(ctx: click.Context, archive: Path, share_code: str) -> None:
    """Gateway only: verify a UIDAI offline e-KYC ZIP."""
    options = _options(ctx)
    with options.open() as client:
        options.emit(client.offline_ekyc(archive, share_code=share_code))
