"""Typed results of the API's calls. Attribute names are Python's (`valid_upto`), the JSON is
Setu's (`validUpto`); every model keeps fields it does not know (`model_extra`), so a newer
gateway or Setu adding a field never breaks a client."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

__all__ = [
    "Aadhaar",
    "AadhaarAddress",
    "AadhaarResult",
    "AadhaarVerified",
    "AadhaarXml",
    "Catalogue",
    "CatalogueDocument",
    "CatalogueParameter",
    "DigiLockerRequest",
    "DocumentParameter",
    "FetchedDocument",
    "RequestStatus",
    "RevokeResult",
    "UserDetails",
]


class ApiModel(BaseModel):
    """Base of every result: camelCase JSON, snake_case attributes, unknown fields kept."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="allow", frozen=True
    )


class DigiLockerRequest(ApiModel):
    """A request, as create answers it: send the user's browser to `url`."""

    id: str
    status: str = Field(description="unauthenticated, authenticated or revoked")
    url: str
    valid_upto: str


class UserDetails(ApiModel):
    """Who signed in, as far as DigiLocker said; all None before authentication."""

    digilocker_id: str | None = None
    email: str | None = None
    phone_number: str | None = None


class RequestStatus(DigiLockerRequest):
    """A request's status, with the user's DigiLocker details once authenticated."""

    digilocker_user_details: UserDetails = Field(default_factory=UserDetails)
    trace_id: str | None = None
    # Gateway extension (docs/reference/setu-api.md §4.2); Setu never sends it.
    reauth_required: bool = False

    @property
    def is_authenticated(self) -> bool:
        """True once the user has consented and the request can fetch documents."""
        return self.status == "authenticated"


class CatalogueParameter(ApiModel):
    """One parameter a document's issuer needs to find it."""

    name: str
    description: str = ""


class CatalogueDocument(ApiModel):
    """One fetchable document: the pair (`doc_type`, `org_id`) names it."""

    available_formats: list[str] = Field(default_factory=list)
    description: str = ""
    doc_type: str
    org_id: str
    org_name: str = ""
    parameters: list[CatalogueParameter] = Field(default_factory=list)


class Catalogue(ApiModel):
    """Every document DigiLocker lets a partner fetch."""

    documents: list[CatalogueDocument]
    # Not part of the JSON: the ETag the answer came with, None when the server sent none.
    etag: str | None = Field(default=None, exclude=True)

    def find(self, doc_type: str, org_id: str | None = None) -> list[CatalogueDocument]:
        """The documents of one doc type, or the one (doc type, organisation) pair."""
        return [
            document
            for document in self.documents
            if document.doc_type == doc_type and (org_id is None or document.org_id == org_id)
        ]


class DocumentParameter(ApiModel):
    """A parameter's value, as fetch document sends it."""

    name: str
    value: str


class FetchedDocument(ApiModel):
    """A fetched document: `file_url` downloads it, without credentials, until `valid_upto`."""

    file_url: str
    valid_upto: str
    # Gateway extensions (docs/reference/setu-api.md §4.4, docs/document-data.md §2,
    # docs/identity-match.md §4); None from Setu.
    parameters_verified: bool | None = None
    data: dict[str, Any] | None = None
    match: dict[str, Any] | None = None


class AadhaarAddress(ApiModel):
    """The Aadhaar address; every key is a string, "" when the XML lacks it."""

    care_of: str = ""
    country: str = ""
    district: str = ""
    house: str = ""
    landmark: str = ""
    locality: str = ""
    pin: str = ""
    post_office: str = ""
    state: str = ""
    street: str = ""
    sub_district: str = ""
    vtc: str = ""


class AadhaarVerified(ApiModel):
    """What was verified: `signature` is True only for XML signed by a trusted signer."""

    email: bool = False
    phone: bool = False
    signature: bool = False


class AadhaarXml(ApiModel):
    """The signed XML behind the answer (note Setu's `validUntil` here, not `validUpto`)."""

    file_url: str
    share_code: str = ""
    valid_until: str


class Aadhaar(ApiModel):
    """The e-Aadhaar as Setu's OKYC JSON. `masked_number` never has more than four digits;
    `photo` is base64 JPEG (or "")."""

    address: AadhaarAddress
    date_of_birth: str
    email: str = ""
    gender: str
    generated_at: str
    masked_number: str
    name: str
    phone: str = ""
    photo: str = ""
    verified: AadhaarVerified
    xml: AadhaarXml


class AadhaarResult(ApiModel):
    """The fetch-Aadhaar (or offline e-KYC) answer."""

    aadhaar: Aadhaar
    id: str
    status: str
    # Gateway extensions (docs/document-data.md §5, docs/identity-match.md §4).
    aadhaar_extras: dict[str, Any] | None = None
    match: dict[str, Any] | None = None


class RevokeResult(ApiModel):
    """The revoke answer; `success` is True (revoking twice answers the same)."""

    success: bool
