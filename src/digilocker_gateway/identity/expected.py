"""The `expected` object a caller may give at create: who it believes the user is
(docs/identity-match.md §1).

Read liberally like every Setu body (docs/architecture.md §7): unknown fields are ignored,
numbers are taken as their decimal strings, empty strings count as absent. Acted on strictly: a
date of birth that is no date or a gender that is none of Aadhaar's three is refused
(`invalid_payload`), since comparing against it would silently answer `mismatch`.

An Aadhaar number is never kept whole: `aadhaarLast4` keeps the last four digits of whatever it
is given, as the rest of the gateway does (docs/reference/aadhaar-xml.md §4.1, pitfall 9).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from digilocker_gateway.identity.dates import parse_date

__all__ = ["DOCUMENT_NUMBER_FIELDS", "ExpectedIdentity"]

# The named document-number fields and the doc type whose number each is
# (docs/identity-match.md §1). Any other doc type goes in `documentNumbers`.
DOCUMENT_NUMBER_FIELDS: dict[str, str] = {
    "pan": "PANCR",
    "drivingLicence": "DRVLC",
    "vehicleRegistration": "RVCER",
}

_DOC_TYPE = re.compile(r"[A-Z0-9]{2,12}")
_GENDERS = {
    "m": "M",
    "male": "M",
    "f": "F",
    "female": "F",
    "t": "T",
    "transgender": "T",
    "o": "T",
    "other": "T",
}


def _blank_is_absent(value: object) -> object:
    if isinstance(value, str) and not value.strip():
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


Text = Annotated[str | None, BeforeValidator(_blank_is_absent)]


class ExpectedIdentity(BaseModel):
    """Gateway extension on create (docs/identity-match.md §1): the identity the caller expects
    every document and the Aadhaar of this request to carry. Each field is optional."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    name: Text = Field(default=None, max_length=200, description="Full name, in any spelling")
    dateOfBirth: Text = Field(
        default=None,
        max_length=20,
        description="DD-MM-YYYY (also DD/MM/YYYY, DD.MM.YYYY, YYYY-MM-DD, DDMMYYYY or a year)",
    )
    gender: Text = Field(default=None, max_length=20, description="M, F or T (or male, female…)")
    pan: Text = Field(default=None, max_length=20, description="PAN (PANCR)")
    drivingLicence: Text = Field(
        default=None, max_length=30, description="Driving licence number (DRVLC)"
    )
    vehicleRegistration: Text = Field(
        default=None, max_length=20, description="Vehicle registration number (RVCER)"
    )
    aadhaarLast4: Text = Field(
        default=None,
        max_length=20,
        description="The last four digits of the Aadhaar number; only those are ever kept",
    )
    documentNumbers: dict[str, str] = Field(
        default_factory=dict,
        max_length=20,
        description='Document numbers of other doc types, by doc type (e.g. {"HSCER": …})',
    )

    @field_validator("dateOfBirth")
    @classmethod
    def _a_date(cls, value: str | None) -> str | None:
        if value is not None and parse_date(value) is None:
            raise ValueError("must be a date such as 15-08-1991")
        return value

    @field_validator("gender")
    @classmethod
    def _a_gender(cls, value: str | None) -> str | None:
        if value is None:
            return None
        gender = _GENDERS.get(value.lower())
        if gender is None:
            raise ValueError("must be M, F or T")
        return gender

    @field_validator("aadhaarLast4")
    @classmethod
    def _last_four(cls, value: str | None) -> str | None:
        if value is None:
            return None
        digits = "".join(ch for ch in value if ch.isdigit())
        if len(digits) < 4:
            raise ValueError("must end with four digits")
        return digits[-4:]

    @field_validator("documentNumbers", mode="before")
    @classmethod
    def _numbers_by_doc_type(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        numbers: dict[str, str] = {}
        for key, number in value.items():
            doc_type = str(key).strip().upper()
            if not _DOC_TYPE.fullmatch(doc_type):
                raise ValueError(f"{key!r} is not a doc type")
            text = _blank_is_absent(number)
            if isinstance(text, str):
                if len(text) > 40:
                    raise ValueError("document numbers are at most 40 characters")
                numbers[doc_type] = text.strip()
        return numbers

    def is_empty(self) -> bool:
        return not self.model_dump(exclude_none=True, exclude_defaults=True)

    def number_for(self, doc_type: str) -> tuple[str, str] | None:
        """`(field name, number)` the caller expects on a document of `doc_type`."""
        for field, named_type in DOCUMENT_NUMBER_FIELDS.items():
            value = getattr(self, field)
            if named_type == doc_type and value is not None:
                return field, value
        if doc_type in self.documentNumbers:
            return f"documentNumbers.{doc_type}", self.documentNumbers[doc_type]
        return None
