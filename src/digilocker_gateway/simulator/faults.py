"""Fault injection: latency, deterministic error rates, hung and dropped connections,
malformed bodies and wrong `hmac` headers, per endpoint name or for all of them ("*").

A gateway must survive all of these from real DigiLocker
(docs/reference/digilocker-partner-api.md §15: treat any 5xx as temporary; §8: verify `hmac`), so
the simulator can produce each on demand.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

import anyio
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from digilocker_gateway.simulator.settings import EndpointFaults, check_fault_names

# Long enough that any sane client timeout fires first; the wait also ends on disconnect.
HANG_SECONDS = 600.0


class FaultInjector:
    """The faults in force, changeable at run time through the admin API."""

    def __init__(self, faults: dict[str, EndpointFaults] | None = None) -> None:
        self._faults: dict[str, EndpointFaults] = {}
        self._calls: dict[str, int] = {}
        self.replace(faults or {})

    def replace(self, faults: dict[str, EndpointFaults]) -> None:
        self._faults = dict(check_fault_names(faults))
        self._calls = {}

    def clear(self) -> None:
        self.replace({})

    def snapshot(self) -> dict[str, dict[str, object]]:
        return {name: fault.model_dump() for name, fault in self._faults.items()}

    def for_endpoint(self, name: str) -> EndpointFaults | None:
        """The endpoint's own entry wins over "*"; the two are not merged."""
        return self._faults.get(name) or self._faults.get("*")

    def error_due(self, name: str, rate: float) -> bool:
        """Fail exactly `rate` of the calls, evenly spread (call n fails when floor(n * rate)
        steps up), so a test gets the same sequence on every run."""
        if rate <= 0.0:
            return False
        count = self._calls.get(name, 0)
        self._calls[name] = count + 1
        return int((count + 1) * rate + 1e-9) > int(count * rate + 1e-9)


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
