"""Bodies of the webhook API (`/api/digilocker/webhooks…`, docs/webhooks.md §6): a gateway
extension, read liberally like Setu's bodies (unknown fields ignored)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from digilocker_gateway.webhooks.events import EVENT_TYPES

_READ = ConfigDict(extra="ignore", str_strip_whitespace=True)


class WebhookEndpointCreate(BaseModel):
    model_config = _READ

    url: str = Field(min_length=1, max_length=2048, json_schema_extra={"format": "uri"})
    eventTypes: list[str] | None = Field(
        default=None,
        description="Event types to receive; omitted or empty: every event. Known: "
        + ", ".join(EVENT_TYPES),
    )
    enabled: bool = True


class WebhookEndpointUpdate(BaseModel):
    model_config = _READ

    url: str | None = Field(default=None, min_length=1, max_length=2048)
    eventTypes: list[str] | None = None
    enabled: bool | None = None


class SecretRotation(BaseModel):
    model_config = _READ

    overlapSeconds: int | None = Field(
        default=None,
        ge=0,
        le=30 * 24 * 3600,
        description="How long the replaced secret still signs; default the gateway's setting",
    )


class ReplayRequest(BaseModel):
    """Exactly one of the three."""

    model_config = _READ

    deliveryId: int | None = None
    failedSince: datetime | None = None
    requestId: str | None = None


class WebhookEndpoint(BaseModel):
    id: str
    url: str
    eventTypes: list[str]
    enabled: bool
    disabledReason: str | None
    previousSecretExpiresAt: str | None
    createdAt: str


class WebhookEndpointCreated(WebhookEndpoint):
    secret: str = Field(description="The signing secret (whsec_…): shown only in this answer")


class WebhookEndpointList(BaseModel):
    endpoints: list[WebhookEndpoint]


class RotatedSecret(BaseModel):
    id: str
    secret: str = Field(description="The new signing secret: shown only in this answer")
    previousSecretExpiresAt: str | None


class DeliveryAttempt(BaseModel):
    attemptedAt: str
    statusCode: int | None
    latencyMs: int
    error: str | None
    responseExcerpt: str | None


class WebhookDelivery(BaseModel):
    id: int
    endpointId: str
    eventId: str
    eventType: str
    requestId: str
    status: str
    attemptCount: int
    nextAttemptAt: str
    deliveredAt: str | None
    createdAt: str
    attempts: list[DeliveryAttempt]


class WebhookDeliveryList(BaseModel):
    deliveries: list[WebhookDelivery]


class ReplayResult(BaseModel):
    queued: int


# The bodies the API reads itself (kit/web.py read_json_body), for the OpenAPI components.
WEBHOOK_BODIES: tuple[type[BaseModel], ...] = (
    WebhookEndpointCreate,
    WebhookEndpointUpdate,
    SecretRotation,
    ReplayRequest,
)
