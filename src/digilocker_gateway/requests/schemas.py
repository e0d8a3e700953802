"""Setu's request bodies and responses, field for field (docs/reference/setu-api.md §4)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from digilocker_gateway.identity.expected import ExpectedIdentity
from digilocker_gateway.requests.status import RequestStatus

# DigiLocker's doc types are upper-case letters and digits, matched case-sensitively.
DOC_TYPE_PATTERN = re.compile(r"^[A-Z0-9]{2,12}$")


class DigilockerRequestCreate(BaseModel):
    """Setu's create body, read liberally (docs/reference/setu-api.md §2): fields it does not
    know are ignored, surrounding whitespace is trimmed."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    redirectUrl: str = Field(  # Setu field names are camelCase
        min_length=1,
        max_length=2048,
        json_schema_extra={"format": "uri"},
        description="Absolute http(s) URL the user's browser is sent back to",
    )
    docType: str | None = Field(
        default=None,
        max_length=200,
        pattern=r"^\s*[A-Z0-9]{2,12}(\s*,\s*[A-Z0-9]{2,12})*\s*$",
        description="DigiLocker doc types to pre-select, such as PANCR; comma-separated",
    )
    # Gateway extension (docs/identity-match.md §1): who the caller expects the user to be.
    expected: ExpectedIdentity | None = None

    @field_validator("docType")
    @classmethod
    def _doc_types(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = [part.strip() for part in value.split(",") if part.strip()]
        return ",".join(parts) or None


def redirect_url_problem(url: str, allowed_hosts: tuple[str, ...] | None) -> str | None:
    """Why `url` cannot be a redirect target, or None. Setu accepts any absolute, publicly hosted
    URL; we require http(s) with a host, no credentials, and the product's allow-list if set."""
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        return "redirectUrl must not contain spaces or control characters"
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a bad port
    except ValueError:
        return "redirectUrl is not a valid URL"
    del port
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "redirectUrl must be an absolute http or https URL"
    if parts.username is not None or parts.password is not None:
        return "redirectUrl must not carry credentials"
    if allowed_hosts is not None and parts.hostname.lower() not in allowed_hosts:
        return "redirectUrl's host is not allowed for this product instance"
    return None


class DigilockerRequest(BaseModel):
    id: str
    status: RequestStatus
    url: str
    validUpto: str


class DigilockerUserDetails(BaseModel):
    digilockerId: str | None = None
    email: str | None = None
    phoneNumber: str | None = None


class DigilockerRequestStatus(DigilockerRequest):
    digilockerUserDetails: DigilockerUserDetails | dict[str, str]
    traceId: str
    # Gateway extension (docs/reference/setu-api.md §4.2): the DigiLocker grant can no longer
    # be used; fetches answer 401 invalid_token until the user consents again at `url`.
    reauthRequired: bool = False


class RevokeResult(BaseModel):
    success: bool
