"""The network transport under the upstream client's `httpx.AsyncClient`: aiohttp's, through
httpx-aiohttp, when DigiLocker is reached over the network (the embedded simulator has its own
in-process transport, simulator/embedded.py).

Why not httpx's own: on this kind of machine httpx's default transport (httpcore over anyio)
spends about three times the CPU of aiohttp on each call (bench/README.md, "Catalogue"), and the
catalogue refresh alone makes some 13,000 signed calls. The upstream client keeps speaking
httpx: the same `Request`, `Response`, timeouts and exception types (httpx-aiohttp maps
aiohttp's errors to httpx's, which upstream/streams.py maps to ours), so retries, deadlines,
streaming and the HMAC check are unchanged, and an HTTP(S)_PROXY in the environment is still
served by httpx's own proxy transport.

The client keeps no cookies (neither httpx's jar nor aiohttp's): one client serves every
product instance, and nothing a DigiLocker answer sets may ride along on another tenant's call.
"""

from __future__ import annotations

from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    import aiohttp

    from digilocker_gateway.config import Settings

# Connections kept per DigiLocker host; the catalogue refresh's concurrency is far below it.
MAX_CONNECTIONS = 100
# Idle keep-alive connections are closed after this long (httpx's default).
KEEPALIVE_SECONDS = 5.0


def network_transport() -> httpx.AsyncBaseTransport:
    """A transport for real HTTP(S) to DigiLocker (or a standalone simulator)."""
    # Imported here: a gateway on the embedded simulator never loads aiohttp.
    import aiohttp
    from httpx_aiohttp import AiohttpTransport

    # httpx's trust store and TLS defaults (certifi), as the default transport would use.
    ssl_context = httpx.create_ssl_context()

    def session() -> aiohttp.ClientSession:
        # Built on the first request, inside the running event loop, as aiohttp requires.
        connector = aiohttp.TCPConnector(
            limit=MAX_CONNECTIONS, keepalive_timeout=KEEPALIVE_SECONDS, ssl=ssl_context
        )
        return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())

    return AiohttpTransport(client=session)


def upstream_http_client(
    settings: Settings, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The runtime's one client for DigiLocker calls: `transport` (the embedded simulator's, or a
    test's), else the network transport; the upstream timeouts; no redirects, no cookies."""
    return httpx.AsyncClient(
        transport=transport if transport is not None else network_transport(),
        timeout=httpx.Timeout(
            settings.upstream_read_timeout_seconds,
            connect=settings.upstream_connect_timeout_seconds,
        ),
        follow_redirects=False,
        # A jar whose policy accepts no domain: every Set-Cookie is dropped.
        cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
    )
