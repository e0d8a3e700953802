"""`verify_webhook`: check a message the gateway POSTed to your endpoint and read its event
(docs/webhooks.md §3, docs/sdk.md §2). The signature is checked by the `standardwebhooks`
package, the Standard Webhooks implementation the gateway signs with; this module only decides
which failure it was and types the result."""

from __future__ import annotations

import binascii
import math
import time
from collections.abc import Mapping, Sequence

from pydantic import ValidationError
from standardwebhooks.webhooks import EmptyWebhookSecretError, Webhook
from standardwebhooks.webhooks import WebhookVerificationError as _LibraryError

from digilocker_gateway.client.errors import WebhookVerificationError
from digilocker_gateway.client.models import WebhookEvent

__all__ = ["WEBHOOK_TOLERANCE_SECONDS", "verify_webhook"]

# The Standard Webhooks library's own window, which it does not let a caller change.
WEBHOOK_TOLERANCE_SECONDS = 5 * 60
_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


def _refuse(code: str, detail: str) -> WebhookVerificationError:
    return WebhookVerificationError(detail, code=code)


def _verifiers(secret: str | Sequence[str]) -> list[Webhook]:
    secrets = [secret] if isinstance(secret, str) else list(secret)
    if not secrets:
        raise ValueError("verify_webhook needs the endpoint's signing secret (whsec_…)")
    verifiers = []
    for value in secrets:
        try:
            verifiers.append(Webhook(value))
        except (EmptyWebhookSecretError, binascii.Error, ValueError):
            # A configuration mistake, not a forged message: said without the secret itself.
            raise ValueError(
                "a webhook signing secret must be the whsec_… value the gateway showed"
            ) from None
    return verifiers


def verify_webhook(
    headers: Mapping[str, str], body: bytes | str, secret: str | Sequence[str]
) -> WebhookEvent:
    """Verify a webhook message and return its event; raise `WebhookVerificationError` if it
    is not one the gateway signed with `secret` in the last five minutes.

    `headers` are the request's (any mapping; names in any case), `body` the raw body exactly
    as received, before any JSON parsing. `secret` is the endpoint's `whsec_…` secret, or a
    list of secrets while you move to a rotated one (any one matching is enough). Drop
    duplicates by the event's `webhook_id`: retries and replays repeat it. A malformed
    `secret` is a `ValueError`."""
    verifiers = _verifiers(secret)
    lowered = {name.lower(): value for name, value in headers.items()}
    missing = [name for name in _HEADERS if not lowered.get(name)]
    if missing:
        raise _refuse("webhook_headers_invalid", f"missing header(s): {', '.join(missing)}")
    try:
        sent_at = float(lowered["webhook-timestamp"])
    except ValueError:
        sent_at = math.nan
    if not math.isfinite(sent_at):
        raise _refuse("webhook_headers_invalid", "webhook-timestamp is not UNIX seconds")
    # Checked here, as the library does, to tell a stale message from a forged one.
    if abs(time.time() - sent_at) > WEBHOOK_TOLERANCE_SECONDS:
        raise _refuse(
            "webhook_timestamp_stale",
            f"webhook-timestamp is more than {WEBHOOK_TOLERANCE_SECONDS} s from this "
            "machine's clock (a replayed or delayed message, or a wrong clock)",
        )
    if isinstance(body, bytes):
        try:
            text = body.decode()
        except UnicodeDecodeError:
            raise _refuse("webhook_signature_invalid", "the body is not UTF-8") from None
    else:
        text = body
    for verifier in verifiers:
        try:
            verifier.verify(text, lowered, json_parse=False)
        except _LibraryError:
            continue
        except (ValueError, binascii.Error):
            # The library unpacks `v1,<base64>` entries unguarded; a malformed one lands here.
            raise _refuse(
                "webhook_headers_invalid", "webhook-signature is not a list of v1,<base64>"
            ) from None
        break
    else:
        raise _refuse(
            "webhook_signature_invalid",
            "no signature matches the secret (forged, changed in transit, or another secret)",
        )
    try:
        event = WebhookEvent.model_validate_json(text)
    except ValidationError as exc:
        raise _refuse(
            "webhook_payload_invalid",
            f"the signed body is not an event: {exc.error_count()} field problem(s)",
        ) from None
    return event.model_copy(update={"webhook_id": lowered["webhook-id"]})
