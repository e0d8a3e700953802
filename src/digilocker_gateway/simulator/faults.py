"""Fault injection: latency, errors, hung and dropped connections, malformed bodies and wrong
`hmac` headers, each on a chosen, deterministic share of the calls of one endpoint or of all of
them ("*").

A gateway must survive all of these from real DigiLocker
(docs/reference/digilocker-partner-api.md §15: treat any 5xx as temporary; §8: verify `hmac`), so
the simulator can produce each on demand.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

import anyio
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from digilocker_gateway.simulator.settings import EndpointFaults, FaultSpec, check_fault_names

# Long enough that any sane client timeout fires first; the wait also ends on disconnect.
HANG_SECONDS = 600.0


class FaultInjector:
    """The faults in force, changeable at run time through the admin API.

    Which calls a fault reaches is deterministic, so a test or a soak sees the same sequence on
    every run: entry k of an endpoint is owed floor(n * rate_k) of its first n calls, and each
    call goes to the entry owed most (the first on a tie), or to none. With one entry this is
    exactly "call n is hit when floor(n * rate) steps up" (0.5: every second call).
    """

    def __init__(self, faults: dict[str, FaultSpec] | None = None) -> None:
        self._specs: dict[str, FaultSpec] = {}
        self._faults: dict[str, tuple[EndpointFaults, ...]] = {}
        self._calls: dict[str, int] = {}
        self._hits: dict[tuple[str, int], int] = {}
        self._error_calls: dict[tuple[str, int], int] = {}
        self.replace(faults or {})

    def replace(self, faults: dict[str, FaultSpec]) -> None:
        self._specs = dict(check_fault_names(faults))
        self._faults = {
            name: tuple(spec) if isinstance(spec, list) else (spec,)
            for name, spec in self._specs.items()
        }
        self._calls = {}
        self._hits = {}
        self._error_calls = {}

    def clear(self) -> None:
        self.replace({})

    def snapshot(self) -> dict[str, object]:
        return {
            name: [entry.model_dump() for entry in spec]
            if isinstance(spec, list)
            else spec.model_dump()
            for name, spec in self._specs.items()
        }

    def for_call(self, name: str) -> InjectedFault | None:
        """The fault for this call of endpoint `name`, if any. The endpoint's own entries win
        over "*"; the two are not merged. Counting is per endpoint, for "*" too."""
        entries = self._faults.get(name) or self._faults.get("*")
        if not entries:
            return None
        calls = self._calls.get(name, 0) + 1
        self._calls[name] = calls
        chosen: int | None = None
        most_owed = 0
        for index, entry in enumerate(entries):
            owed = _steps(calls, entry.rate) - self._hits.get((name, index), 0)
            if owed > most_owed:
                chosen, most_owed = index, owed
        if chosen is None:
            return None
        self._hits[(name, chosen)] = self._hits.get((name, chosen), 0) + 1
        entry = entries[chosen]
        return InjectedFault(entry, self._error_due((name, chosen), entry.error_rate))

    def _error_due(self, key: tuple[str, int], rate: float) -> bool:
        # Among the calls an entry reaches, the error hits when floor(n * error_rate) steps up.
        if rate <= 0.0:
            return False
        count = self._error_calls.get(key, 0) + 1
        self._error_calls[key] = count
        return _steps(count, rate) > _steps(count - 1, rate)


def _steps(count: int, rate: float) -> int:
    # The epsilon keeps decimal rates such as 0.1 from losing a step to binary rounding.
    return int(count * rate + 1e-9)


@dataclass(frozen=True, slots=True)
class InjectedFault:
    """What happens to one call: the entry's faults, and whether this call answers its error."""

    faults: EndpointFaults
    error: bool


def wrong_hmac(body: bytes) -> str:
    """A well-formed but wrong `hmac` header value: the right construction with a wrong key."""
    digest = hmac.new(b"not-the-client-secret", body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def malformed(response: Response) -> Response:
    """200 with a body cut in half: looks like JSON, does not parse."""
    body = bytes(response.body) if response.status_code == 200 else b""
    cut = body[: len(body) // 2] if len(body) >= 2 else b'{"error":"unexpected_err'
    return Response(cut, status_code=200, media_type="application/json")


class HangResponse(Response):
    """Never answers: waits until the client gives up (or HANG_SECONDS pass)."""

    def __init__(self) -> None:
        super().__init__(b"", status_code=504)

    async def __call__(self, _scope: Scope, receive: Receive, _send: Send) -> None:
        with anyio.move_on_after(HANG_SECONDS):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return


class DroppedResponse(Response):
    """Sends the real status line, headers and Content-Length, then half the body, then stops:
    the server closes the connection because the response never completes."""

    def __init__(self, original: Response) -> None:
        super().__init__(b"", status_code=original.status_code)
        self.original = original

    async def __call__(self, _scope: Scope, _receive: Receive, send: Send) -> None:
        body = bytes(self.original.body)
        start: Message = {
            "type": "http.response.start",
            "status": self.original.status_code,
            "headers": self.original.raw_headers,
        }
        await send(start)
        await send(
            {"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True}
        )


# Piece size of a trickled body.
TRICKLE_PIECE = 64 * 1024


class TrickledResponse(Response):
    """The whole, correct answer, sent slowly: TRICKLE_PIECE bytes, then a pause, and so on."""

    def __init__(self, original: Response, pause_seconds: float) -> None:
        super().__init__(b"", status_code=original.status_code)
        self.original = original
        self.pause_seconds = pause_seconds

    async def __call__(self, _scope: Scope, _receive: Receive, send: Send) -> None:
        body = bytes(self.original.body)
        start: Message = {
            "type": "http.response.start",
            "status": self.original.status_code,
            "headers": self.original.raw_headers,
        }
        await send(start)
        for offset in range(0, len(body), TRICKLE_PIECE):
            if offset:
                await anyio.sleep(self.pause_seconds)
            piece = body[offset : offset + TRICKLE_PIECE]
            await send({"type": "http.response.body", "body": piece, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
