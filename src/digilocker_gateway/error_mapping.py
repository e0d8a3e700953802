"""DigiLocker's answers → the gateway's Setu codes: the one table, for every call that turns a
DigiLocker failure into an API error (docs/errors.md shows it, and a test holds the two equal).

Keyed on DigiLocker's `error` string, never on its HTTP status, which differs between the spec
and v2.4 (docs/reference/digilocker-partner-api.md §12, §15). Anything not in the table —
`repository_service_*` (issuer down), `unexpected_error`, a 5xx or 530, a timeout, a dropped
connection, a malformed body, a wrong `hmac` — is the call's own "DigiLocker failed" error.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from functools import partial

from digilocker_gateway.errors import (
    AadhaarNotAvailable,
    AadhaarNotLinked,
    GatewayError,
    GetXmlFailed,
    InvalidPayload,
    InvalidToken,
    InvalidUri,
    PullResponsePending,
    RecordNotFound,
    UpstreamServerError,
    UserConsentNotGiven,
)
from digilocker_gateway.upstream.errors import UpstreamError, UpstreamResponseError


class Call(StrEnum):
    """The public calls whose DigiLocker failures the table maps."""

    DOCUMENT = "fetch document"
    AADHAAR = "fetch Aadhaar"


ErrorFactory = Callable[[], GatewayError]

# DigiLocker's `error` → (fetch document, fetch Aadhaar); None: the call's default below.
TABLE: dict[str, tuple[ErrorFactory | None, ErrorFactory | None]] = {
    "aadhaar_not_linked": (AadhaarNotLinked, AadhaarNotLinked),
    "aadhaar_not_available": (None, AadhaarNotAvailable),
    "record_not_found": (RecordNotFound, None),
    "pull_response_pending": (PullResponsePending, None),
    "invalid_orgid": (partial(InvalidPayload, "DigiLocker does not know this orgId."), None),
    "invalid_doctype": (partial(InvalidPayload, "DigiLocker does not know this docType."), None),
    "invalid_parameter": (partial(InvalidPayload, "DigiLocker refused a parameter."), None),
    "insufficient_scope": (
        UserConsentNotGiven,
        partial(UserConsentNotGiven, "The user did not consent to share their Aadhaar."),
    ),
    "invalid_uri": (InvalidUri, None),
    "invalid_token": (InvalidToken, InvalidToken),
}

DEFAULTS: dict[Call, ErrorFactory] = {
    Call.DOCUMENT: UpstreamServerError,
    Call.AADHAAR: GetXmlFailed,
}


def gateway_error_for(exc: UpstreamError, call: Call) -> GatewayError:
    """The API error a DigiLocker failure during `call` is answered with."""
    if isinstance(exc, UpstreamResponseError):
        row = TABLE.get(exc.error)
        if row is not None:
            factory = row[0] if call is Call.DOCUMENT else row[1]
            if factory is not None:
                return factory()
    return DEFAULTS[call]()
