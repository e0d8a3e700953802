"""`digilocker-gateway simulator`: run the DigiLocker simulator on its own port."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from digilocker_gateway.simulator.settings import SimulatorSettings, parse_app_spec


def _app_spec(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> Any:
    try:
        return [parse_app_spec(value) for value in values]
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def build_settings(
    *,
    apps: list[Any],
    pki_dir: Path | None,
    status_profile: str | None,
    faults_file: Path | None,
) -> SimulatorSettings:
    """Settings from the environment (`DLG_SIM_*`), overridden by the options given."""
    overrides: dict[str, Any] = {}
    if apps:
        overrides["apps"] = apps
    if pki_dir is not None:
        overrides["pki_dir"] = pki_dir
    if status_profile is not None:
        overrides["status_profile"] = status_profile
    if faults_file is not None:
        try:
            overrides["faults"] = json.loads(faults_file.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise click.BadParameter(f"{faults_file}: not JSON ({exc})") from None
    return SimulatorSettings(**overrides)


@click.command("simulator")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8001, show_default=True, help="Port to listen on.")
@click.option(
    "--app",
    "apps",
    multiple=True,
    callback=_app_spec,
    metavar="CLIENT_ID:CLIENT_SECRET:REDIRECT_URI",
    help="A partner app to register (repeatable; repeat an id to add redirect URIs). "
    "Default: DLGSIMDEV1 with the gateway's dev callback URLs.",
)
@click.option(
    "--pki-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep the signing keys here (created when missing). Default: in memory.",
)
@click.option(
    "--status-profile",
    type=click.Choice(["spec", "v2.4"]),
    default=None,
    help="HTTP statuses of errors: the published spec or Requester API v2.4 (530 for faults).",
)
@click.option(
    "--faults",
    "faults_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help='Initial faults, JSON: {"file": {"wrong_hmac": true}, "*": {"latency_ms": 200}}.',
)
def simulator_command(
    host: str,
    port: int,
    apps: list[Any],
    pki_dir: Path | None,
    status_profile: str | None,
    faults_file: Path | None,
) -> None:
    """Run a local DigiLocker (synthetic users, documents and e-Aadhaar; no internet).

    Test users: GET /_sim/users. Fault admin: /_sim/admin/faults. See docs/simulator.md.
    """
    import uvicorn

    from digilocker_gateway.simulator.app import create_simulator_app

    try:
        settings = build_settings(
            apps=apps, pki_dir=pki_dir, status_profile=status_profile, faults_file=faults_file
        )
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    base = f"http://{host}:{port}"
    click.echo(
        f"DigiLocker simulator on {base}/public  (test users: {base}/_sim/users)\n"
        + "".join(
            f"  app {spec.client_id}: {', '.join(spec.redirect_uris)}\n" for spec in settings.apps
        )
    )
    uvicorn.run(create_simulator_app(settings), host=host, port=port, access_log=False)
