"""Typed results of the API's calls. Attribute names are Python's (`valid_upto`), the JSON is
Setu's (`validUpto`); every model keeps fields it does not know (`model_extra`), so a newer
gateway or Setu adding a field never breaks a client."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

__all__ = [
    "Aadhaar",
    "AadhaarAddress",
    "AadhaarCareOf",
    "AadhaarExtras",
    "AadhaarResult",
    "AadhaarVerified",
    "AadhaarXml",
    "AccountCheck",
    "Catalogue",
    "CatalogueDocument",
    "CatalogueParameter",
    "CreatedWebhookEndpoint",
    "DigiLockerRequest",
    "DocumentAddress",
    "DocumentData",
    "DocumentIssuer",
    "DocumentParameter",
    "DocumentVerified",
    "DrivingLicenceData",
    "FetchedDocument",
    "FieldMatch",
    "IdentityMatch",
    "IssuedDocument",
    "IssuedDocuments",
    "MarksheetData",
    "MarksheetSubject",
    "PanData",
    "RequestStatus",
    "RevokeResult",
    "RotatedWebhookSecret",
    "UserDetails",
    "VehicleClass",
    "VehicleRegistrationData",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookDeliveryList",
    "WebhookEndpoint",
    "WebhookEndpointList",
    "WebhookEvent",
    "WebhookEventData",
    "WebhookReplay",
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


class FieldMatch(ApiModel):
    """How one `expected` field compared with the document: `result` is `match`, `partial`
    or `mismatch`, `score` 0 to 100 (docs/identity-match.md §4)."""

    result: str
    score: int


class IdentityMatch(ApiModel):
    """Gateway extension: one entry per `expected` field the document also carries, None for
    the others (docs/identity-match.md §4)."""

    name: FieldMatch | None = None
    date_of_birth: FieldMatch | None = None
    gender: FieldMatch | None = None
    pan: FieldMatch | None = None
    driving_licence: FieldMatch | None = None
    vehicle_registration: FieldMatch | None = None
    document_number: FieldMatch | None = None
    aadhaar_last4: FieldMatch | None = None


class DocumentAddress(ApiModel):
    """Setu's twelve address keys, "" when the document lacks one."""

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


class DocumentIssuer(ApiModel):
    """Who issued the document, by the catalogue's `org_id`."""

    org_id: str = ""
    name: str = ""


class DocumentVerified(ApiModel):
    """`signature` is True only when the document's XML verified against a pinned signer."""

    signature: bool = False


class PanData(ApiModel):
    """The PAN card's own fields (doc type PANCR)."""

    number: str | None = None
    father_name: str | None = None


class VehicleClass(ApiModel):
    """One class of vehicle a driving licence covers."""

    code: str
    issued_on: str | None = None
    valid_until: str | None = None


class DrivingLicenceData(ApiModel):
    """The driving licence's own fields (doc type DRVLC)."""

    number: str | None = None
    vehicle_classes: list[VehicleClass] = Field(default_factory=list)
    valid_until: str | None = None
    licensing_authority: str | None = None


class MarksheetSubject(ApiModel):
    """One subject of a marksheet; marks as the issuer writes them."""

    name: str
    marks: str | None = None
    max_marks: str | None = None
    grade: str | None = None


class MarksheetData(ApiModel):
    """A marksheet's or certificate's own fields (HSCER, SSCER, MRKST, CMCER)."""

    roll_number: str | None = None
    year: str | None = None
    school: str | None = None
    result: str | None = None
    subjects: list[MarksheetSubject] = Field(default_factory=list)
    total_marks: int | float | None = None
    max_marks: int | float | None = None


class VehicleRegistrationData(ApiModel):
    """A vehicle registration certificate's own fields (doc type RVCER)."""

    registration_number: str | None = None
    registered_on: str | None = None
    valid_until: str | None = None
    chassis_number: str | None = None
    engine_number: str | None = None
    vehicle_class: str | None = None
    maker_model: str | None = None
    fuel: str | None = None
    registering_authority: str | None = None


class DocumentData(ApiModel):
    """Gateway extension: a fetched document's fields, asked for with `with_data`
    (docs/document-data.md §2, §3). `source` is `xml` (read from the certificate XML; trust it
    when `verified.signature`) or `issuedList` (a document without XML: its number and issuer
    only). Dates are `DD-MM-YYYY` where they could be read; None when absent. The per-doc-type
    object (`pan`, `driving_licence`, `marksheet`, `vehicle_registration`) is there only for
    its doc types."""

    doc_type: str
    document_number: str | None = None
    name: str | None = None
    date_of_birth: str | None = None
    gender: str | None = None
    address: DocumentAddress = Field(default_factory=DocumentAddress)
    issued_on: str | None = None
    valid_from: str | None = None
    valid_until: str | None = None
    status: str | None = None
    issuer: DocumentIssuer = Field(default_factory=DocumentIssuer)
    photo: str | None = Field(default=None, description="base64 JPEG, without a data: prefix")
    masked_aadhaar: str | None = None
    verified: DocumentVerified = Field(default_factory=DocumentVerified)
    source: str = "xml"
    pan: PanData | None = None
    driving_licence: DrivingLicenceData | None = None
    marksheet: MarksheetData | None = None
    vehicle_registration: VehicleRegistrationData | None = None


class FetchedDocument(ApiModel):
    """A fetched document: `file_url` downloads it, without credentials, until `valid_upto`."""

    file_url: str
    valid_upto: str
    # Gateway extensions (docs/reference/setu-api.md §4.4, docs/document-data.md §2,
    # docs/identity-match.md §4); None from Setu.
    parameters_verified: bool | None = None
    data: DocumentData | None = None
    match: IdentityMatch | None = None


class IssuedDocument(ApiModel):
    """Gateway extension: one document the user holds in DigiLocker and consented to share
    (docs/journey-options.md §3). `fetchable` documents are fetched by `uri`, without
    parameters (`fetch_issued`); `org_id` is None when the catalogue does not list the issuer's
    doc type."""

    doc_type: str
    org_id: str | None = None
    org_name: str = ""
    issuer_id: str = ""
    name: str = ""
    description: str = ""
    date: str = Field(default="", description="as DigiLocker gives it: ISO 8601 or DD/MM/YYYY")
    uri: str
    available_formats: list[str] = Field(default_factory=list)
    fetchable: bool = False


class IssuedDocuments(ApiModel):
    """Gateway extension: what the user holds, cut to the doc types they consented to share."""

    documents: list[IssuedDocument]

    def find(self, doc_type: str) -> list[IssuedDocument]:
        """The listed documents of one doc type."""
        return [document for document in self.documents if document.doc_type == doc_type]


class AccountCheck(ApiModel):
    """Gateway extension: whether a mobile or Aadhaar number has a DigiLocker account
    (docs/journey-options.md §4), to choose the journey's `flow` before sending the user."""

    exists: bool


class AadhaarAddress(DocumentAddress):
    """The Aadhaar address: the same twelve keys, "" when the XML lacks one."""


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


class AadhaarCareOf(ApiModel):
    """Aadhaar's care-of split: `relation` is S/O, D/O, W/O or C/O, None when not written."""

    relation: str | None = None
    name: str | None = None


class AadhaarExtras(ApiModel):
    """Gateway extension beside Setu's `aadhaar` (docs/document-data.md §5): the care-of
    split, the address as lines, and the age in completed years (None when unreadable)."""

    care_of: AadhaarCareOf = Field(default_factory=AadhaarCareOf)
    address_lines: list[str] = Field(default_factory=list)
    age: int | None = None
    is_adult: bool | None = None


class AadhaarResult(ApiModel):
    """The fetch-Aadhaar (or offline e-KYC) answer."""

    aadhaar: Aadhaar
    id: str
    status: str
    # Gateway extensions (docs/document-data.md §5, docs/identity-match.md §4).
    aadhaar_extras: AadhaarExtras | None = None
    match: IdentityMatch | None = None


class RevokeResult(ApiModel):
    """The revoke answer; `success` is True (revoking twice answers the same)."""

    success: bool


class WebhookEndpoint(ApiModel):
    """Gateway extension: an endpoint the gateway POSTs signed events to (docs/webhooks.md §1).
    `event_types` empty means every event; a `disabled_reason` says why the gateway stopped."""

    id: str
    url: str
    event_types: list[str] = Field(default_factory=list)
    enabled: bool = True
    disabled_reason: str | None = None
    previous_secret_expires_at: str | None = None
    created_at: str = ""


class CreatedWebhookEndpoint(WebhookEndpoint):
    """A new endpoint, with its signing secret (`whsec_…`): shown only in this answer, so keep
    it now; `verify_webhook` takes it."""

    secret: str = Field(repr=False)


class RotatedWebhookSecret(ApiModel):
    """The endpoint's new signing secret (shown only now); the old one keeps signing until
    `previous_secret_expires_at`."""

    id: str
    secret: str = Field(repr=False)
    previous_secret_expires_at: str | None = None


class WebhookAttempt(ApiModel):
    """One try to deliver: the receiver's status code (None without an answer), the time it
    took, an error word, and the first characters of the answer."""

    attempted_at: str
    status_code: int | None = None
    latency_ms: int = 0
    error: str | None = None
    response_excerpt: str | None = None


class WebhookDelivery(ApiModel):
    """One event's delivery to one endpoint: `status` is pending, delivered or failed;
    `event_id` is the message's `webhook-id`, the same on every retry and replay."""

    id: int
    endpoint_id: str
    event_id: str
    event_type: str
    request_id: str
    status: str
    attempt_count: int = 0
    next_attempt_at: str | None = None
    delivered_at: str | None = None
    created_at: str = ""
    attempts: list[WebhookAttempt] = Field(default_factory=list)


class WebhookEndpointList(ApiModel):
    """The list-endpoints answer (the clients return its `endpoints`)."""

    endpoints: list[WebhookEndpoint]


class WebhookDeliveryList(ApiModel):
    """The list-deliveries answer (the clients return its `deliveries`)."""

    deliveries: list[WebhookDelivery]


class WebhookReplay(ApiModel):
    """How many deliveries a replay queued."""

    queued: int


class WebhookEventData(ApiModel):
    """What an event says beside the request's `id` (docs/webhooks.md §2); each field is there
    only for the event types that carry it, None otherwise. Never a token, a file or personal
    data: fetch those through the API."""

    id: str
    status: str | None = None
    doc_types: list[str] | None = None
    valid_upto: str | None = None
    reconsent: bool | None = None
    err_code: str | None = None
    reauth_required: bool | None = None
    file_id: str | None = None
    content_type: str | None = None
    doc_type: str | None = None
    org_id: str | None = None


class WebhookEvent(ApiModel):
    """A verified webhook message (`verify_webhook`): `type` such as `request.authenticated`,
    when it happened, and `data`. `webhook_id` is the message's `webhook-id` header, the same
    on every retry and replay: drop duplicates by it."""

    type: str
    timestamp: str
    data: WebhookEventData
    # Not part of the JSON: the `webhook-id` header the message came with.
    webhook_id: str | None = Field(default=None, exclude=True)

    @property
    def request_id(self) -> str:
        """The request the event is about."""
        return self.data.id
