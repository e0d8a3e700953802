"""The fetch-Aadhaar answer: Setu's OKYC-shaped JSON, field for field
(docs/reference/setu-api.md §8; the mapping from the XML is docs/reference/aadhaar-xml.md §3)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from digilocker_gateway.identity.schemas import IdentityMatch


class AadhaarAddress(BaseModel):
    careOf: str
    country: str
    district: str
    house: str
    landmark: str
    locality: str
    pin: str
    postOffice: str
    state: str
    street: str
    subDistrict: str
    vtc: str


class AadhaarVerified(BaseModel):
    email: bool
    phone: bool
    signature: bool


class AadhaarXml(BaseModel):
    fileUrl: str
    shareCode: str
    validUntil: str


class Aadhaar(BaseModel):
    address: AadhaarAddress
    dateOfBirth: str
    email: str
    gender: str
    generatedAt: str
    maskedNumber: str
    name: str
    phone: str
    photo: str
    verified: AadhaarVerified
    xml: AadhaarXml


class AadhaarCareOf(BaseModel):
    relation: str | None = Field(description="S/O, D/O, W/O or C/O; null when not written")
    name: str | None


class AadhaarExtras(BaseModel):
    """Gateway extension (docs/document-data.md §5), beside Setu's unchanged `aadhaar`."""

    careOf: AadhaarCareOf
    addressLines: list[str]
    age: int | None = Field(description="completed years today (India's date)")
    isAdult: bool | None


class AadhaarResult(BaseModel):
    aadhaar: Aadhaar
    id: str
    status: str
    aadhaarExtras: AadhaarExtras | None = None
    # Only when the request was created with `expected` (docs/identity-match.md §4).
    match: IdentityMatch | None = None
