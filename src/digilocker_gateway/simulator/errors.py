"""DigiLocker's error shapes: every API error is `{"error", "error_description"}` JSON
(docs/reference/digilocker-partner-api.md §1), and HTTP statuses follow the selected profile
(docs/reference/digilocker-partner-api.md §12, §15).

Journey pages fail differently: a problem with the client or the redirect URI is an HTML page,
never a redirect, so an unregistered URI is never sent anything
(docs/reference/digilocker-partner-api.md §3, §16).
"""

from __future__ import annotations

from starlette.responses import JSONResponse

from digilocker_gateway.simulator.settings import StatusProfile


class SimError(Exception):
    """An API error answered as DigiLocker's JSON error object."""

    def __init__(
        self,
        error: str,
        description: str,
        status: int,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.description = description
        self.status = status
        self.headers = headers

    def response(self) -> JSONResponse:
        return error_response(self.error, self.description, self.status, headers=self.headers)


class PageError(Exception):
    """A journey problem shown to the person as an HTML error page (nothing is redirected)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def error_response(
    error: str, description: str, status: int, *, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error": error, "error_description": description}, status_code=status, headers=headers
    )


def provider_status(profile: StatusProfile) -> int:
    """Issuer/repository faults: 500 in the spec, 530 in Requester API v2.4
    (docs/reference/digilocker-partner-api.md §8, §15)."""
    return 530 if profile == "v2.4" else 500


# docs/reference/digilocker-partner-api.md §12: the spec and v2.4 disagree on the HTTP status of
# each pull-document error.
_PULL_STATUS: dict[str, tuple[int, int]] = {
    "invalid_orgid": (500, 400),
    "invalid_doctype": (500, 400),
    "pull_response_pending": (500, 400),
    "uri_exists": (500, 400),
    "aadhaar_not_linked": (500, 400),
    "record_not_found": (404, 404),
    # v2.4 answers provider faults with 530 (docs/reference/digilocker-partner-api.md §15), its
    # table's 500 notwithstanding.
    "repository_service_configerror": (400, 530),
    "unexpected_error": (500, 500),
}


def pull_error(error: str, description: str, profile: StatusProfile) -> SimError:
    spec_status, v24_status = _PULL_STATUS[error]
    return SimError(error, description, v24_status if profile == "v2.4" else spec_status)


def invalid_token(description: str = "The access token is invalid") -> SimError:
    return SimError(
        "invalid_token",
        description,
        401,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


def insufficient_scope(what: str) -> SimError:
    # The description is the one a public client logged from DigiLocker
    # (docs/reference/digilocker-partner-api.md §19).
    return SimError(
        "insufficient_scope",
        f"The request requires higher privileges than provided by the access token ({what})",
        403,
    )
