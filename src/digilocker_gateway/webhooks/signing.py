"""Signing secrets and signatures in the Standard Webhooks format (docs/webhooks.md §3): the
`standardwebhooks` package signs, so any Standard Webhooks library can verify."""

from __future__ import annotations

import base64
import math
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A signing secret as Standard Webhooks libraries take it: `whsec_` + base64 of 32 bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signature_headers(
    signing_secrets: Sequence[str], *, message_id: str, sent_at: datetime, body: str
) -> dict[str, str]:
    """The three headers of a delivery. During a rotation both secrets sign: the header lists
    one `v1,` signature per secret, and a receiver accepts the message if any one matches."""
    # The library reads the timestamp as UTC whatever its zone, so it is given in UTC.
    when = sent_at.astimezone(UTC)
    signatures = " ".join(
        Webhook(secret).sign(message_id, when, body) for secret in signing_secrets
    )
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(math.floor(when.timestamp())),
        "webhook-signature": signatures,
    }
