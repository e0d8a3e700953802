"""The sign-in / sign-up / consent journey behind the authorize page (POSTs to one URL).

Sign-in: identifier (Aadhaar or mobile) -> OTP -> security PIN (not with `pla=Y`) -> consent.
Sign-up: identifier -> OTP (not when `verified_mobile` is the user's) -> a username and a PIN
(no username with `ulsignup=Y`, no PIN with `pla=Y` or `plsignup=Y`) -> consent. Then a
redirect to the app with `code` + `state`, or with `error` + `state`
(docs/reference/digilocker-partner-api.md §3). Chosen where DigiLocker is undocumented
(docs/simulator.md): too many wrong OTPs or PINs end the journey with `error=access_denied`.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from datetime import timedelta

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from digilocker_gateway.kit.aadhaar_number import verhoeff_valid
from digilocker_gateway.simulator import pages
from digilocker_gateway.simulator.context import Journey, SimulatorContext
from digilocker_gateway.simulator.errors import PageError
from digilocker_gateway.simulator.model import Address, SimUser
from digilocker_gateway.simulator.oauth import (
    RESOURCE_SCOPES,
    app_label,
    form_text,
    identifier_page,
    journey_action,
    with_query,
)
from digilocker_gateway.simulator.state import AuthorizationCode, Grant
from digilocker_gateway.simulator.users import TEST_OTP, TEST_PIN

EAADHAAR_DOCTYPE = "ADHAR"
EAADHAAR_NAME = "Aadhaar Card"
UIDAI_NAME = "Unique Identification Authority of India"
# The simulator's username rule (DigiLocker publishes none): 4-30 characters, a letter first.
USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9._-]{3,29}")
USERNAME_RULE = (
    "A username has 4 to 30 letters, digits, dots, dashes or underscores, and starts with a letter."
)
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
    if journey.step == "account":
        return _create_account(ctx, request, journey, form)
    return _decide(ctx, journey, form)


def _identify(
    ctx: SimulatorContext, request: Request, journey: Journey, form: FormData
) -> Response:
    identifier = "".join((form_text(form, "identifier") or "").split())

    def again(error: str) -> Response:
        return identifier_page(request, journey, error)

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
    if journey.signin_only and (user is None or not user.has_account):
        # dl_flow=signin: the app asked for sign-in, so nobody is signed up on the way.
        return again("No DigiLocker account uses this number. Sign up to create one.")
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
    if journey.signup and journey.verified_mobile == user.mobile:
        # docs/reference/digilocker-partner-api.md §3: a mobile the partner has verified spares
        # the user DigiLocker's own OTP during sign-up.
        return _after_otp(ctx, request, journey)
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
        return _after_otp(ctx, request, journey)
    journey.otp_attempts += 1
    if journey.otp_attempts >= ctx.settings.otp_max_attempts:
        return _finish_with_error(ctx, journey, "access_denied", "Too many incorrect OTP attempts")
    left = ctx.settings.otp_max_attempts - journey.otp_attempts
    return _otp_page(request, journey, f"The OTP is incorrect. {left} attempt(s) left.")


def _after_otp(ctx: SimulatorContext, request: Request, journey: Journey) -> Response:
    """Sign-up asks for a username and a PIN unless usernameless / PIN-less; sign-in asks for
    the PIN unless PIN-less (`pla=Y`, docs/reference/digilocker-partner-api.md §3)."""
    if journey.signup:
        if journey.usernameless_signup and journey.pinless_signup:
            _open_account(ctx, journey, username=None, pin=None)
            return _consent_page(ctx, request, journey)
        journey.step = "account"
        return _account_page(ctx, request, journey)
    if journey.pinless_signin:
        return _consent_page(ctx, request, journey)
    journey.step = "pin"
    return pages.pin_page(journey_action(request), journey.txn)


def _check_pin(
    ctx: SimulatorContext, request: Request, journey: Journey, form: FormData
) -> Response:
    user = journey.user
    assert user is not None
    if secrets.compare_digest(form_text(form, "pin") or "", user.pin):
        journey.pin_entered = True
        return _consent_page(ctx, request, journey)
    journey.pin_attempts += 1
    if journey.pin_attempts >= ctx.settings.otp_max_attempts:
        return _finish_with_error(ctx, journey, "access_denied", "Too many incorrect PIN attempts")
    left = ctx.settings.otp_max_attempts - journey.pin_attempts
    return pages.pin_page(
        journey_action(request),
        journey.txn,
        error=f"The security PIN is incorrect. {left} attempt(s) left.",
    )


def _account_page(
    ctx: SimulatorContext, request: Request, journey: Journey, error: str | None = None
) -> Response:
    assert journey.user is not None
    return pages.account_page(
        journey_action(request),
        journey.txn,
        ask_username=not journey.usernameless_signup,
        ask_pin=not journey.pinless_signup,
        username=ctx.state.usernames.get(journey.user.digilockerid),
        error=error,
    )


def _create_account(
    ctx: SimulatorContext, request: Request, journey: Journey, form: FormData
) -> Response:
    user = journey.user
    assert user is not None
    username: str | None = None
    if not journey.usernameless_signup:
        username = form_text(form, "username") or ""
        if not USERNAME.fullmatch(username):
            return _account_page(ctx, request, journey, USERNAME_RULE)
        taken = next(
            (owner for owner, name in ctx.state.usernames.items() if name == username.lower()),
            None,
        )
        if taken not in (None, user.digilockerid):
            return _account_page(ctx, request, journey, "This username is taken. Choose another.")
    pin: str | None = None
    if not journey.pinless_signup:
        pin = form_text(form, "pin") or ""
        if not (pin.isdigit() and len(pin) == 6):
            return _account_page(
                ctx, request, journey, "The security PIN must be exactly 6 digits."
            )
    _open_account(ctx, journey, username=username, pin=pin)
    return _consent_page(ctx, request, journey)


def _open_account(
    ctx: SimulatorContext, journey: Journey, *, username: str | None, pin: str | None
) -> None:
    user = journey.user
    assert user is not None
    if not user.has_account:
        ctx.state.registered_at[user.digilockerid] = ctx.clock.now()
    user.has_account = True
    if username is not None:
        # Usernames are unique without regard to case, and kept in lower case.
        ctx.state.usernames[user.digilockerid] = username.lower()
    if pin is not None:
        user.pin = pin
        journey.pin_entered = True


def _consent_page(ctx: SimulatorContext, request: Request, journey: Journey) -> Response:
    user = journey.user
    assert user is not None
    journey.step = "consent"
    return pages.consent_page(
        journey_action(request),
        journey.txn,
        app_name=app_label(journey.client_id),
        user_name=user.name,
        items=consent_items(ctx, user, journey.requested_doctypes),
        shared=[scope for scope in journey.scopes if scope in RESOURCE_SCOPES],
        purpose=journey.purpose,
        consent_valid_till=journey.consent_valid_till,
        summary=pages.JourneySummary(
            flow="signup" if journey.signup else "signin",
            new_account=journey.new_account,
            pin="set"
            if journey.signup and journey.pin_entered
            else ("entered" if journey.pin_entered else "none"),
            username=ctx.state.usernames.get(user.digilockerid) if journey.signup else None,
        ),
    )


def consent_items(
    ctx: SimulatorContext, user: SimUser, requested: tuple[str, ...]
) -> list[pages.ConsentItem]:
    """What the consent page offers, every box ticked: exactly the doc types the app asked for
    (`req_doctype` limits the offer, docs/reference/digilocker-partner-api.md §3), else the
    user's issued documents and e-Aadhaar when available."""
    held: dict[str, tuple[str, str]] = {}
    for document in user.documents:
        if document.issued:
            held.setdefault(document.doctype, (document.name, document.issuer_name))
    if user.eaadhaar_flag == "Y":
        held.setdefault(EAADHAAR_DOCTYPE, (EAADHAAR_NAME, UIDAI_NAME))
    if requested:
        listed = {
            doctype: held.get(doctype)
            or (
                (EAADHAAR_NAME, UIDAI_NAME)
                if doctype == EAADHAAR_DOCTYPE
                else (ctx.doctype_name(doctype), "Requested by the app")
            )
            for doctype in requested
        }
    else:
        listed = held
    return [
        pages.ConsentItem(doctype=doctype, name=name, issuer=issuer, checked=True)
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
        scope=(*journey.scopes, *(f"partners.{doctype}" for doctype in chosen)),
        consented_doctypes=frozenset(chosen),
        new_account=journey.new_account,
        consent_valid_till=journey.consent_valid_till,
        purpose=journey.purpose,
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
