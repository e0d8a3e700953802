"""The network transport under the upstream client's `httpx.AsyncClient`: aiohttp's, through
httpx-aiohttp, when DigiLocker is reached over the network (the embedded simulator has its own
in-process transport, simulator/embedded.py).

Why not httpx's own: on this kind of machine httpx's default transport (httpcore over anyio)
spends about three times the CPU of aiohttp on each call (bench/README.md, "Catalogue"), and the
catalogue refresh alone makes some 13,000 signed calls. The upstream client keeps speaking
httpx: the same `Request`, `Response`, timeouts and exception types, so retries, deadlines,
streaming and the HMAC check are unchanged. aiohttp's errors are translated here, into the
httpx error that httpx's own transport raises for the same failure (a refused connection is a
`ConnectError`, not a timeout; a malformed answer a `RemoteProtocolError`), and with a message
that names only the error's kind: aiohttp's messages carry the URL, which holds a document's
URI (upstream/streams.py keeps those out of messages). HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and
NO_PROXY in the environment are honoured, as httpx's default transport honours them: read once
per DigiLocker origin, not at every call.

The client keeps no cookies (neither httpx's jar nor aiohttp's): one client serves every
product instance, and nothing a DigiLocker answer sets may ride along on another tenant's call.
"""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import AsyncIterator
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


def _translated(error: BaseException) -> httpx.TransportError | None:
    """The httpx error for an aiohttp failure (seen directly, or as the cause of the error
    httpx-aiohttp raised), or None when `error` is no transport failure."""
    import aiohttp

    cause = error.__cause__ if isinstance(error, httpx.TransportError) else error
    if not isinstance(cause, aiohttp.ClientError | asyncio.TimeoutError):
        return None
    kind = type(cause).__name__
    if isinstance(cause, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(kind)
    if isinstance(cause, aiohttp.ServerTimeoutError | asyncio.TimeoutError):
        return httpx.ReadTimeout(kind)
    if isinstance(cause, aiohttp.ClientConnectorError):  # refused, DNS, TLS certificate
        return httpx.ConnectError(kind)
    if isinstance(cause, aiohttp.ClientPayloadError | aiohttp.ClientOSError):
        return httpx.ReadError(kind)
    return httpx.RemoteProtocolError(kind)  # a disconnect, a malformed status line or header


class _TranslatedStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream) -> None:
        self._inner = inner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                yield chunk
        except Exception as exc:
            translated = _translated(exc)
            if translated is None:
                raise
            raise translated from None

    async def aclose(self) -> None:
        await self._inner.aclose()


class _NetworkTransport(httpx.AsyncBaseTransport):
    """aiohttp under httpx, built on the first call: inside the running event loop, as aiohttp
    requires, and only by a process that does reach DigiLocker over the network (a CLI command
    or a gateway on the embedded simulator never imports aiohttp).

    The proxy environment (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY; NO_PROXY), read as the standard
    library reads it, decides each origin's route, a proxy or none, on the origin's first call;
    the choice is kept for the client's life, as httpx keeps the proxies it read when made.
    aiohttp's own `trust_env` would read the environment and ~/.netrc again on every request,
    on a worker thread, and would send ~/.netrc's credentials to DigiLocker."""

    def __init__(self) -> None:
        self._chosen: dict[tuple[bytes, bytes, int | None], str | None] = {}
        self._by_proxy: dict[str | None, httpx.AsyncBaseTransport] = {}
        self._session: aiohttp.ClientSession | None = None

    def _proxy_for(self, url: httpx.URL) -> str | None:
        origin = (url.raw_scheme, url.raw_host, url.port)
        if origin not in self._chosen:
            # getproxies and proxy_bypass read the same settings, at the same moment.
            proxies = urllib.request.getproxies()
            proxy = proxies.get(url.scheme) or proxies.get("all") or None
            host = url.host if url.port is None else f"{url.host}:{url.port}"
            if proxy is not None and urllib.request.proxy_bypass(host):
                proxy = None
            self._chosen[origin] = proxy
        return self._chosen[origin]

    def _through(self, proxy: str | None) -> httpx.AsyncBaseTransport:
        transport = self._by_proxy.get(proxy)
        if transport is not None:
            return transport
        import aiohttp
        from httpx_aiohttp import AiohttpTransport

        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=MAX_CONNECTIONS,
                keepalive_timeout=KEEPALIVE_SECONDS,
                # httpx's trust store and TLS defaults (certifi), as its own transport uses.
                ssl=httpx.create_ssl_context(),
            )
            self._session = aiohttp.ClientSession(
                connector=connector, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False
            )
        transport = AiohttpTransport(
            client=self._session, proxy=httpx.Proxy(proxy) if proxy else None
        )
        self._by_proxy[proxy] = transport
        return transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            inner = self._through(self._proxy_for(request.url))
            response = await inner.handle_async_request(request)
        except Exception as exc:
            translated = _translated(exc)
            if translated is None:
                raise
            raise translated from None
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _TranslatedStream(response.stream)
        return response

    async def aclose(self) -> None:
        if self._session is not None:  # the transports share it
            await self._session.close()
            self._session = None
        self._by_proxy.clear()


def network_transport() -> httpx.AsyncBaseTransport:
    """A transport for real HTTP(S) to DigiLocker (or a standalone simulator)."""
    return _NetworkTransport()


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
