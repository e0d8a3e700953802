"""The SDK's one exception tree: a base `DigiLockerError`, a subclass per Setu error-code family
(docs/reference/setu-api.md §5), and the network failures wrapped in the same tree.

Callers dispatch on the class, or on `code` for the finer case; never on `detail`, which is a
human-readable message and may change."""

from __future__ import annotations

__all__ = [
    "AadhaarError",
    "AuthenticationError",
    "ConsentError",
    "DigiLockerError",
    "ExtensionNotAllowedError",
    "GatewayOnlyError",
    "InvalidRequestError",
    "NetworkError",
    "NotAuthenticatedError",
    "NotFoundError",
    "RateLimitError",
    "RequestTimeoutError",
    "ServerError",
    "UpstreamError",
    "WaitTimeoutError",
    "WebhookVerificationError",
    "error_for",
]


class DigiLockerError(Exception):
    """Any failure of a call: an error answer in Setu's envelope, or no answer at all.

    `code` is Setu's snake_case code (`network_error` / `timeout` when no answer came),
    `detail` the message, `trace_id` what to quote when reporting it (None without an answer)
    and `status` the HTTP status (None without an answer)."""

    def __init__(
        self,
        detail: str,
        *,
        code: str = "unknown_error",
        status: int | None = None,
        trace_id: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.status = status
        self.trace_id = trace_id

    def __str__(self) -> str:
        facts = [f"HTTP {self.status}"] if self.status is not None else []
        if self.trace_id:
            facts.append(f"traceId {self.trace_id}")
        suffix = f" ({', '.join(facts)})" if facts else ""
        return f"{self.code}: {self.detail}{suffix}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, status={self.status!r}, "
            f"trace_id={self.trace_id!r})"
        )


class InvalidRequestError(DigiLockerError):
    """The call itself was wrong: `invalid_payload`, `invalid_redirect_url`,
    `customer_detail_mismatch`, `payload_too_large`, `bad_request` and other 400s."""


class AuthenticationError(DigiLockerError):
    """The three credentials were missing (`vault_secret_error`) or wrong
    (`invalid_credentials`)."""


class NotFoundError(DigiLockerError):
    """No such request for these credentials (`request_not_found`: unknown, another tenant's,
    or expired), or a `fileUrl` that no longer works (`not_found`)."""


class NotAuthenticatedError(DigiLockerError):
    """The request cannot read the user's DigiLocker: the user has not finished the journey
    (`user_not_authenticated`), it was revoked (`token_revoked`), or the grant expired and
    needs the user to consent again (`invalid_token`)."""


class ConsentError(DigiLockerError):
    """Consent is missing: the call did not say `consent: "Y"` (`consent_not_given`), or the
    user did not tick this document (`user_consent_not_given`)."""


class AadhaarError(DigiLockerError):
    """Aadhaar could not be given: `aadhaar_not_linked`, `aadhaar_not_available`,
    `get_xml_failed`, `unwrap_aadhaar_failed`, and the `offline_ekyc_*` refusals."""


class UpstreamError(DigiLockerError):
    """DigiLocker or the document's issuer failed or refused: `upstream_server_error`,
    `record_not_found`, `pull_response_pending`, `invalid_uri`, `catalogue_not_ready`."""


class ServerError(DigiLockerError):
    """The service failed on its side (`internal_server_error`, or a 5xx without the
    envelope); quote `trace_id` when reporting it."""


class ExtensionNotAllowedError(DigiLockerError):
    """The gateway's operator has not allowed this product instance the extension it called,
    the issued list or the account check (`extension_not_allowed`, HTTP 403,
    docs/journey-options.md §5)."""


class RateLimitError(DigiLockerError):
    """Too many calls (`rate_limit_exceeded`, HTTP 429): the account check's per-minute limit,
    or the gateway's quotas. `retry_after` is the server's `Retry-After` in seconds, None when
    it sent none. Not retried by the client: wait, then call again."""

    retry_after: float | None = None


class NetworkError(DigiLockerError):
    """No answer: the connection failed or broke (`code` is `network_error`)."""


class RequestTimeoutError(NetworkError):
    """No answer within the client's timeout (`code` is `timeout`)."""


class WaitTimeoutError(DigiLockerError):
    """A wait for the user to finish the journey ran out of time (`code` is `wait_timeout`)."""


class GatewayOnlyError(DigiLockerError):
    """A gateway extension was called against Setu's own hosts, which do not have it. Raised
    before anything is sent (`code` is `gateway_only`)."""


class WebhookVerificationError(DigiLockerError):
    """`verify_webhook` refused a message: a Standard Webhooks header is missing or malformed
    (`webhook_headers_invalid`), its timestamp is more than five minutes from now
    (`webhook_timestamp_stale`: a replayed or delayed message, or a wrong clock), no signature
    matches the secret (`webhook_signature_invalid`: forged, changed, or another secret), or a
    well-signed body is not an event (`webhook_payload_invalid`). Never retry it: answer the
    sender 4xx. `status` and `trace_id` are None."""


_FAMILIES: dict[str, type[DigiLockerError]] = {
    "invalid_payload": InvalidRequestError,
    "invalid_redirect_url": InvalidRequestError,
    "customer_detail_mismatch": InvalidRequestError,
    "payload_too_large": InvalidRequestError,
    "bad_request": InvalidRequestError,
    "vault_secret_error": AuthenticationError,
    "invalid_credentials": AuthenticationError,
    "request_not_found": NotFoundError,
    "not_found": NotFoundError,
    "user_not_authenticated": NotAuthenticatedError,
    "token_revoked": NotAuthenticatedError,
    "invalid_token": NotAuthenticatedError,
    "consent_not_given": ConsentError,
    "user_consent_not_given": ConsentError,
    "aadhaar_not_linked": AadhaarError,
    "aadhaar_not_available": AadhaarError,
    "get_xml_failed": AadhaarError,
    "unwrap_aadhaar_failed": AadhaarError,
    "upstream_server_error": UpstreamError,
    "record_not_found": UpstreamError,
    "pull_response_pending": UpstreamError,
    "invalid_uri": UpstreamError,
    "catalogue_not_ready": UpstreamError,
    "internal_server_error": ServerError,
    "extension_not_allowed": ExtensionNotAllowedError,
    "rate_limit_exceeded": RateLimitError,
}


def error_for(
    status: int, code: str | None, detail: str | None, trace_id: str | None
) -> DigiLockerError:
    """The exception for an error answer: by its code, then by its status for a code this
    client does not know (a newer server may add codes, docs/reference/setu-api.md §3)."""
    code = code or f"http_{status}"
    family = _FAMILIES.get(code)
    if family is None and code.startswith("offline_ekyc_"):
        family = AadhaarError
    if family is None:
        if status == 401:
            family = AuthenticationError
        elif status == 429:
            family = RateLimitError
        elif status == 404:
            family = NotFoundError
        elif status >= 500:
            family = ServerError
        elif 400 <= status < 500:
            family = InvalidRequestError
        else:
            family = DigiLockerError
    return family(detail or f"HTTP {status}", code=code, status=status, trace_id=trace_id)
