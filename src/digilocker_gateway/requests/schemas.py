"""Setu's request bodies and responses, field for field (docs/reference/setu-api.md §4)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from digilocker_gateway.requests.status import RequestStatus

DOC_TYPE_PATTERN = re.compile(r"^[A-Z0-9]{2,12}$")


class DigilockerRequestCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    redirectUrl: str = Field(max_length=2048)  # Setu field names are camelCase
    docType: str | None = Field(default=None, max_length=200)

    @field_validator("docType")
    @classmethod
    def _doc_types(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = [part.strip().upper() for part in value.split(",") if part.strip()]
        if not parts or any(not DOC_TYPE_PATTERN.match(part) for part in parts):
            raise ValueError("docType must be DigiLocker doc types such as DRVLC, comma-separated")
        return ",".join(parts)


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


class RevokeResult(BaseModel):
    success: bool
