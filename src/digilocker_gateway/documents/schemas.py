"""Fetch-document body and response (docs/reference/setu-api.md §4.4)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from digilocker_gateway.documents.data.schemas import DocumentData, IdentityMatch


def _consent_given(value: object) -> bool:
    # Setu documents "Y"; real clients also send "y" and true. Anything else is no consent,
    # answered 400 consent_not_given rather than a validation error.
    return value is True or (isinstance(value, str) and value.strip() in ("Y", "y"))


Consent = Annotated[
    bool,
    BeforeValidator(_consent_given),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string", "enum": ["Y", "y"]}, {"type": "boolean", "enum": [True]}],
            "description": 'The user\'s consent: "Y" (also "y" or true); anything else is 400 '
            "consent_not_given",
        }
    ),
]


def _without_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


class DocumentParameter(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, coerce_numbers_to_str=True)

    name: str = Field(min_length=1, max_length=100)
    # A number is taken as its decimal string (clients send Aadhaar-style numbers unquoted).
    value: str = Field(max_length=500)


def _consent_required(schema: dict[str, Any]) -> None:
    schema.setdefault("required", []).append("consent")


class DocumentFetch(BaseModel):
    """Setu's fetch-document body, read liberally (docs/reference/setu-api.md §2, §4.4):
    unknown fields are ignored, identifiers trimmed and matched case-sensitively."""

    model_config = ConfigDict(
        extra="ignore", str_strip_whitespace=True, json_schema_extra=_consent_required
    )

    docType: str = Field(min_length=1, max_length=20)
    orgId: str = Field(min_length=1, max_length=40)
    format: Annotated[
        Literal["pdf", "xml"],
        BeforeValidator(lambda value: value.strip().lower() if isinstance(value, str) else value),
    ] = Field(
        description="pdf (every document, as the catalogue lists), or xml for a document that "
        "has it (its availableFormats in /{id}/issued)"
    )
    # Missing consent is no consent (400 consent_not_given), so the field has a default; the
    # schema shows none, as Setu documents consent as required.
    consent: Consent = Field(default=False, json_schema_extra=_without_default)
    parameters: list[DocumentParameter] = Field(default_factory=list, max_length=20)
    # Gateway extension (docs/journey-options.md §3): a document from the user's issued list,
    # by its `uri`, instead of `parameters`.
    uri: str | None = Field(
        default=None,
        min_length=1,
        max_length=300,
        description="A document's uri from GET /api/digilocker/{id}/issued, instead of parameters",
    )
    # Gateway extension (docs/document-data.md §2): answer the document's fields as `data`.
    withData: bool = Field(
        default=False, description="Also answer the document's parsed fields as `data`"
    )


class FetchedDocument(BaseModel):
    fileUrl: str
    validUpto: str
    # Gateway extension (docs/reference/setu-api.md §4.4): whether the parameters were checked
    # against the document, by its issuer or against the number of the one the user holds.
    parametersVerified: bool
    # Gateway extensions, present only when asked for: `data` with `withData`
    # (docs/document-data.md §2), `match` when the request was created with `expected`
    # (docs/identity-match.md §4).
    data: DocumentData | None = None
    match: IdentityMatch | None = None


class IssuedItem(BaseModel):
    """One document the user holds in DigiLocker and consented to share."""

    docType: str
    # None when the catalogue does not list this issuer's doc type (then not fetchable).
    orgId: str | None
    orgName: str
    issuerId: str
    name: str
    description: str
    date: str = Field(description="As DigiLocker gives it (ISO 8601 or DD/MM/YYYY)")
    uri: str
    availableFormats: list[str]
    fetchable: bool = Field(description="Fetch document takes it now by uri, without parameters")


class IssuedList(BaseModel):
    documents: list[IssuedItem]


class CatalogueParameter(BaseModel):
    name: str
    description: str


class CatalogueItem(BaseModel):
    availableFormats: list[str]
    description: str
    docType: str
    orgId: str
    orgName: str
    parameters: list[CatalogueParameter]


class Catalogue(BaseModel):
    documents: list[CatalogueItem]
