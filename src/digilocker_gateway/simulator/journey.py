"""The sign-in / sign-up / consent journey behind the authorize page (POSTs to one URL).

Steps: identifier (Aadhaar or mobile) -> OTP -> security PIN (set one when signing up) -> consent ->
a redirect to the app with `code` + `state`, or with `error` + `state`
(docs/reference/digilocker-partner-api.md §3). Chosen where DigiLocker is undocumented
(docs/simulator.md): too many wrong OTPs or PINs end the journey with `error=access_denied`.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from digilocker_gateway.simulator import pages
from digilocker_gateway.simulator.context import Journey, SimulatorContext
from digilocker_gateway.simulator.errors import PageError
from digilocker_gateway.simulator.model import Address, SimUser
from digilocker_gateway.simulator.oauth import app_label, form_text, journey_action, with_query
from digilocker_gateway.simulator.state import AuthorizationCode, Grant
from digilocker_gateway.simulator.users import TEST_OTP, TEST_PIN, verhoeff_valid

EAADHAAR_DOCTYPE = "ADHAR"
BASE_SCOPES = ("files.issueddocs", "userdetails")
_NEW_USER_NAMES = ("Kavya Testnewuser", "Arjun Testnewuser", "Meera Testnewuser")


async def journey_step(ctx: SimulatorContext, request: Request) -> Response:
    """POST /public/oauth2/1/journey: advance the journey named by the hidden `txn` field."""
    form = await request.form()
    ctx.forget_expired_journeys()
    journey = ctx.journeys.get(form_text(form, "txn") or "")
    if journey is None:
        raise PageError("This sign-in session has expired or is unknown. Start again from the app.")
    if journey.step == "identify":
        return _identify(ctx, request, journey, form)
    if journey.step == "otp":
        return _check_otp(ctx, request, journey, form)
    if journey.step == "pin":
        return _check_pin(ctx, request, journey, form)
    return _decide(ctx, journey, form)


def _identify(
    ctx: SimulatorContext, request: Request, journey: Journey, form: FormData
) -> Response:
    identifier = "".join((form_text(form, "identifier") or "").split())

    def again(error: str) -> Response:
        return pages.identifier_page(
            journey_action(request),
            journey.txn,
            app_name=app_label(journey.client_id),
            signup=journey.signup,
            error=error,
        )

    if not identifier.isdigit() or len(identifier) not in (10, 12):
        return again("Enter a 12-digit Aadhaar number or a 10-digit mobile number.")
    users = ctx.state.users
    if len(identifier) == 12 and any(
        user.aadhaar == identifier and not user.aadhaar_linked for user in users
    ):
        return again(
            "This Aadhaar number is not linked to any DigiLocker account. "
            "Sign in with your mobile number instead."
        )
    user = ctx.state.user_by_identifier(identifier)
    if user is None and len(identifier) == 10:
        if journey.signup:
            return again("Enter your 12-digit Aadhaar number to sign up.")
        return again("No DigiLocker account uses this mobile number. Sign up with Aadhaar.")
    if user is None and not verhoeff_valid(identifier):
        # Every Aadhaar number ends with a Verhoeff check digit; DigiLocker refuses a typo here.
        return again("This is not a valid Aadhaar number. Check the 12 digits and try again.")
    if user is None:
        # An unknown Aadhaar number signs up for a new account
        # (docs/reference/digilocker-partner-api.md §4: new_account=Y).
        user = _new_synthetic_user(identifier, users)
        users.append(user)
        journey.signup = True
    if not user.has_account:
        journey.signup = True
    journey.user = user
    journey.new_account = journey.signup
    journey.step = "otp"
    return _otp_page(request, journey)


def _otp_page(request: Request, journey: Journey, error: str | None = None) -> Response:
    assert journey.user is not None
    masked = "XXXXXX" + journey.user.mobile[-4:]
    return pages.otp_page(journey_action(request), journey.txn, masked_mobile=masked, error=error)


def _check_otp(
    ctx: SimulatorContext, request: Request, journey: Journey, form: FormData
) -> Response:
    assert journey.user is not None
    if secrets.compare_digest(form_text(form, "otp") or "", journey.user.otp):
        journey.step = "pin"
        return pages.pin_page(journey_action(request), journey.txn, set_pin=journey.signup)
    journey.otp_attempts += 1
    if journey.otp_attempts >= ctx.settings.otp_max_attempts:
        return _finish_with_error(ctx, journey, "access_denied", "Too many incorrect OTP attempts")
    left = ctx.settings.otp_max_attempts - journey.otp_attempts
    return _otp_page(request, journey, f"The OTP is incorrect. {left} attempt(s) left.")


def _check_pin(
    ctx: SimulatorContext, request: Request, journey: Journey, form: FormData
) -> Response:
    user = journey.user
    assert user is not None
    pin = form_text(form, "pin") or ""
    if journey.signup:
        if not (pin.isdigit() and len(pin) == 6):
            return pages.pin_page(
                journey_action(request),
                journey.txn,
                set_pin=True,
                error="The security PIN must be exactly 6 digits.",
            )
        user.pin = pin
        user.has_account = True
    elif not secrets.compare_digest(pin, user.pin):
        journey.pin_attempts += 1
        if journey.pin_attempts >= ctx.settings.otp_max_attempts:
            return _finish_with_error(
                ctx, journey, "access_denied", "Too many incorrect PIN attempts"
            )
        left = ctx.settings.otp_max_attempts - journey.pin_attempts
        return pages.pin_page(
            journey_action(request),
            journey.txn,
            set_pin=False,
            error=f"The security PIN is incorrect. {left} attempt(s) left.",
        )
    journey.step = "consent"
    return pages.consent_page(
        journey_action(request),
        journey.txn,
        app_name=app_label(journey.client_id),
        user_name=user.name,
        items=consent_items(ctx, user, journey.requested_doctypes),
    )


def consent_items(
    ctx: SimulatorContext, user: SimUser, requested: tuple[str, ...]
) -> list[pages.ConsentItem]:
    """The user's issued documents, e-Aadhaar when available, and whatever the app asked for
    (`req_doctype`); ticked: the requested ones, or everything when nothing was requested."""
    listed: dict[str, tuple[str, str]] = {}
    for document in user.documents:
        if document.issued:
            listed.setdefault(document.doctype, (document.name, document.issuer_name))
    if user.eaadhaar_flag == "Y":
        uidai = "Unique Identification Authority of India"
        listed.setdefault(EAADHAAR_DOCTYPE, ("Aadhaar Card", uidai))
    for doctype in requested:
        listed.setdefault(doctype, (ctx.doctype_name(doctype), "Requested by the app"))
    return [
        pages.ConsentItem(
            doctype=doctype,
            name=name,
            issuer=issuer,
            checked=doctype in requested if requested else True,
        )
        for doctype, (name, issuer) in listed.items()
    ]


def _decide(ctx: SimulatorContext, journey: Journey, form: FormData) -> Response:
    user = journey.user
    assert user is not None
    decision = form_text(form, "decision")
    if decision == "deny":
        return _finish_with_error(ctx, journey, "access_denied", "The user denied access")
    if decision != "allow":
        raise PageError("Choose Allow or Deny.")
    offered = [item.doctype for item in consent_items(ctx, user, journey.requested_doctypes)]
    ticked = {value for value in form.getlist("doctype") if isinstance(value, str)}
    chosen = [doctype for doctype in offered if doctype in ticked]
    now = ctx.clock.now()
    grant = Grant(
        grant_id=secrets.token_hex(16),
        client_id=journey.client_id,
        user=user,
        scope=(*BASE_SCOPES, *(f"partners.{doctype}" for doctype in chosen)),
        consented_doctypes=frozenset(chosen),
        new_account=journey.new_account,
        consent_valid_till=journey.consent_valid_till,
    )
    code = AuthorizationCode(
        code=secrets.token_hex(20),
        client_id=journey.client_id,
        redirect_uri=journey.redirect_uri,
        code_challenge=journey.code_challenge,
        grant_id=grant.grant_id,
        expires_at=now + timedelta(seconds=ctx.settings.code_ttl_seconds),
    )
    ctx.state.grants[grant.grant_id] = grant
    ctx.state.codes[code.code] = code
    del ctx.journeys[journey.txn]
    location = with_query(journey.redirect_uri, {"code": code.code, "state": journey.state})
    return RedirectResponse(location, status_code=303)


def _finish_with_error(
    ctx: SimulatorContext, journey: Journey, error: str, description: str
) -> Response:
    ctx.journeys.pop(journey.txn, None)
    params = {"error": error, "error_description": description, "state": journey.state}
    return RedirectResponse(with_query(journey.redirect_uri, params), status_code=303)


def _new_synthetic_user(aadhaar: str, users: list[SimUser]) -> SimUser:
    # Derived from the number so the same number always yields the same person; the mobile
    # starts with 5, which no Indian mobile number does.
    seed = int(hashlib.sha256(aadhaar.encode()).hexdigest(), 16)
    photo = next((user.photo_jpeg for user in users if user.photo_jpeg), b"")
    return SimUser(
        scenario="new-user",
        aadhaar=aadhaar,
        mobile="5" + f"{seed % 10**9:09d}",
        otp=TEST_OTP,
        pin=TEST_PIN,
        digilockerid=str(uuid.UUID(int=seed % 2**128, version=4)),
        name=_NEW_USER_NAMES[seed % len(_NEW_USER_NAMES)],
        dob=f"{1 + seed % 28:02d}{1 + seed % 12:02d}{1970 + seed % 35}",
        gender="F" if seed % 2 else "M",
        email="",
        aadhaar_linked=True,
        eaadhaar_available=True,
        address=Address(co="", vtc="Sampletown", dist="Sampledist", state="Karnataka", pc="560001"),
        photo_jpeg=photo,
        documents=[],
        has_account=False,
    )
