"""The upstream client's exception tree: everything `DigiLockerClient` raises.

```
UpstreamError                      anything that went wrong talking to DigiLocker
├── UpstreamTransportError         connect/read/write failure, connection dropped mid-response
│   └── UpstreamTimeout            a connect, read, write or pool timeout
├── UpstreamResponseError          DigiLocker answered with its JSON error object
├── UpstreamMalformedResponse      the answer was not JSON, or JSON of the wrong shape
├── UpstreamUnavailable            not sent: the operation's circuit breaker is open
└── UpstreamIntegrityError         a downloaded file's `hmac` header did not match its bytes
```

Callers dispatch on `UpstreamResponseError.error` (DigiLocker's `error` string), never on the
HTTP status: the spec and v2.4 disagree about statuses, and v2.4 uses 530 for provider faults
(docs/reference/digilocker-partner-api.md §12, §15). The gateway maps this tree to its own errors in
one place.

Messages never contain tokens, secrets, request bodies or document content: they name the
operation, the status and DigiLocker's (bounded) error code and description only.
"""

from __future__ import annotations

from digilocker_gateway.kit.text import printable_prefix

__all__ = [
    "UpstreamError",
    "UpstreamIntegrityError",
    "UpstreamMalformedResponse",
    "UpstreamResponseError",
    "UpstreamTimeout",
    "UpstreamTransportError",
    "UpstreamUnavailable",
]


class UpstreamError(Exception):
    """Base class: the call to DigiLocker did not produce a usable answer."""

    @property
    def temporary(self) -> bool:
        """Whether trying again later could succeed (network trouble, a 5xx)."""
        return False


class UpstreamTransportError(UpstreamError):
    """DigiLocker could not be reached, or the connection broke before the answer was whole."""

    @property
    def temporary(self) -> bool:
        return True


class UpstreamTimeout(UpstreamTransportError):
    """DigiLocker did not connect or answer within the shared client's timeouts."""


class UpstreamResponseError(UpstreamError):
    """DigiLocker's JSON error object `{"error", "error_description"}` with a non-2xx status."""

    def __init__(self, status: int, error: str, description: str = "") -> None:
        self.status = status
        self.error = printable_prefix(error)
        self.description = printable_prefix(description)
        message = f"DigiLocker answered {status} {error}"
        super().__init__(f"{message}: {self.description}" if self.description else message)

    @property
    def temporary(self) -> bool:
        # v2.4 reports provider faults as 530 and the spec as 500/503: any 5xx is temporary
        # (docs/reference/digilocker-partner-api.md §15).
        return self.status >= 500


class UpstreamMalformedResponse(UpstreamError):
    """The answer could not be understood: not JSON where JSON was expected, a JSON value of
    the wrong shape, or an error status without DigiLocker's error object. `status` is the HTTP
    status when there was a response."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        self.status = status
        super().__init__(message if status is None else f"{message} (HTTP {status})")

    @property
    def temporary(self) -> bool:
        return self.status is not None and self.status >= 500


class UpstreamIntegrityError(UpstreamError):
    """A downloaded file's `hmac` header was wrong (or missing when required): the bytes may
    have been altered in transit and must be thrown away (docs/reference/aadhaar-xml.md §5)."""


class UpstreamUnavailable(UpstreamError):
    """The call was not sent: DigiLocker failed repeatedly (or asked us to wait) and the
    operation's circuit breaker is open (docs/operations.md §4). `retry_after` is the whole
    seconds until a call may go again."""

    def __init__(self, operation: str, retry_after: int) -> None:
        self.operation = operation
        self.retry_after = retry_after
        super().__init__(
            f"{operation}: DigiLocker is failing; not called (retry in {retry_after}s)"
        )

    @property
    def temporary(self) -> bool:
        return True
