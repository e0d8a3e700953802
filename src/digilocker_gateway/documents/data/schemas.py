"""The `data` and `match` objects beside `fileUrl` (docs/document-data.md §2, §4): gateway
extensions to Setu's fetch-document answer, typed here so that OpenAPI documents them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from digilocker_gateway.identity.schemas import FieldMatchResult, IdentityMatch

__all__ = ["DocumentData", "FieldMatchResult", "IdentityMatch"]


class DocumentAddress(BaseModel):
    """Setu's twelve address keys (docs/reference/setu-api.md §8), `""` when absent."""

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


class DocumentIssuer(BaseModel):
    orgId: str
    name: str


class DocumentVerified(BaseModel):
    signature: bool = Field(
        description="true only when the XML's signature verified against a pinned certificate"
    )


class PanData(BaseModel):
    number: str | None
    fatherName: str | None


class VehicleClass(BaseModel):
    code: str
    issuedOn: str | None
    validUntil: str | None


class DrivingLicenceData(BaseModel):
    number: str | None
    vehicleClasses: list[VehicleClass]
    validUntil: str | None
    licensingAuthority: str | None


class Subject(BaseModel):
    name: str
    marks: str | None
    maxMarks: str | None
    grade: str | None


class MarksheetData(BaseModel):
    rollNumber: str | None
    year: str | None
    school: str | None
    result: str | None
    subjects: list[Subject]
    totalMarks: int | float | None = Field(description="the sum of the subjects' marks")
    maxMarks: int | float | None


class VehicleRegistrationData(BaseModel):
    registrationNumber: str | None
    registeredOn: str | None
    validUntil: str | None
    chassisNumber: str | None
    engineNumber: str | None
    vehicleClass: str | None
    makerModel: str | None
    fuel: str | None
    registeringAuthority: str | None


class DocumentData(BaseModel):
    """An issued document's fields, from its certificate XML (`source: "xml"`) or, for a
    document without XML, from the issued list (`source: "issuedList"`). Dates are `DD-MM-YYYY`
    where the document's date could be read, else as the document writes them; null when absent.
    The per-doc-type object (`pan`, `drivingLicence`, `marksheet`, `vehicleRegistration`) is
    present only for those doc types."""

    docType: str
    documentNumber: str | None
    name: str | None
    dateOfBirth: str | None
    gender: str | None
    address: DocumentAddress
    issuedOn: str | None
    validFrom: str | None
    validUntil: str | None
    status: str | None = Field(description="the certificate's status as the issuer writes it")
    issuer: DocumentIssuer
    photo: str | None = Field(description="base64 JPEG, without a data: prefix")
    maskedAadhaar: str | None = Field(description="xxxx-xxxx- and the last four digits")
    verified: DocumentVerified
    source: Literal["xml", "issuedList"]
    pan: PanData | None = None
    drivingLicence: DrivingLicenceData | None = None
    marksheet: MarksheetData | None = None
    vehicleRegistration: VehicleRegistrationData | None = None
