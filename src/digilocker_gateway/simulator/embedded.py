"""The simulator as the gateway's embedded default: mounted at `/simulator` of the gateway's
own app and called by the gateway in process, as if it were DigiLocker.

`serve` mounts `simulator_for(settings)` and reaches it through `transport_through(app, …)`:
the same app instance the browser reaches at `/simulator`, so browser and server-to-server
calls see the same state. One-off commands (`catalogue refresh`) have no gateway app and get
`standalone_transport(settings)`, a simulator of their own on the same data directory.
"""

from __future__ import annotations

import httpx
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.types import ASGIApp

from digilocker_gateway.config import SIMULATOR_MOUNT, Settings
from digilocker_gateway.kit.clock import Clock
from digilocker_gateway.simulator.app import create_simulator_app
from digilocker_gateway.simulator.settings import SimulatorSettings, parse_app_spec
from digilocker_gateway.upstream.in_process import InProcessTransport


def simulator_for(settings: Settings, clock: Clock | None = None) -> ASGIApp:
    """A simulator that knows the gateway's partner app, callback URL and meta-hash rules."""
    secret = settings.digilocker_client_secret.get_secret_value()
    app_spec = f"{settings.digilocker_client_id}:{secret}:{settings.callback_url}"
    simulator_settings = SimulatorSettings(
        apps=[parse_app_spec(app_spec)],
        pki_dir=settings.data_dir / "simulator-pki",
        meta_hash_fields=list(settings.digilocker_meta_hash_fields),
        meta_hash_encoding=settings.digilocker_meta_hash_encoding,
    )
    return create_simulator_app(simulator_settings, clock=clock)


def transport_through(app: ASGIApp, settings: Settings) -> httpx.AsyncBaseTransport:
    """Upstream calls into `app`, the gateway with the simulator mounted, bounded in time and
    failing the way a network fails (upstream/in_process.py)."""
    return InProcessTransport(
        httpx.ASGITransport(app=app), seconds=settings.upstream_read_timeout_seconds
    )


def standalone_transport(settings: Settings) -> httpx.AsyncBaseTransport:
    """Upstream calls into a simulator of their own, mounted where the gateway would mount it."""
    host = Starlette(routes=[Mount(SIMULATOR_MOUNT, app=simulator_for(settings))])
    return transport_through(host, settings)
