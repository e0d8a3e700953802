"""Journey options of create (docs/journey-options.md §1): checked against the product
instance's bounds, kept on the request, and turned into DigiLocker's authorize parameters
(docs/reference/digilocker-partner-api.md §3) when the journey starts.

Pure functions of their arguments; `service.create_request` calls them inside its transaction.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from digilocker_gateway.errors import InvalidPayload
from digilocker_gateway.kit.timefmt import IST

if TYPE_CHECKING:  # schemas.py imports this module's bounds
    from digilocker_gateway.requests.schemas import DigilockerRequestCreate

# At most this many doc types pre-selected: each is at most 12 characters, so the comma list
# fits the request row's 200-character column.
MAX_DOC_TYPES = 15
# v2.4 allows letters, digits, spaces and `_` in `purpose` and names no length
# (docs/reference/digilocker-partner-api.md §3); 100 keeps a consent screen readable.
PURPOSE_MAX_CHARS = 100
PURPOSE_PATTERN = r"^[A-Za-z0-9_ ]+$"

# The extension names an operator can allow per product instance (`admin set-options`).
EXTENSIONS = (
    "docTypes",
    "flow",
    "pinless",
    "usernameless",
    "consentValidity",
    "purpose",
    "requestLifetime",
    "hint",
    "issuedDocuments",
    "accountCheck",
)
# Which create field belongs to which extension.
_FIELD_EXTENSIONS = {
    "docTypes": "docTypes",
    "flow": "flow",
    "pinless": "pinless",
    "usernameless": "usernameless",
    "consentValidUntil": "consentValidity",
    "consentValidSeconds": "consentValidity",
    "purpose": "purpose",
    "requestLifetimeSeconds": "requestLifetime",
    "hint": "hint",
}

# India's mobile numbers start with 6-9; the simulator's synthetic ones start with 5 so that
# they can never be real, so only a leading 0 (a trunk prefix) is refused.
_MOBILE = re.compile(r"[1-9][0-9]{9}")
_MASKED_AADHAAR = re.compile(r"[Xx*]{8}([0-9]{4})")


def normalise_mobile(value: str) -> str | None:
    """An Indian mobile number as its 10 digits (spaces, dashes and a +91 / 91 / 0 prefix
    dropped), or None when it is not one."""
    digits = re.sub(r"[\s\-()]", "", value)
    if digits.startswith("+91"):
        digits = digits[3:]
    elif len(digits) == 12 and digits.startswith("91"):
        digits = digits[2:]
    elif len(digits) == 11 and digits.startswith("0"):
        digits = digits[1:]
    return digits if _MOBILE.fullmatch(digits) else None


def check_hint(value: str | None) -> str | None:
    """`hint` normalised: a mobile number's 10 digits, or `XXXXXXXX` and a masked Aadhaar's
    last four. A full Aadhaar number is refused: the gateway never takes one whole here. The
    message never repeats the value (it is personal data)."""
    if value is None or not value.strip():
        return None
    mobile = normalise_mobile(value)
    if mobile is not None:
        return mobile
    masked = _MASKED_AADHAAR.fullmatch(re.sub(r"[\s\-]", "", value))
    if masked is not None:
        return "XXXXXXXX" + masked[1]
    raise ValueError("must be a 10-digit mobile number or a masked Aadhaar such as XXXXXXXX1234")


def hint_mobile(hint: str | None) -> str | None:
    """The mobile number in a normalised hint; a masked Aadhaar prefills nothing, since no
    authorize parameter takes one (docs/journey-options.md §1)."""
    return hint if hint is not None and _MOBILE.fullmatch(hint) else None


@dataclass(frozen=True, slots=True)
class JourneyOptions:
    """What a request asks of DigiLocker's journey, besides its doc types. No personal data:
    it is stored plain (the hint is sealed apart)."""

    flow: str | None = None
    pinless: bool = False
    usernameless: bool = False
    consent_valid_till: int | None = None  # UNIX seconds, as DigiLocker takes it
    purpose: str | None = None

    def to_json(self) -> str | None:
        if self == JourneyOptions():
            return None
        return json.dumps(asdict(self), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> JourneyOptions:
        if not text:
            return cls()
        data: dict[str, Any] = json.loads(text)
        return cls(**{key: data[key] for key in cls.__slots__ if key in data})

    def authorize_parameters(self, hint: str | None) -> dict[str, str]:
        """DigiLocker's authorize parameters for these options
        (docs/reference/digilocker-partner-api.md §3), besides
        `dl_flow`, which the authorize builder takes by name."""
        params: dict[str, str] = {}
        if self.pinless:
            # `pla` asks for PIN-less sign-in (and, at the simulator, sign-up too); a sign-up
            # journey asks for the PIN-less sign-up alone.
            params["plsignup" if self.flow == "signup" else "pla"] = "Y"
        if self.usernameless:
            params["ulsignup"] = "Y"
        if self.consent_valid_till is not None:
            params["consent_valid_till"] = str(self.consent_valid_till)
        if self.purpose:
            params["purpose"] = self.purpose
        mobile = hint_mobile(hint)
        if mobile is not None:
            params["verified_mobile"] = mobile
        return params


class Bounds(Protocol):
    """The product instance's settings the options are checked against (`Tenant`)."""

    @property
    def request_lifetime_seconds(self) -> int: ...
    @property
    def default_flow(self) -> str | None: ...
    @property
    def default_purpose(self) -> str | None: ...
    def allows(self, extension: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class ResolvedOptions:
    doc_types: tuple[str, ...]
    options: JourneyOptions
    lifetime_seconds: int
    hint: str | None


def resolve_options(
    body: DigilockerRequestCreate,
    bounds: Bounds,
    *,
    max_request_lifetime_seconds: int,
    max_consent_validity_seconds: int,
    now: datetime,
) -> ResolvedOptions:
    """The create body's options checked against the product instance: 400 invalid_payload
    naming the field for an extension not allowed, a list too long, a time in the past or
    beyond the maximum."""
    for field, extension in _FIELD_EXTENSIONS.items():
        if getattr(body, field) is not None and not bounds.allows(extension):
            raise InvalidPayload(f"{field}: not allowed for this product instance")
    doc_types = tuple(
        dict.fromkeys([*(body.docType.split(",") if body.docType else []), *(body.docTypes or [])])
    )
    if len(doc_types) > MAX_DOC_TYPES:
        raise InvalidPayload(f"docTypes: at most {MAX_DOC_TYPES} doc types, with docType's")

    lifetime = bounds.request_lifetime_seconds
    if body.requestLifetimeSeconds is not None:
        if body.requestLifetimeSeconds > max_request_lifetime_seconds:
            raise InvalidPayload(
                f"requestLifetimeSeconds: at most {max_request_lifetime_seconds} "
                "for this product instance"
            )
        lifetime = body.requestLifetimeSeconds

    consent_until: datetime | None = None
    if body.consentValidUntil is not None and body.consentValidSeconds is not None:
        raise InvalidPayload("consentValidSeconds: give it or consentValidUntil, not both")
    if body.consentValidSeconds is not None:
        if body.consentValidSeconds > max_consent_validity_seconds:
            raise InvalidPayload(
                f"consentValidSeconds: at most {max_consent_validity_seconds} "
                "for this product instance"
            )
        consent_until = now + timedelta(seconds=body.consentValidSeconds)
    elif body.consentValidUntil is not None:
        consent_until = body.consentValidUntil
        if consent_until.tzinfo is None:
            consent_until = consent_until.replace(tzinfo=IST)  # Setu's times are India time
        if consent_until <= now:
            raise InvalidPayload("consentValidUntil: must be in the future")
        if consent_until > now + timedelta(seconds=max_consent_validity_seconds):
            raise InvalidPayload(
                f"consentValidUntil: at most {max_consent_validity_seconds} seconds from now "
                "for this product instance"
            )

    flow = body.flow or bounds.default_flow
    options = JourneyOptions(
        flow=flow,
        pinless=bool(body.pinless),
        usernameless=bool(body.usernameless),
        consent_valid_till=int(consent_until.timestamp()) if consent_until else None,
        purpose=body.purpose or bounds.default_purpose,
    )
    return ResolvedOptions(doc_types, options, lifetime, body.hint)
