"""Downloaded files (documents, certificate XML, e-Aadhaar XML) as streams whose `hmac`
header is checked over the exact bytes received.

DigiLocker signs file answers with `hmac` = base64(HMAC-SHA256(client_secret, body))
(docs/reference/digilocker-partner-api.md §8; docs/reference/aadhaar-xml.md §5). The check runs over
the raw bytes as they arrive, and its verdict comes after the last chunk: callers must treat
everything streamed so far as untrusted until `iter_chunks` finishes without raising.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Iterator
from contextlib import aclosing, contextmanager

import httpx

from digilocker_gateway.upstream.errors import (
    UpstreamIntegrityError,
    UpstreamMalformedResponse,
    UpstreamTimeout,
    UpstreamTransportError,
)
from digilocker_gateway.upstream.integrity import IncompleteDocument, check_for
from digilocker_gateway.upstream.protocol import HmacChecker

__all__ = ["HMAC_HEADER", "FileStream", "map_httpx_errors", "read_whole"]

logger = logging.getLogger("digilocker_gateway.upstream")

HMAC_HEADER = "hmac"


@contextmanager
def map_httpx_errors(operation: str) -> Iterator[None]:
    """Turn httpx's exceptions into the upstream tree. Messages name the operation and the
    exception class only: httpx's own message may carry the URL, which holds document URIs."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise UpstreamTimeout(f"{operation}: DigiLocker timed out ({type(exc).__name__})") from exc
    except httpx.TransportError as exc:
        raise UpstreamTransportError(
            f"{operation}: connection to DigiLocker failed ({type(exc).__name__})"
        ) from exc
    except httpx.DecodingError as exc:
        raise UpstreamMalformedResponse(f"{operation}: undecodable answer") from exc
    except httpx.TooManyRedirects as exc:
        raise UpstreamMalformedResponse(f"{operation}: too many redirects") from exc


class FileStream:
    """One file answer, open. Read it once with `iter_chunks()`; the `hmac` verdict comes
    after the last chunk."""

    __slots__ = (
        "_checker",
        "_deadline",
        "_max_bytes",
        "_operation",
        "_require_hmac",
        "_response",
        "_started",
    )

    def __init__(
        self,
        response: httpx.Response,
        *,
        operation: str,
        checker: HmacChecker | None,
        require_hmac: bool,
        max_bytes: int,
        deadline: float | None = None,
    ) -> None:
        self._response = response
        self._operation = operation
        self._checker = checker
        self._require_hmac = require_hmac
        self._max_bytes = max_bytes
        self._deadline = deadline
        self._started = False

    @property
    def content_type(self) -> str | None:
        value: str | None = self._response.headers.get("content-type")
        return value

    @property
    def content_length(self) -> int | None:
        value: str = self._response.headers.get("content-length", "")
        return int(value) if value.isdigit() else None

    async def iter_chunks(self) -> AsyncGenerator[bytes, None]:
        """The body's bytes exactly as received. Raises `UpstreamMalformedResponse` as soon as
        the body passes `max_bytes` (a runaway answer must not fill the disk), and after the
        last chunk when the body is not as long as `Content-Length` said or is not a whole
        document of its kind (upstream/integrity.py); `UpstreamIntegrityError` after the last
        chunk when the `hmac` header is wrong, or missing while it is required;
        `UpstreamTimeout` when the call's deadline (kit/deadline.py) passes."""
        if self._started:
            raise RuntimeError("a FileStream can be read only once")
        self._started = True
        operation = self._operation
        too_large = f"{operation}: the file is larger than {self._max_bytes} bytes"
        declared = self.content_length
        if declared is not None and declared > self._max_bytes:
            raise UpstreamMalformedResponse(too_large)
        checker = self._checker
        whole = check_for(operation, self.content_type)
        size = 0
        with map_httpx_errors(operation):
            try:
                async with asyncio.timeout_at(self._deadline):
                    # aiter_raw: the hmac covers the body as sent, before any content decoding
                    # (docs/reference/digilocker-partner-api.md §8); the request asked for
                    # `identity`, so there is none to undo.
                    async for chunk in self._response.aiter_raw():
                        size += len(chunk)
                        if size > self._max_bytes:
                            raise UpstreamMalformedResponse(too_large)
                        if checker is not None:
                            checker.update(chunk)
                        if whole is not None:
                            whole.update(chunk)
                        yield chunk
            except TimeoutError:
                raise UpstreamTimeout(f"{operation}: the call's deadline passed") from None
        if declared is not None and size != declared:
            raise UpstreamMalformedResponse(
                f"{operation}: {size} bytes arrived, Content-Length said {declared}"
            )
        if whole is not None:
            try:
                whole.finish()
            except IncompleteDocument as exc:
                raise UpstreamMalformedResponse(f"{operation}: {exc}") from None
        if checker is not None:
            self._check(checker)

    def _check(self, checker: HmacChecker) -> None:
        header: str | None = self._response.headers.get(HMAC_HEADER)
        if header is None:
            if self._require_hmac:
                raise UpstreamIntegrityError(f"{self._operation}: the hmac header is missing")
            logger.debug("%s: no hmac header to check", self._operation)
            return
        if not checker.verify(header):
            raise UpstreamIntegrityError(
                f"{self._operation}: the hmac header does not match the body"
            )


async def read_whole(stream: FileStream) -> bytes:
    """All of `stream`, with its checks (size bound, `hmac`)."""
    async with aclosing(stream.iter_chunks()) as chunks:
        return b"".join([chunk async for chunk in chunks])
