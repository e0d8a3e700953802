"""The `match` object beside a document's or an Aadhaar's answer (docs/identity-match.md §4),
typed so that OpenAPI documents it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class FieldMatchResult(BaseModel):
    result: Literal["match", "partial", "mismatch"]
    score: int = Field(ge=0, le=100)


class IdentityMatch(BaseModel):
    """One entry per `expected` field the document also carries (docs/identity-match.md)."""

    name: FieldMatchResult | None = None
    dateOfBirth: FieldMatchResult | None = None
    gender: FieldMatchResult | None = None
    pan: FieldMatchResult | None = None
    drivingLicence: FieldMatchResult | None = None
    vehicleRegistration: FieldMatchResult | None = None
    documentNumber: FieldMatchResult | None = None
    aadhaarLast4: FieldMatchResult | None = None
