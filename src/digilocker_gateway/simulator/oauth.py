"""OAuth 2.0 + PKCE pieces: the authorize endpoint that starts a journey with its options, and
pure helpers (S256 challenge, redirect URL building, client credentials from Basic or the body,
a form or JSON body read as one set of parameters).

docs/reference/digilocker-partner-api.md §3 and §16: the client id and an exact redirect URI are
checked before anything can be redirected, and PKCE with S256 is mandatory. The journey options
(`dl_flow`, `pla`, `plsignup`, `ulsignup`, `req_doctype`, `consent_valid_till`, `purpose`,
`verified_mobile`, `scope`) are read liberally: a value that cannot be used is ignored.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from digilocker_gateway.simulator import pages
from digilocker_gateway.simulator.context import Journey, SimulatorContext
from digilocker_gateway.simulator.errors import PageError, SimError

PKCE_REQUIRED = "The code_challenge and code_challenge_method parameter is required"
# RFC 7636 section 4.1: 43-128 unreserved characters, for the verifier and an S256 challenge alike.
_PKCE_VALUE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
_DOCTYPE = re.compile(r"^[A-Z0-9]{2,12}$")
# Longer purposes are cut here, on the page and in the token answer; v2.4 names no limit.
PURPOSE_MAX_CHARS = 500
# The resource scopes a grant can hold besides partners.<DOCTYPE>, in the order the token's
# `scope` lists them (docs/reference/digilocker-partner-api.md §3, §19).
RESOURCE_SCOPES = ("files.issueddocs", "userdetails", "files.uploadeddocs")
_YES = frozenset({"y", "yes", "true", "1"})


def s256_challenge(verifier: str) -> str:
    """base64url without padding of SHA-256(verifier)
    (docs/reference/digilocker-partner-api.md §3)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def is_pkce_value(value: str) -> bool:
    return bool(_PKCE_VALUE.match(value))


def with_query(uri: str, params: dict[str, str]) -> str:
    """`uri` with `params` added to whatever query it already has."""
    parts = urlsplit(uri)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *params.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


def form_text(form: FormData, name: str) -> str | None:
    """A form field as text; an uploaded file or a blank value counts as missing."""
    value = form.get(name)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


async def request_params(request: Request) -> FormData:
    """The body's parameters: a form (URL-encoded or multipart), or a JSON object.

    docs/reference/digilocker-partner-api.md §4, §13: the spec declares JSON bodies for token
    and revoke while its text and real clients send forms, so both are read. Scalars are taken
    as text; the spec's wrapper objects (`{"Get access token using refresh token": {...}}`) are
    opened when the top level has no `grant_type` or `token` of its own.
    """
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if not (media_type == "application/json" or media_type.endswith("+json")):
        return await request.form()
    raw = await request.body()
    try:
        data = json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise SimError("invalid_request", "The request body is not valid JSON", 400) from None
    if not isinstance(data, dict):
        raise SimError("invalid_request", "The request body must be a JSON object", 400)
    if "grant_type" not in data and "token" not in data:
        data = next((value for value in data.values() if isinstance(value, dict)), data)
    return FormData([(str(key), _json_text(value)) for key, value in data.items()])


def _json_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return ""  # null, lists and objects carry no usable parameter value


def client_credentials(request: Request, form: FormData) -> tuple[str | None, str | None]:
    """Client id and secret from HTTP Basic, else from the form
    (docs/reference/digilocker-partner-api.md §4 allows both)."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None, None
        client_id, separator, secret = decoded.partition(":")
        if not separator:
            return None, None
        # RFC 6749 section 2.3.1: both halves are form-urlencoded before being joined.
        return unquote(client_id) or None, unquote(secret) or None
    return form_text(form, "client_id"), form_text(form, "client_secret")


def app_label(client_id: str) -> str:
    return f"The app {client_id}"


def journey_action(request: Request) -> str:
    # Path-only URLs that carry root_path keep the journey working when the simulator is mounted
    # under a prefix of another app.
    return f"{request.scope.get('root_path', '')}/public/oauth2/1/journey"


def _consent_deadline(raw: str | None, now: datetime, default_seconds: int) -> datetime:
    # v2.4's `consent_valid_till` is UNIX seconds (docs/reference/digilocker-partner-api.md §3);
    # ignore it when unusable or already past.
    if raw is not None and raw.isdigit() and len(raw) <= 12:
        until = datetime.fromtimestamp(int(raw), UTC)
        if until > now:
            return until
    return now + timedelta(seconds=default_seconds)


def _yes(value: str | None) -> bool:
    return (value or "").strip().lower() in _YES


def _mobile(value: str | None) -> str | None:
    """A 10-digit mobile number from `verified_mobile` or `login_hint`, else None. Spaces,
    dashes and a +91 / 91 prefix are dropped; the spec types the field as an integer."""
    digits = "".join(ch for ch in (value or "") if ch not in " -+")
    if len(digits) == 12 and digits.startswith("91"):
        digits = digits[2:]
    return digits if len(digits) == 10 and digits.isdigit() else None


def _purpose(value: str | None) -> str | None:
    text = " ".join((value or "").split())
    if not text:
        return None
    return text if len(text) <= PURPOSE_MAX_CHARS else text[: PURPOSE_MAX_CHARS - 1] + "…"


def _asked_scopes(value: str | None) -> tuple[str, ...]:
    """`openid` when asked, then the resource scopes asked for; naming none of them (or no
    `scope` at all) asks for every resource scope. Other values are ignored."""
    asked = set(re.split(r"[\s,]+", value or ""))
    resources = tuple(scope for scope in RESOURCE_SCOPES if scope in asked) or RESOURCE_SCOPES
    return (*(("openid",) if "openid" in asked else ()), *resources)


async def authorize(ctx: SimulatorContext, request: Request) -> Response:
    """GET /public/oauth2/1/authorize: check the request and show the first journey page."""
    # Real clients send lower case names; the spec spells some capitalised
    # (docs/reference/digilocker-partner-api.md §3).
    params: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key.lower(), value.strip())
    client_id = params.get("client_id", "")
    app = ctx.state.apps.get(client_id)
    if app is None:
        raise PageError("The client_id is missing or is not registered with DigiLocker.")
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri not in app.redirect_uris:
        raise PageError("The redirect_uri does not match any URI registered for this app.")
    if params.get("response_type") != "code":
        raise PageError("The response_type parameter must be code.")
    if not params.get("state"):
        raise PageError("The state parameter is required.")
    challenge = params.get("code_challenge", "")
    method = params.get("code_challenge_method", "")
    if not challenge or not method:
        raise PageError(PKCE_REQUIRED)
    if method != "S256":
        raise PageError("Only the S256 code_challenge_method is supported.")
    if not is_pkce_value(challenge):
        raise PageError("The code_challenge is not a valid S256 challenge.")
    requested = tuple(
        dict.fromkeys(
            item.strip().upper()
            for item in params.get("req_doctype", "").split(",")
            if _DOCTYPE.match(item.strip().upper())
        )
    )
    flow = params.get("dl_flow", "").lower()
    pinless = _yes(params.get("pla"))
    verified_mobile = _mobile(params.get("verified_mobile"))
    now = ctx.clock.now()
    ctx.forget_expired_journeys()
    journey = Journey(
        txn=ctx.new_txn(),
        client_id=client_id,
        redirect_uri=redirect_uri,
        state=params["state"],
        code_challenge=challenge,
        requested_doctypes=requested,
        signup=flow == "signup",
        consent_valid_till=_consent_deadline(
            params.get("consent_valid_till"), now, ctx.settings.consent_ttl_seconds
        ),
        expires_at=now + timedelta(seconds=ctx.settings.journey_ttl_seconds),
        signin_only=flow == "signin",
        pinless_signin=pinless,
        pinless_signup=pinless or _yes(params.get("plsignup")),
        usernameless_signup=_yes(params.get("ulsignup")),
        purpose=_purpose(params.get("purpose")),
        prefill=verified_mobile or _mobile(params.get("login_hint")),
        verified_mobile=verified_mobile,
        scopes=_asked_scopes(params.get("scope")),
    )
    ctx.journeys[journey.txn] = journey
    return identifier_page(request, journey)


def identifier_page(request: Request, journey: Journey, error: str | None = None) -> Response:
    """The first page: sign in, or create an account when the journey is a sign-up."""
    return pages.identifier_page(
        journey_action(request),
        journey.txn,
        app_name=app_label(journey.client_id),
        signup=journey.signup,
        prefill=journey.prefill,
        error=error,
    )
