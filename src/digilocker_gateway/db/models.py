"""All tables. Secrets are never stored plain: client secrets as keyed hashes, DigiLocker
credentials and tokens AES-GCM encrypted (`*_enc` columns, key id inside the ciphertext)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from digilocker_gateway.db.base import Base, UtcDateTime
from digilocker_gateway.requests.status import RequestStatus


class Client(Base):
    __tablename__ = "clients"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # HMAC-SHA256 of the secret under a server key: cheap and constant-time to check, useless
    # to whoever steals the table without the key. The key id allows rotation.
    secret_hash: Mapped[str] = mapped_column(String(64))
    secret_hash_key_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ProductInstance(Base):
    __tablename__ = "product_instances"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    digilocker_client_id: Mapped[str] = mapped_column(String(200))
    digilocker_client_secret_enc: Mapped[str] = mapped_column(Text)
    # Comma-separated allow-list of redirect hosts; NULL = any absolute http(s) URL, as Setu.
    redirect_allowed_hosts: Mapped[str | None] = mapped_column(Text, default=None)
    request_lifetime_seconds: Mapped[int] = mapped_column(Integer)
    # Return an Aadhaar XML that failed verification with verified.signature=false instead of 500.
    aadhaar_allow_unverified: Mapped[bool] = mapped_column(Boolean, default=False)
    # Accept file answers that carry no `hmac` header (unsafe; docs/errors.md).
    allow_missing_hmac: Mapped[bool] = mapped_column(Boolean, default=False)
    # Tie a journey's `state` to the browser that opened the journey URL (a cookie).
    journey_browser_binding: Mapped[bool] = mapped_column(Boolean, default=True)
    # Answer 400 customer_detail_mismatch, instead of a `match` flag, when a document number
    # the caller expected differs from the document's (docs/identity-match.md §5).
    refuse_number_mismatch: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    # Journey options (docs/journey-options.md §5); NULL takes the gateway's setting (bounds,
    # rate) or DigiLocker's own choice (flow, purpose). `allowed_extensions` is a comma list of
    # extension names; NULL allows every one.
    max_request_lifetime_seconds: Mapped[int | None] = mapped_column(Integer, default=None)
    max_consent_validity_seconds: Mapped[int | None] = mapped_column(Integer, default=None)
    default_flow: Mapped[str | None] = mapped_column(String(10), default=None)
    default_purpose: Mapped[str | None] = mapped_column(String(100), default=None)
    allowed_extensions: Mapped[str | None] = mapped_column(Text, default=None)
    account_checks_per_minute: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class RequestRecord(Base):
    __tablename__ = "digilocker_requests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    product_instance_id: Mapped[str] = mapped_column(
        ForeignKey("product_instances.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[RequestStatus] = mapped_column(
        Enum(
            RequestStatus,
            native_enum=False,
            create_constraint=False,
            length=20,
            values_callable=lambda statuses: [status.value for status in statuses],
        )
    )
    redirect_url: Mapped[str] = mapped_column(Text)
    doc_types: Mapped[str] = mapped_column(String(200), default="")  # comma list from docType
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    valid_upto: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)

    # The journey: `state` is stored only as a SHA-256 (it is a bearer secret in the browser).
    state_hash: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    pkce_verifier_enc: Mapped[str | None] = mapped_column(Text, default=None)
    journey_started_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    callback_completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    failure_code: Mapped[str | None] = mapped_column(String(64), default=None)

    access_token_enc: Mapped[str | None] = mapped_column(Text, default=None)
    refresh_token_enc: Mapped[str | None] = mapped_column(Text, default=None)
    access_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    scope: Mapped[str] = mapped_column(Text, default="")
    eaadhaar: Mapped[str | None] = mapped_column(String(1), default=None)
    # The DigiLocker user details status shows, sealed like the tokens (storage/sealed.py).
    digilocker_id_enc: Mapped[str | None] = mapped_column(Text, default=None)
    email_enc: Mapped[str | None] = mapped_column(Text, default=None)
    phone_number_enc: Mapped[str | None] = mapped_column(Text, default=None)
    # The callback does not wait for DigiLocker's user-details call: status fills them in.
    details_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    # The grant cannot be used any more (a refresh DigiLocker refused, a token it calls
    # invalid): fetches answer invalid_token and the journey URL works again.
    reauth_required_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    # The identity the caller expects (`expected` on create), sealed: it is personal data.
    expected_enc: Mapped[str | None] = mapped_column(Text, default=None)
    # The journey options of create, resolved against the product instance (JSON; no personal
    # data), the caller's sign-in hint sealed (a mobile number is personal data), and the time
    # DigiLocker says the user's consent ends (docs/journey-options.md §1, §2).
    journey_options: Mapped[str | None] = mapped_column(Text, default=None)
    hint_enc: Mapped[str | None] = mapped_column(Text, default=None)
    consent_valid_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)


class StoredFile(Base):
    __tablename__ = "stored_files"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    request_id: Mapped[str] = mapped_column(
        ForeignKey("digilocker_requests.id", ondelete="CASCADE"), index=True
    )
    blob_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # document | aadhaar_xml
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    doc_type: Mapped[str] = mapped_column(String(20), default="")
    org_id: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    valid_upto: Mapped[datetime] = mapped_column(UtcDateTime())


class OfflineEkycFile(Base):
    """An offline e-KYC XML a product instance uploaded (`POST /api/aadhaar/offline`): kept
    encrypted as a blob for the instance's request lifetime, behind its `xml.fileUrl`. It
    belongs to no DigiLocker request."""

    __tablename__ = "offline_ekyc_files"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    product_instance_id: Mapped[str] = mapped_column(
        ForeignKey("product_instances.id", ondelete="CASCADE"), index=True
    )
    blob_key: Mapped[str] = mapped_column(String(200), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    valid_upto: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class CatalogueEntry(Base):
    __tablename__ = "catalogue_entries"

    org_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    doc_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    org_name: Mapped[str] = mapped_column(Text)
    # DigiLocker's issued list names issuers by issuerid ("in.gov.cbse"), the pull APIs by orgid.
    issuer_id: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text)
    formats: Mapped[str] = mapped_column(String(40))  # comma list: pdf,xml
    parameters_json: Mapped[str] = mapped_column(Text)  # [{"name","description"}]


class CatalogueSnapshot(Base):
    """The serialised catalogue as the API answers it, with its ETag: one row, replaced whole by
    a refresh, so readers see either the old or the new copy, never a mix."""

    __tablename__ = "catalogue_snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    etag: Mapped[str] = mapped_column(String(80))
    body_gzip: Mapped[bytes] = mapped_column(LargeBinary)
    entry_count: Mapped[int] = mapped_column(Integer)
    refreshed_at: Mapped[datetime] = mapped_column(UtcDateTime())


class RateLimitWindow(Base):
    """A fixed one-minute window of a rate limit, shared by every gateway process: `key` names
    what is limited (e.g. one product instance's account checks)."""

    __tablename__ = "rate_limit_windows"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UtcDateTime())
    count: Mapped[int] = mapped_column(Integer)


class QuotaLimit(Base):
    """A product instance's own limit for one kind of call and one span (`minute`, `day`), set
    with `admin quotas set` (docs/operations.md §3). No row: the gateway's setting applies;
    `max_calls` NULL: no limit, whatever the setting."""

    __tablename__ = "quota_limits"

    product_instance_id: Mapped[str] = mapped_column(
        ForeignKey("product_instances.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    span: Mapped[str] = mapped_column(String(6), primary_key=True)
    max_calls: Mapped[int | None] = mapped_column(Integer, default=None)


class QuotaCounter(Base):
    """Calls counted in one window of a quota, shared by every gateway process (ops/quotas.py):
    `window_start` is the window's first second (Unix time) — a minute, or a day from midnight
    IST. Each key keeps its last two minutes and its current day; older rows are deleted as new
    windows begin."""

    __tablename__ = "quota_counters"

    product_instance_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    span: Mapped[str] = mapped_column(String(6), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(Integer)


class JobLease(Base):
    """Leases for background jobs so that many processes never do the same work at once; an
    expired lease (a crashed worker) can be taken over."""

    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(80), default=None)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    last_run_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)


Index("ix_stored_files_valid_upto", StoredFile.valid_upto)


class WebhookEndpoint(Base):
    """A URL a product instance receives events at (docs/webhooks.md §1). Its signing secret is
    sealed (storage/sealed.py); during a rotation the previous secret signs too, until
    `previous_secret_expires_at`."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    product_instance_id: Mapped[str] = mapped_column(
        ForeignKey("product_instances.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(Text)
    event_types: Mapped[str] = mapped_column(Text, default="")  # comma list; "" = every event
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    secret_enc: Mapped[str] = mapped_column(Text)
    previous_secret_enc: Mapped[str | None] = mapped_column(Text, default=None)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    # Failed attempts in a row; reset by any success. Past the setting the endpoint is disabled.
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    disabled_reason: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class WebhookEvent(Base):
    """The outbox: one row per event, written in the transaction of the change it reports. It
    outlives its request (no foreign key to it): a purged request's events stay replayable
    until the outbox retention ends."""

    __tablename__ = "webhook_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)  # the webhook-id header
    product_instance_id: Mapped[str] = mapped_column(
        ForeignKey("product_instances.id", ondelete="CASCADE"), index=True
    )
    request_id: Mapped[str] = mapped_column(String(36), index=True)
    event_type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)  # the exact JSON body that is signed and sent
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    # False until the delivery loop has written a delivery for each endpoint that wants it
    # (webhooks/events.py, `fan_out`). The server default is for writers that do not know the
    # column: the previous version, during a rolling deploy, which fans out as it emits.
    fanned_out: Mapped[bool] = mapped_column(Boolean, default=False, server_default=true())


class WebhookDelivery(Base):
    """One event to one endpoint: its retry schedule is kept here, so retries survive restarts.
    A process claims a due row (`claimed_until`) before it sends it."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_seq: Mapped[int] = mapped_column(
        ForeignKey("webhook_events.seq", ondelete="CASCADE"), index=True
    )
    endpoint_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True
    )
    request_id: Mapped[str] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(12))  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime())
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    claimed_by: Mapped[str | None] = mapped_column(String(80), default=None)
    last_status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    last_error: Mapped[str | None] = mapped_column(String(200), default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class WebhookAttempt(Base):
    """One try of a delivery: what the receiver answered, never more than a short excerpt."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    attempted_at: Mapped[datetime] = mapped_column(UtcDateTime())
    status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    latency_ms: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(200), default=None)
    response_excerpt: Mapped[str | None] = mapped_column(String(256), default=None)


class AuditRecord(Base):
    """The audit log (docs/audit.md): append-only, hash-chained per product instance. It
    outlives the request and the product instance it names (no foreign keys), and holds no
    personal data: names of what happened, never the data itself."""

    __tablename__ = "audit_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    product_instance_id: Mapped[str] = mapped_column(String(36))
    seq: Mapped[int] = mapped_column(Integer)  # 1, 2, 3... within the product instance
    request_id: Mapped[str | None] = mapped_column(String(36), index=True, default=None)
    action: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(80))
    details: Mapped[str] = mapped_column(Text)  # canonical JSON
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    key_id: Mapped[str] = mapped_column(String(32))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditChainHead(Base):
    """The newest link of each product instance's chain (so a deleted last row is seen too),
    and where retention cut the chain's beginning off."""

    __tablename__ = "audit_chain_heads"

    product_instance_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default="")
    # Rows up to this seq were removed by retention; the next row chains to `pruned_hash`.
    pruned_through_seq: Mapped[int] = mapped_column(Integer, default=0)
    pruned_hash: Mapped[str] = mapped_column(String(64), default="")


# The delivery loop's "events not fanned out yet, oldest first".
Index("ix_webhook_events_fanned_out_seq", WebhookEvent.fanned_out, WebhookEvent.seq)
Index(
    "ix_webhook_deliveries_status_next_attempt_at",
    WebhookDelivery.status,
    WebhookDelivery.next_attempt_at,
)
# The claim's "no earlier pending delivery of this request to this endpoint" check.
Index(
    "ix_webhook_deliveries_endpoint_id_request_id_status",
    WebhookDelivery.endpoint_id,
    WebhookDelivery.request_id,
    WebhookDelivery.status,
)
Index(
    "ix_audit_records_product_instance_id_seq",
    AuditRecord.product_instance_id,
    AuditRecord.seq,
    unique=True,
)
