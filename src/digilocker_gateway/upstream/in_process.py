"""Socket semantics for in-process transports. Calls to the embedded simulator go through
`httpx.ASGITransport`, where httpx enforces no timeout and an unfinished answer surfaces as a
bare AssertionError. This wrapper bounds each call and turns both into httpx's own ReadTimeout
and RemoteProtocolError, so the upstream client maps them exactly as it maps the network's."""

from __future__ import annotations

import asyncio

import httpx


class InProcessTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, *, seconds: float) -> None:
        self._inner = inner
        self._seconds = seconds

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            async with asyncio.timeout(self._seconds):
                return await self._inner.handle_async_request(request)
        except TimeoutError:
            raise httpx.ReadTimeout("upstream did not answer in time", request=request) from None
        except httpx.HTTPError:
            raise
        except Exception:
            # What a socket would report as a connection closed before the answer was complete.
            raise httpx.RemoteProtocolError(
                "upstream closed the connection mid-response", request=request
            ) from None

    async def aclose(self) -> None:
        await self._inner.aclose()
