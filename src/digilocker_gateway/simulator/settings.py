"""The simulator's settings (environment prefix `DLG_SIM_`).

Defaults give one development partner app that the gateway's embedded setup uses, DigiLocker's
documented lifetimes (docs/reference/digilocker-partner-api.md §4, §11, §14) and the `spec` status
profile (docs/reference/digilocker-partner-api.md §12).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from digilocker_gateway.simulator.state import PartnerApp

StatusProfile = Literal["spec", "v2.4"]
HashEncoding = Literal["hex", "base64"]

DEV_CLIENT_ID = "DLGSIMDEV1"
DEV_CLIENT_SECRET = "simulator-dev-secret"  # documented, dev-only
DEV_REDIRECT_URIS = (
    "http://127.0.0.1:8000/digilocker/callback",
    "http://localhost:8000/digilocker/callback",
)

# Names used by fault injection (faults.py) and by the admin API; "*" applies to every one.
ENDPOINT_NAMES = (
    "authorize",
    "token",
    "user",
    "files_issued",
    "file",
    "xml",
    "eaadhaar",
    "pull_issuers",
    "pull_doctype",
    "pull_parameters",
    "pull_document",
    "revoke",
    "files_uploaded",
    "upload",
    "account_verify",
    "statistics",
)


class AppSpec(BaseModel):
    """One registered partner app: its credentials and the redirect URIs it may use."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    client_id: str = Field(min_length=1)
    client_secret: str = Field(min_length=1)
    redirect_uris: tuple[str, ...] = Field(min_length=1)


def parse_app_spec(spec: str) -> AppSpec:
    """Parse `CLIENT_ID:CLIENT_SECRET:REDIRECT_URI`.

    Split at the first two colons only: the redirect URI has colons of its own (scheme, port).
    """
    parts = spec.split(":", 2)
    if len(parts) != 3 or not all(parts):
        raise ValueError("an app is given as CLIENT_ID:CLIENT_SECRET:REDIRECT_URI")
    client_id, client_secret, redirect_uri = parts
    return AppSpec(client_id=client_id, client_secret=client_secret, redirect_uris=(redirect_uri,))


def _app_from_string(value: Any) -> Any:
    return parse_app_spec(value) if isinstance(value, str) else value


class EndpointFaults(BaseModel):
    """Faults injected into one endpoint; see docs/simulator.md for each one's behaviour.

    `rate` is the share of the endpoint's calls the entry applies to (1: every call); on those
    calls every fault it names applies, and `error_rate` is the share of them that answer the
    error. An endpoint may have a list of entries whose rates add up to at most 1, so one
    endpoint can mix kinds: each call gets at most one entry.
    """

    model_config = ConfigDict(extra="forbid")

    rate: float = Field(default=1.0, ge=0.0, le=1.0)
    latency_ms: int = Field(default=0, ge=0, le=600_000)
    error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    error: str = "unexpected_error"
    error_description: str = "Internal server error"
    # None: the provider-fault status of the active profile (500 for spec, 530 for v2.4).
    status: int | None = Field(default=None, ge=400, le=599)
    timeout: bool = False
    drop: bool = False
    # Send the body in TRICKLE_PIECE pieces with this pause between them: a slow network,
    # and a download that is still running when a test kills the process reading it.
    trickle_ms: int = Field(default=0, ge=0, le=60_000)
    malformed: bool = False
    wrong_hmac: bool = False


# One entry, or a list of entries that share the endpoint's calls between them.
FaultSpec = EndpointFaults | list[EndpointFaults]


def check_fault_names(faults: dict[str, FaultSpec]) -> dict[str, FaultSpec]:
    """Known endpoint names only; a list is not empty and its rates add up to at most 1."""
    unknown = sorted(set(faults) - {*ENDPOINT_NAMES, "*"})
    if unknown:
        raise ValueError(f"unknown endpoint name(s) {unknown}; known: {[*ENDPOINT_NAMES, '*']}")
    for name, spec in faults.items():
        if isinstance(spec, list):
            if not spec:
                raise ValueError(f"{name}: a list of faults needs at least one entry")
            if sum(entry.rate for entry in spec) > 1.0 + 1e-9:
                raise ValueError(f"{name}: the rates of the entries add up to more than 1")
    return faults


def _default_apps() -> list[AppSpec]:
    return [
        AppSpec(
            client_id=DEV_CLIENT_ID,
            client_secret=DEV_CLIENT_SECRET,
            redirect_uris=DEV_REDIRECT_URIS,
        )
    ]


class SimulatorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DLG_SIM_", env_file=None, extra="ignore")

    # In the environment: a JSON list of objects or of "ID:SECRET:REDIRECT_URI" strings.
    apps: list[Annotated[AppSpec, BeforeValidator(_app_from_string)]] = Field(
        default_factory=_default_apps
    )
    code_ttl_seconds: int = Field(default=60, gt=0)
    access_token_ttl_seconds: int = Field(default=3600, gt=0)
    consent_ttl_seconds: int = Field(default=30 * 24 * 3600, gt=0)
    journey_ttl_seconds: int = Field(default=15 * 60, gt=0)
    # docs/reference/digilocker-partner-api.md §11: `ts` may be at most 30 minutes old; a minute of
    # clock skew is tolerated.
    meta_ts_max_age_seconds: int = Field(default=1800, gt=0)
    meta_ts_future_skew_seconds: int = Field(default=60, ge=0)
    # docs/reference/digilocker-partner-api.md §11: no source states the order or the encoding with
    # certainty.
    meta_hash_fields: list[str] = Field(
        default_factory=lambda: ["client_secret", "clientid", "orgid", "doctype", "ts"]
    )
    meta_hash_encoding: HashEncoding = "hex"
    status_profile: StatusProfile = "spec"
    mime_as_string: bool = False
    enforce_document_consent: bool = True
    otp_max_attempts: int = Field(default=3, gt=0)
    # docs/reference/digilocker-partner-api.md §14: uploads are at most 10 MB.
    upload_max_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    pki_dir: Path | None = None
    catalogue_seed: int = 0
    faults: dict[str, FaultSpec] = Field(default_factory=dict)
    admin_token: str | None = None

    @field_validator("faults")
    @classmethod
    def _known_fault_names(cls, value: dict[str, FaultSpec]) -> dict[str, FaultSpec]:
        return check_fault_names(value)

    @field_validator("meta_hash_fields")
    @classmethod
    def _known_hash_fields(cls, value: list[str]) -> list[str]:
        known = {"client_secret", "clientid", "orgid", "doctype", "ts"}
        unknown = [name for name in value if name not in known]
        if unknown:
            raise ValueError(f"unknown hash field(s) {unknown}; known: {sorted(known)}")
        return value

    def partner_apps(self) -> dict[str, PartnerApp]:
        """Apps by client id; specs repeating a client id add redirect URIs to it."""
        merged: dict[str, PartnerApp] = {}
        for spec in self.apps:
            known = merged.get(spec.client_id)
            if known is not None and known.client_secret != spec.client_secret:
                raise ValueError(f"app {spec.client_id} is given with two different secrets")
            uris = (*known.redirect_uris, *spec.redirect_uris) if known else spec.redirect_uris
            merged[spec.client_id] = PartnerApp(
                client_id=spec.client_id,
                client_secret=spec.client_secret,
                redirect_uris=tuple(dict.fromkeys(uris)),
            )
        return merged
