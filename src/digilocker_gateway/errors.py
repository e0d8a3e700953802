"""The gateway's error tree. Every error leaves the API as Setu's envelope:
`{"error": {"code", "detail", "traceId"}}` (docs/reference/setu-api.md §3)."""

from __future__ import annotations


class GatewayError(Exception):
    """An error with the HTTP status and Setu code it is answered with."""

    status: int = 500
    code: str = "internal_server_error"
    detail: str = "Something went wrong on our side; quote the traceId when reporting it."

    def __init__(self, detail: str | None = None, *, code: str | None = None) -> None:
        if detail is not None:
            self.detail = detail
        if code is not None:
            self.code = code
        super().__init__(self.detail)


class InvalidPayload(GatewayError):
    status = 400
    code = "invalid_payload"
    detail = "The request body is not valid."


class InvalidRedirectUrl(GatewayError):
    status = 400
    code = "invalid_redirect_url"
    detail = "redirectUrl must be an absolute http or https URL."


class CustomerDetailMismatch(GatewayError):
    # A code Setu publishes (docs/reference/setu-api.md §5.2).
    status = 400
    code = "customer_detail_mismatch"
    detail = "The parameters do not match the document the user holds in DigiLocker."


class RecordNotFound(GatewayError):
    status = 400
    code = "record_not_found"
    detail = "The issuer has no document matching these parameters."


class PullResponsePending(GatewayError):
    status = 400
    code = "pull_response_pending"
    detail = "The issuer is checking this request by hand; try again later."


class InvalidUri(GatewayError):
    status = 400
    code = "invalid_uri"
    detail = "DigiLocker has no file for this document."


class ConsentNotGiven(GatewayError):
    status = 400
    code = "consent_not_given"
    detail = 'consent must be "Y" to fetch a document.'


class AadhaarNotLinked(GatewayError):
    status = 400
    code = "aadhaar_not_linked"
    detail = "The user's DigiLocker account has no Aadhaar linked."


class UserConsentNotGiven(GatewayError):
    status = 400
    code = "user_consent_not_given"
    detail = "The user did not consent to share this document."


class Unauthorized(GatewayError):
    status = 401
    code = "invalid_credentials"
    detail = "Missing or wrong x-client-id, x-client-secret or x-product-instance-id."


class MissingCredentials(Unauthorized):
    # Setu's code for absent credential headers (docs/reference/setu-api.md §5.2).
    code = "vault_secret_error"
    detail = "The x-client-id, x-client-secret and x-product-instance-id headers are required."


class UserNotAuthenticated(GatewayError):
    status = 401
    code = "user_not_authenticated"
    detail = "The user has not completed the DigiLocker journey for this request."


class TokenRevoked(GatewayError):
    status = 401
    code = "token_revoked"
    detail = "Access to the user's DigiLocker was revoked for this request."


class InvalidToken(GatewayError):
    status = 401
    code = "invalid_token"
    detail = "The user's DigiLocker access expired and could not be renewed."


class AadhaarNotAvailable(GatewayError):
    status = 401
    code = "aadhaar_not_available"
    detail = "Aadhaar data is not available in this user's DigiLocker."


class RequestNotFound(GatewayError):
    status = 404
    code = "request_not_found"
    detail = "No such DigiLocker request (it may have expired)."


class NotFound(GatewayError):
    status = 404
    code = "not_found"
    detail = "Not found."


class CatalogueNotReady(GatewayError):
    status = 503
    code = "catalogue_not_ready"
    detail = "The document catalogue is being loaded from DigiLocker; try again shortly."


class PayloadTooLarge(GatewayError):
    status = 413
    code = "payload_too_large"
    detail = "The request body is too large."


class RateLimited(GatewayError):
    # A gateway extension (Setu publishes no code for it): the product instance's quota is
    # spent; the answer carries Retry-After (docs/operations.md §3).
    status = 429
    code = "rate_limit_exceeded"
    detail = "This product instance's quota for these calls is spent; try again later."

    def __init__(self, retry_after: int | None = None) -> None:
        super().__init__()
        # Whole seconds until a call fits again: answered as the Retry-After header.
        self.retry_after = retry_after


class UpstreamServerError(GatewayError):
    status = 500
    code = "upstream_server_error"
    detail = "DigiLocker or the document issuer failed to answer; try again later."


class GetXmlFailed(GatewayError):
    status = 500
    code = "get_xml_failed"
    detail = "DigiLocker failed to return the Aadhaar XML."


class UnwrapAadhaarFailed(GatewayError):
    status = 500
    code = "unwrap_aadhaar_failed"
    detail = "The Aadhaar XML could not be parsed or its signature could not be verified."


class InternalServerError(GatewayError):
    status = 500
    code = "internal_server_error"


class OfflineEkycRefused(GatewayError):
    """An offline e-KYC upload refused (docs/document-data.md §6): a 400 of its own code for
    each reason, and nothing stored."""

    status = 400
    code = "offline_ekyc_invalid"
    detail = "The file is not a usable UIDAI offline e-KYC."


class OfflineEkycInvalid(OfflineEkycRefused):
    pass


class OfflineEkycTooLarge(OfflineEkycRefused):
    code = "offline_ekyc_too_large"
    detail = "The upload is larger than an offline e-KYC ZIP can be."


class OfflineEkycNotZip(OfflineEkycRefused):
    code = "offline_ekyc_not_zip"
    detail = "The file is not a ZIP archive."


class OfflineEkycZipBomb(OfflineEkycRefused):
    code = "offline_ekyc_zip_bomb"
    detail = "The ZIP expands far beyond what an offline e-KYC XML can be."


class OfflineEkycUnsafeEntry(OfflineEkycRefused):
    code = "offline_ekyc_unsafe_entry"
    detail = "The ZIP holds an entry with an absolute or parent path, or a link."


class OfflineEkycWrongShareCode(OfflineEkycRefused):
    code = "offline_ekyc_wrong_share_code"
    detail = "The share code does not open the ZIP."


class OfflineEkycTampered(OfflineEkycRefused):
    code = "offline_ekyc_tampered"
    detail = "The file was changed after UIDAI produced it."


class OfflineEkycSignatureInvalid(OfflineEkycRefused):
    code = "offline_ekyc_signature_invalid"
    detail = "The XML is not signed by a trusted UIDAI certificate."


class OfflineEkycExpired(OfflineEkycRefused):
    code = "offline_ekyc_expired"
    detail = "The offline e-KYC is older than this gateway accepts; download a new one."


# Gateway extensions (docs/journey-options.md): not Setu codes, for calls Setu does not have.
class ExtensionNotAllowed(GatewayError):
    status = 403
    code = "extension_not_allowed"
    detail = "This product instance may not use this gateway extension."
