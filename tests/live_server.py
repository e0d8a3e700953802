"""A gateway served for real over TCP (uvicorn in a thread), for what cannot go through the ASGI
transport: the client CLI in a subprocess, and a browser."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import uvicorn

from digilocker_gateway.app import create_app
from digilocker_gateway.documents.catalogue import CatalogueDocument, store_catalogue
from digilocker_gateway.runtime import Runtime
from tests.support import DatabaseUnderTest, add_client, gateway_settings

T = TypeVar("T")


@dataclass
class LiveGateway:
    base_url: str
    headers: dict[str, str]
    runtime: Runtime
    loop: asyncio.AbstractEventLoop

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run `coroutine` on the server's own event loop (where its runtime lives)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=60)

    @property
    def environment(self) -> dict[str, str]:
        """The client CLI's environment variables for this gateway."""
        return {
            "DLG_CLIENT_BASE_URL": self.base_url,
            "DLG_CLIENT_ID": self.headers["x-client-id"],
            "DLG_CLIENT_SECRET": self.headers["x-client-secret"],
            "DLG_CLIENT_PRODUCT_INSTANCE_ID": self.headers["x-product-instance-id"],
        }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def live_gateway(
    data_dir: Path, catalogue: list[CatalogueDocument] | None = None, **overrides: Any
) -> Iterator[LiveGateway]:
    """The embedded default (SQLite, simulator) on a free port of 127.0.0.1, dev mode."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    database = DatabaseUnderTest(f"sqlite+aiosqlite:///{(data_dir / 'gateway.db').as_posix()}")
    settings = gateway_settings(database, data_dir, public_base_url=base_url, **overrides)
    app = create_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(server.serve(),), daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the gateway did not start")
            threading.Event().wait(0.02)
        runtime: Runtime = app.state.runtime
        live = LiveGateway(base_url, {}, runtime, loop)
        live.headers = live.run(add_client(runtime))
        if catalogue is not None:

            async def store() -> None:
                async with runtime.transaction() as session:
                    await store_catalogue(session, catalogue, now=runtime.clock.now())

            live.run(store())
        yield live
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        loop.close()
