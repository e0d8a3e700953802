"""The gateway's typed async client of DigiLocker's Authorized Partner API.

- `protocol`: PKCE, `state`, the authorize URL, the meta-API hash, the file `hmac` (pure).
- `responses`: DigiLocker's JSON answers as frozen dataclasses, parsed quirk-tolerantly.
- `client`: `DigiLockerClient` over the app's shared `httpx.AsyncClient`, with bounded retries.
- `streams`: file downloads whose `hmac` header is checked as the bytes stream through.
- `errors`: the one exception tree everything above raises.
"""

from __future__ import annotations

from digilocker_gateway.upstream.client import DigiLockerClient, PartnerCredentials
from digilocker_gateway.upstream.errors import (
    UpstreamError,
    UpstreamIntegrityError,
    UpstreamMalformedResponse,
    UpstreamResponseError,
    UpstreamTimeout,
    UpstreamTransportError,
    UpstreamUnavailable,
)
from digilocker_gateway.upstream.streams import FileStream

__all__ = [
    "DigiLockerClient",
    "FileStream",
    "PartnerCredentials",
    "UpstreamError",
    "UpstreamIntegrityError",
    "UpstreamMalformedResponse",
    "UpstreamResponseError",
    "UpstreamTimeout",
    "UpstreamTransportError",
    "UpstreamUnavailable",
]
