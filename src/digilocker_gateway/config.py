"""The gateway's one `Settings` object (environment prefix `DLG_`).

Defaults are the embedded dev setup: SQLite and files under `./var`, the simulator mounted at
`/simulator` as the upstream. Production settings that keep a dev placeholder cannot be built
at all (`_refuse_dev_placeholders_in_production`), so no command can run with them.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

CALLBACK_PATH = "/digilocker/callback"
JOURNEY_PATH = "/digilocker/journey"
FILES_PATH = "/files"
SIMULATOR_MOUNT = "/simulator"

# The simulator's default partner app (see simulator/settings.py); the embedded default uses it.
DEV_PARTNER_CLIENT_ID = "DLGSIMDEV1"
DEV_PARTNER_CLIENT_SECRET = "simulator-dev-secret"  # a documented dev-only value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DLG_", env_file=None, extra="ignore")

    environment: Literal["dev", "production"] = "dev"
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("./var")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy async URL; default sqlite under data_dir"
    )
    database_schema: str | None = Field(
        default=None, description="PostgreSQL schema (search_path) to use; default public"
    )
    database_pool_size: int = 20
    database_pool_timeout_seconds: float = 10.0
    # Ping each PostgreSQL connection before use: one more round trip per call, in exchange for
    # no failed call after the server restarts or a proxy drops idle connections.
    database_pool_pre_ping: bool = False
    # Off: a process refuses to start on a schema that is not at the latest migration, and
    # `digilocker-gateway migrate` is run once per deploy instead (docs/deployment.md).
    migrate_on_start: bool = True
    # SQLite's PRAGMA synchronous in WAL mode. "full": every commit is on disk when it returns.
    # "normal": a power cut or an OS crash may undo the last commits (a process crash never
    # does, and the file is never corrupted), and commits cost less (docs/deployment.md).
    sqlite_synchronous: Literal["full", "normal"] = "full"
    # Count every SQL statement and commit into /metrics (dlg_db_statements_total,
    # dlg_db_commits_total): what bench/journey_cost.py reads. Off, nothing is attached.
    database_statement_metrics: bool = False
    public_base_url: str | None = Field(
        default=None, description="The URL users reach the gateway at; default http://host:port"
    )

    # Upstream DigiLocker. None = the embedded simulator, mounted at /simulator.
    digilocker_base_url: str | None = None
    digilocker_token_path: str = "/oauth2/1/token"
    digilocker_eaadhaar_path: str = "/oauth2/3/xml/eaadhaar"
    digilocker_meta_hash_fields: list[str] = ["client_secret", "clientid", "orgid", "doctype", "ts"]
    digilocker_meta_hash_encoding: Literal["hex", "base64"] = "hex"
    # The partner app used by `serve`'s dev client and as the default for `admin create-client`.
    digilocker_client_id: str = DEV_PARTNER_CLIENT_ID
    digilocker_client_secret: SecretStr = SecretStr(DEV_PARTNER_CLIENT_SECRET)
    upstream_connect_timeout_seconds: float = 5.0
    upstream_read_timeout_seconds: float = 30.0
    upstream_max_retries: int = 2
    # The most an API call waits on DigiLocker in all, however many calls and retries it makes;
    # the browser callback's budget for the token exchange (docs/errors.md).
    api_deadline_seconds: float = Field(default=20.0, gt=0)
    callback_deadline_seconds: float = Field(default=10.0, gt=0)

    # Encryption at rest: "kid:base64key,kid2:base64key"; dev generates one into data_dir.
    encryption_keys: SecretStr | None = None
    encryption_active_key_id: str | None = None

    # Where fetched files live (docs/deployment.md, "S3-compatible storage"). Local disk is the
    # embedded default; several gateway processes need a shared S3-compatible bucket.
    blob_store: Literal["local", "s3"] = Field(
        default="local",
        description="Blob store for fetched files: 'local' (data_dir/files) or 's3'",
    )
    s3_bucket: str | None = Field(
        default=None, description="Bucket for fetched files; required when blob_store is 's3'"
    )
    s3_endpoint_url: str | None = Field(
        default=None,
        description="S3 API endpoint of an S3-compatible store (MinIO, Ceph...); None = AWS S3",
    )
    s3_region: str | None = Field(
        default=None, description="Region of the bucket; None = boto3's configured default"
    )
    s3_access_key_id: str | None = Field(
        default=None,
        description="Access key id; None = boto3's credential chain (environment, role...)",
    )
    s3_secret_access_key: SecretStr | None = Field(
        default=None, description="Secret access key, with s3_access_key_id"
    )
    s3_prefix: str = Field(
        default="digilocker-gateway/", description="Key prefix of every object the gateway writes"
    )
    s3_server_side_encryption: Literal["AES256", "aws:kms"] | None = Field(
        default="AES256",
        description="Server-side encryption requested on every object; 'none' to request none",
    )
    s3_kms_key_id: str | None = Field(
        default=None, description="KMS key id or ARN, with s3_server_side_encryption 'aws:kms'"
    )
    s3_client_access: Literal["presigned", "proxy"] = Field(
        default="presigned",
        description=(
            "'presigned': fileUrl is a pre-signed URL of the bucket (clients must reach it); "
            "'proxy': files stay gateway-encrypted and stream through the gateway"
        ),
    )
    s3_addressing_style: Literal["auto", "path", "virtual"] = Field(
        default="auto",
        description="Bucket addressing: 'path' for most self-hosted stores, 'virtual' for AWS",
    )

    @field_validator("s3_server_side_encryption", mode="before")
    @classmethod
    def _no_server_side_encryption(cls, value: object) -> object:
        # An environment variable cannot be None; some self-hosted stores refuse SSE headers.
        if isinstance(value, str) and value.strip().lower() in ("", "none", "off"):
            return None
        return value

    @model_validator(mode="after")
    def _s3_settings_complete(self) -> Settings:
        # Refused here, at startup, rather than at the first document fetch.
        if self.blob_store == "s3" and not self.s3_bucket:
            raise ValueError("DLG_S3_BUCKET must be set when DLG_BLOB_STORE is 's3'")
        if self.s3_kms_key_id is not None and self.s3_server_side_encryption != "aws:kms":
            raise ValueError("DLG_S3_KMS_KEY_ID needs DLG_S3_SERVER_SIDE_ENCRYPTION=aws:kms")
        return self

    # Pinned e-Aadhaar signer certificates (PEM files, several for rotation). With the embedded
    # simulator, or `aadhaar_trust_simulator`, the simulator's /_sim/signer.pem is trusted too.
    aadhaar_signer_cert_files: list[Path] = []
    aadhaar_trust_simulator: bool | None = None  # None: only when using the embedded simulator
    # Issuers' own signer certificates for issued-document XML, trusted beside the e-Aadhaar
    # signers (docs/document-data.md §2).
    document_signer_cert_files: list[Path] = []
    # The largest certificate XML read for `data` (a fetch with `withData`, or with `expected`);
    # a larger one gives only what the issued list says (docs/document-data.md §2).
    document_data_max_bytes: int = 5 * 1024 * 1024
    # Offline e-KYC upload (docs/document-data.md §6): the largest upload read, the largest XML
    # inside its ZIP, and how old (by UIDAI's timestamp) a file may be.
    aadhaar_offline_max_upload_bytes: int = 2 * 1024 * 1024
    aadhaar_offline_max_xml_bytes: int = 1024 * 1024
    aadhaar_offline_max_age_days: int = 3
    # UIDAI's offline e-KYC signer certificates (published by UIDAI, rotated; several at once).
    aadhaar_offline_signer_cert_files: list[Path] = []

    request_lifetime_seconds: int = 24 * 3600
    file_url_lifetime_seconds: int = 3600
    journey_lifetime_seconds: int = 15 * 60
    max_body_bytes: int = 64 * 1024
    # A document larger than this from DigiLocker is refused (DigiLocker's own upload cap is 10 MB,
    # docs/reference/digilocker-partner-api.md §14; issued documents are usually far smaller).
    max_document_bytes: int = 100 * 1024 * 1024

    catalogue_refresh_interval_seconds: int = 7 * 24 * 3600
    catalogue_refresh_on_start: bool = True
    # Meta-API calls in flight at once during a refresh: DigiLocker publishes no rate limit
    # (docs/reference/digilocker-partner-api.md §14), so the walk stays polite.
    catalogue_refresh_concurrency: int = Field(default=8, ge=1, le=64)
    # How stale a process's in-memory catalogue may be: a refresh by another process is served
    # here at most this many seconds later (documents/catalogue.py, docs/deployment.md).
    catalogue_revalidate_seconds: float = Field(default=5.0, ge=0, le=3600)
    purge_interval_seconds: int = 300
    # A stored blob with no row is deleted by the purge job once it is this old: a blob is
    # written just before its row commits, so a younger one may still be getting its row.
    orphan_blob_grace_seconds: int = Field(default=3600, ge=0)
    # An unfinished write (a temporary file, an S3 multipart upload) of a writer that is gone
    # is removed at start and by the purge job once it is this old.
    incomplete_write_grace_seconds: int = Field(default=600, ge=0)
    background_jobs: bool = True
    # Journey options (docs/journey-options.md §5): the bounds a product instance has unless
    # `admin set-options` gives it its own, and the account checks it may make per minute.
    max_request_lifetime_seconds: int = Field(default=7 * 24 * 3600, gt=0)
    max_consent_validity_seconds: int = Field(default=365 * 24 * 3600, gt=0)
    account_checks_per_minute: int = Field(default=10, ge=0)

    # Operations (docs/operations.md). /metrics answers only with this bearer token in
    # production (none set: /metrics is off there); in dev it is open unless one is set.
    metrics_enabled: bool = True
    metrics_bearer_token: SecretStr | None = None
    # "auto": readable lines in dev, one JSON object a line in production.
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "INFO"
    access_log: bool = True
    # A circuit breaker per DigiLocker operation: open after this many failures in a row (5xx,
    # 429, timeouts), for this long (or DigiLocker's Retry-After, if longer).
    upstream_breaker_enabled: bool = True
    upstream_breaker_failure_threshold: int = Field(default=5, ge=1)
    upstream_breaker_open_seconds: float = Field(default=30.0, gt=0)
    # Quotas per product instance and kind of call (None: no limit), counted in the database for
    # every process: the limits of a product instance that `admin quotas set` gives none.
    quota_create_per_minute: int | None = Field(default=None, ge=0)
    quota_create_per_day: int | None = Field(default=None, ge=0)
    quota_fetch_per_minute: int | None = Field(default=None, ge=0)
    quota_fetch_per_day: int | None = Field(default=None, ge=0)
    quota_status_per_minute: int | None = Field(default=None, ge=0)
    quota_status_per_day: int | None = Field(default=None, ge=0)
    quota_account_check_per_minute: int | None = Field(default=None, ge=0)
    quota_account_check_per_day: int | None = Field(default=None, ge=0)
    # OpenTelemetry tracing (docs/operations.md §5; needs the `otel` extra). Off: nothing of
    # OpenTelemetry is imported.
    otel_enabled: bool = False

    @property
    def effective_log_format(self) -> Literal["json", "console"]:
        if self.log_format == "auto":
            return "json" if self.environment == "production" else "console"
        return self.log_format

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'gateway.db').as_posix()}"

    @property
    def effective_public_base_url(self) -> str:
        if self.public_base_url:
            return self.public_base_url.rstrip("/")
        return f"http://{self.host}:{self.port}"

    @property
    def uses_embedded_simulator(self) -> bool:
        return self.digilocker_base_url is None

    @property
    def effective_digilocker_base_url(self) -> str:
        if self.digilocker_base_url:
            return self.digilocker_base_url.rstrip("/")
        return f"{self.effective_public_base_url}{SIMULATOR_MOUNT}/public"

    @property
    def callback_url(self) -> str:
        return f"{self.effective_public_base_url}{CALLBACK_PATH}"

    @property
    def trusts_simulator_signer(self) -> bool:
        if self.aadhaar_trust_simulator is not None:
            return self.aadhaar_trust_simulator
        return self.uses_embedded_simulator

    @property
    def simulator_signer_url(self) -> str:
        """The simulator's /_sim/signer.pem, beside its /public API."""
        base = self.effective_digilocker_base_url
        root = base[: -len("/public")] if base.endswith("/public") else base
        return f"{root}/_sim/signer.pem"

    @model_validator(mode="after")
    def _refuse_dev_placeholders_in_production(self) -> Settings:
        """Refuse dev placeholders where real users' data flows: checked whenever settings are
        built, so `serve` and every CLI command alike refuse them."""
        if self.environment != "production":
            return self
        problems: list[str] = []
        if self.encryption_keys is None:
            problems.append("DLG_ENCRYPTION_KEYS must be set (no generated dev key in production)")
        if self.digilocker_base_url is None:
            problems.append("DLG_DIGILOCKER_BASE_URL must point at DigiLocker, not the simulator")
        if self.public_base_url is None:
            problems.append("DLG_PUBLIC_BASE_URL must be the gateway's public https URL")
        if self.aadhaar_trust_simulator:
            problems.append("DLG_AADHAAR_TRUST_SIMULATOR must be off in production")
        if self.digilocker_client_secret.get_secret_value() == DEV_PARTNER_CLIENT_SECRET:
            problems.append("DLG_DIGILOCKER_CLIENT_SECRET is the simulator's dev secret")
        if problems:
            raise ValueError("production settings refused: " + "; ".join(problems))
        return self

    # Webhooks (docs/webhooks.md). A delivery is one POST; a 2xx answer within the timeout is
    # success, anything else is retried with exponential backoff and jitter until the retry
    # window has passed since the event, then marked failed.
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_retry_window_seconds: int = Field(default=24 * 3600, ge=0)
    webhook_backoff_base_seconds: float = Field(default=5.0, gt=0)
    webhook_backoff_max_seconds: float = Field(default=3600.0, gt=0)
    # An endpoint is disabled after this many failed attempts in a row (0: never).
    webhook_disable_after_failures: int = Field(default=100, ge=0)
    # How much of a receiver's answer is read (and the first 200 characters kept).
    webhook_max_response_bytes: int = Field(default=4096, ge=0)
    webhook_poll_seconds: float = Field(default=1.0, gt=0)
    webhook_batch_size: int = Field(default=50, gt=0)
    # A process that claimed a delivery and died: after this, another process sends it.
    webhook_claim_seconds: float = Field(default=60.0, gt=0)
    # How long the replaced secret still signs after a rotation, unless the call says.
    webhook_rotation_overlap_seconds: int = Field(default=24 * 3600, ge=0)
    # Networks a webhook may point at although they are private (an internal receiver), as
    # CIDRs; metadata addresses stay refused.
    webhook_allowed_networks: list[str] = []
    # Events (and their delivery records) are kept this long, for replay.
    webhook_event_retention_days: int = Field(default=30, ge=1)

    # The audit log (docs/audit.md): kept this long, whatever the request's lifetime.
    audit_retention_days: int = Field(default=7 * 365, ge=1)
    # How a file download's client address is kept: its network (/24, /48), a keyed hash, or
    # not at all.
    audit_client_ip: Literal["truncate", "hash", "none"] = "truncate"

    @field_validator("webhook_allowed_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        # Refused at startup rather than at every delivery attempt.
        for network in value:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValueError(
                    f"DLG_WEBHOOK_ALLOWED_NETWORKS: {network!r} is not a CIDR"
                ) from None
        return value
