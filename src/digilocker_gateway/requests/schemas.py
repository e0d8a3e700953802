"""Setu's request bodies and responses, field for field (docs/reference/setu-api.md §4)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from digilocker_gateway.identity.expected import ExpectedIdentity
from digilocker_gateway.requests.options import (
    MAX_DOC_TYPES,
    PURPOSE_MAX_CHARS,
    PURPOSE_PATTERN,
    check_hint,
)
from digilocker_gateway.requests.status import RequestStatus

# DigiLocker's doc types are upper-case letters and digits, matched case-sensitively.
DOC_TYPE_PATTERN = re.compile(r"^[A-Z0-9]{2,12}$")


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


def _doc_type_list(value: object) -> object:
    # Read liberally: one comma-separated string is taken as the list it spells.
    if isinstance(value, str):
        return [part for part in value.split(",") if part.strip()]
    return value


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


DocTypeName = Annotated[str, Field(pattern=r"^[A-Z0-9]{2,12}$")]


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
    # Gateway extensions (docs/journey-options.md §1): how the DigiLocker journey goes. Each is
    # optional; without them the journey is Setu's.
    docTypes: Annotated[
        list[DocTypeName] | None,
        BeforeValidator(_doc_type_list),
        AfterValidator(lambda value: _unique(value) if value else None),
    ] = Field(
        default=None,
        max_length=MAX_DOC_TYPES,
        description="Doc types to pre-select on DigiLocker's consent page (with docType's, "
        "if both are given)",
    )
    flow: Annotated[Literal["signin", "signup"] | None, BeforeValidator(_lower)] = Field(
        default=None,
        description="signin or signup; without it, DigiLocker (or the product instance) decides",
    )
    pinless: bool | None = Field(
        default=None, description="Sign in (or up) without DigiLocker's security PIN"
    )
    usernameless: bool | None = Field(
        default=None, description="Sign up without choosing a DigiLocker username"
    )
    consentValidUntil: datetime | None = Field(
        default=None,
        description="When the user's consent ends at DigiLocker (ISO 8601; without an offset, "
        "India time); at most the product instance's maximum from now",
    )
    consentValidSeconds: int | None = Field(
        default=None, gt=0, description="How long the user's consent lasts, instead of the time"
    )
    purpose: str | None = Field(
        default=None,
        min_length=1,
        max_length=PURPOSE_MAX_CHARS,
        pattern=PURPOSE_PATTERN,
        description="Shown on DigiLocker's consent page: letters, digits, spaces and _",
    )
    requestLifetimeSeconds: int | None = Field(
        default=None,
        gt=0,
        description="This request's lifetime (its validUpto); at most the product instance's "
        "maximum",
    )
    hint: Annotated[str | None, AfterValidator(check_hint)] = Field(
        default=None,
        max_length=40,
        repr=False,
        description="The user's mobile number (prefilled at DigiLocker; the caller vouches it "
        "is verified) or a masked Aadhaar such as XXXXXXXX1234; never logged",
    )

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
    # Gateway extensions (docs/journey-options.md §2), once authenticated (else null): the doc
    # types the user consented to share (the redirect's `scope`, as a list), and when that
    # consent ends at DigiLocker (if DigiLocker said).
    consentedDocTypes: list[str] | None = None
    consentValidUntil: str | None = None


class RevokeResult(BaseModel):
    success: bool
