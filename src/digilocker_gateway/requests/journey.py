"""The consent journey: the gateway's journey URL sends the browser to DigiLocker's authorize
with PKCE S256 and a single-use `state`; the callback exchanges the code and sends the browser
back to the request's own `redirectUrl` (docs/architecture.md §1).

The callback works in three short transactions around the upstream calls — consume `state`,
call DigiLocker, store the outcome — so no database lock is held while DigiLocker answers, and a
replayed callback finds its `state` already gone and changes nothing.
"""

from __future__ import annotations

import base64
import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from digilocker_gateway.audit import log as audit
from digilocker_gateway.db.models import ProductInstance, RequestRecord
from digilocker_gateway.kit.text import printable_prefix
from digilocker_gateway.kit.timefmt import to_ist_iso
from digilocker_gateway.requests.options import JourneyOptions
from digilocker_gateway.requests.redirects import failure_redirect, success_redirect
from digilocker_gateway.requests.service import keep_user_details, state_digest
from digilocker_gateway.requests.status import RequestStatus
from digilocker_gateway.runtime import Runtime
from digilocker_gateway.storage.sealed import ACCESS_TOKEN, HINT, PKCE_VERIFIER, REFRESH_TOKEN
from digilocker_gateway.tenants.tenant import Tenant
from digilocker_gateway.upstream.client import DigiLockerClient
from digilocker_gateway.upstream.errors import UpstreamError, UpstreamResponseError
from digilocker_gateway.upstream.protocol import (
    TokenResponse,
    authorize_url,
    consented_doctypes,
    make_pkce_pair,
    make_state,
)
from digilocker_gateway.webhooks import events

logger = logging.getLogger("digilocker_gateway.journey")

# DigiLocker's callback `error` values -> the errCode we send to redirectUrl.
CALLBACK_ERROR_CODES = {
    "access_denied": "user_consent_not_given",
    "consent_denied": "user_consent_not_given",
    "user_loggedout": "user_consent_not_given",
}
DEFAULT_CALLBACK_ERROR_CODE = "digilocker_error"


class JourneyPage(Exception):
    """The journey cannot go on and there is nowhere safe to send the browser: show a page."""

    def __init__(self, title: str, message: str, status: int) -> None:
        super().__init__(title)
        self.title = title
        self.message = message
        self.status = status


@dataclass(frozen=True, slots=True)
class StartedJourney:
    authorize_url: str
    # The cookie that ties the journey's `state` to this browser; None when the product
    # instance turned the binding off.
    binding: tuple[str, str] | None


def browser_binding(runtime: Runtime, state: str) -> tuple[str, str]:
    """The cookie (name, value) that ties `state` to the browser that started the journey.
    The name is derived from the state so that several journeys in one browser do not clash;
    the value is a keyed hash of it, so a cookie for one state does not fit another."""
    name = "dlg_journey_" + state_digest(state)[:16]
    key = runtime.keyring.subkey("journey-binding")
    value = base64.urlsafe_b64encode(hmac.digest(key, state.encode(), "sha256")).decode()
    return name, value.rstrip("=")


# Built once, so SQLAlchemy keeps their cache keys (requests/service.py). Each reads the request
# and its product instance's partner app in one statement.
_TO_START = (
    select(
        RequestRecord,
        ProductInstance.digilocker_client_id,
        ProductInstance.journey_browser_binding,
    )
    .join(ProductInstance, ProductInstance.id == RequestRecord.product_instance_id)
    .where(RequestRecord.id == bindparam("request_id"))
    .with_for_update(of=RequestRecord)
)
_BY_STATE = (
    select(RequestRecord, ProductInstance)
    .join(ProductInstance, ProductInstance.id == RequestRecord.product_instance_id)
    .where(RequestRecord.state_hash == bindparam("state_hash"))
    .with_for_update(of=RequestRecord)
)


async def start_journey(runtime: Runtime, request_id: str) -> StartedJourney:
    """Begin (or begin again) the journey of a request that is waiting for consent, or whose
    grant needs re-consent: the authorize URL, and the browser binding to set."""
    now = runtime.clock.now()
    async with runtime.transaction() as session:
        # The request and its product instance's partner app, in one statement.
        found = (await session.execute(_TO_START, {"request_id": request_id})).first()
        if found is None or found[0].valid_upto <= now:
            raise JourneyPage(
                "This link has expired",
                "Go back to the service that sent you here and start again.",
                404,
            )
        row, partner_client_id, bind_browser = found
        reconsent = row.status == RequestStatus.AUTHENTICATED and row.reauth_required_at
        if row.status != RequestStatus.UNAUTHENTICATED and not reconsent:
            revoked = row.status == RequestStatus.REVOKED
            raise JourneyPage(
                "Already done",
                "DigiLocker access for this request was already given"
                + (" and has since been revoked." if revoked else "."),
                409,
            )
        options = JourneyOptions.from_json(row.journey_options)
        if options.consent_valid_till is not None and options.consent_valid_till <= now.timestamp():
            # The caller bounded the consent (consentValidUntil / consentValidSeconds): a new
            # journey after that end would ask DigiLocker for a consent the caller ruled out.
            raise JourneyPage(
                "The consent period has ended",
                "The service that sent you here asked for access only until a time that has"
                " passed. Go back to it and start again.",
                410,
            )
        verifier, challenge = make_pkce_pair()
        state = make_state()
        # A new start replaces the previous state: only the latest link's callback is honoured.
        row.state_hash = state_digest(state)
        row.pkce_verifier_enc = runtime.sealed.seal(PKCE_VERIFIER, row.id, verifier)
        row.journey_started_at = now
        row.failure_code = None
        doc_types = [doc for doc in row.doc_types.split(",") if doc]
        hint = runtime.sealed.open(HINT, row.id, row.hint_enc) if row.hint_enc else None
        await session.flush()
    url = authorize_url(
        runtime.settings.effective_digilocker_base_url,
        client_id=partner_client_id,
        redirect_uri=runtime.settings.callback_url,
        state=state,
        code_challenge=challenge,
        req_doctype=doc_types,
        dl_flow=options.flow,
        extra=options.authorize_parameters(hint),
    )
    return StartedJourney(url, browser_binding(runtime, state) if bind_browser else None)


@dataclass(frozen=True, slots=True)
class _Consumed:
    request_id: str
    tenant: Tenant
    redirect_url: str
    verifier: str


async def complete_callback(
    runtime: Runtime,
    *,
    state: str | None,
    code: str | None,
    error: str | None,
    error_description: str | None,
    cookies: Mapping[str, str],
) -> str:
    """Where to send the browser after DigiLocker's callback; raises JourneyPage when the
    callback is forged, replayed, late, or arrives in another browser than the one that
    started the journey (nowhere safe to redirect)."""
    if not state:
        raise JourneyPage("Invalid sign-in response", "The response has no state.", 400)
    now = runtime.clock.now()
    async with runtime.transaction() as session:
        found = (await session.execute(_BY_STATE, {"state_hash": state_digest(state)})).first()
        if found is None:
            raise JourneyPage(
                "This sign-in link was already used",
                "It is invalid, was already used, or was replaced by a newer one. "
                "Go back to the service that sent you here.",
                400,
            )
        row, instance = found
        # Single use: whatever happens next, this state is spent. The conditional UPDATE is what
        # makes it so on SQLite too, where the SELECT above takes no lock.
        verifier_enc = row.pkce_verifier_enc
        spent = await session.execute(
            update(RequestRecord)
            .where(RequestRecord.id == row.id, RequestRecord.state_hash == row.state_hash)
            .values(state_hash=None, pkce_verifier_enc=None)
            .execution_options(synchronize_session=False)
        )
        if getattr(spent, "rowcount", 0) != 1:
            raise JourneyPage(
                "This sign-in link was already used",
                "Go back to the service that sent you here.",
                400,
            )
        outcome: str | _Consumed | None = None
        if instance.journey_browser_binding and not _same_browser(runtime, state, cookies):
            # Consent phishing: someone else's DigiLocker sign-in link, completed here, must
            # not attach this user's DigiLocker to their request. The state stays spent
            # (committed), and the browser is shown a page, not sent on.
            row.failure_code = "browser_mismatch"
            await _report_failure(runtime, session, row, now)
        else:
            outcome = _consume(
                runtime,
                row,
                Tenant.of(instance),
                code=code,
                error=error,
                error_description=error_description,
                verifier_enc=verifier_enc,
                now=now,
            )
            if isinstance(outcome, str):
                await _report_failure(runtime, session, row, now)
        await session.flush()
    if outcome is None:
        raise JourneyPage(
            "Open the link in the browser you started in",
            "This DigiLocker sign-in was started in another browser (or its cookies were "
            "cleared). For your safety it was not completed. Go back to the service that sent "
            "you here and start again.",
            403,
        )
    if isinstance(outcome, str):
        return outcome  # DigiLocker's refusal, or a journey that took too long
    consumed = outcome
    assert code is not None

    upstream = runtime.upstream(consumed.tenant)
    try:
        tokens = await upstream.exchange_code(code, consumed.verifier)
    except UpstreamError as exc:
        failure_code = (
            "invalid_grant"
            if isinstance(exc, UpstreamResponseError) and exc.error == "invalid_grant"
            else "upstream_server_error"
        )
        logger.warning("token exchange failed: %s", type(exc).__name__)
        async with runtime.transaction() as session:
            failed = await session.get(RequestRecord, consumed.request_id)
            if failed is not None:
                failed.failure_code = failure_code
                await _report_failure(runtime, session, failed, runtime.clock.now())
        return failure_redirect(
            consumed.redirect_url,
            request_id=consumed.request_id,
            code=failure_code,
            message="DigiLocker did not complete the sign-in; please try again.",
        )
    # The user details are not fetched here: the browser waits on this callback, and the
    # grant is what matters. What the token response carries is kept; status fetches the rest
    # (requests/details.py).
    try:
        stored = await _store_grant(runtime, consumed.tenant, consumed.request_id, tokens)
    except Exception as exc:
        logger.error("could not store the grant: %s", type(exc).__name__)
        stored = False
    if not stored:
        # Nobody will ever use this grant: take it back rather than leave it live.
        await _revoke_quietly(upstream, tokens.refresh_token or tokens.access_token)
        return failure_redirect(
            consumed.redirect_url,
            request_id=consumed.request_id,
            code="internal_server_error",
            message="The sign-in could not be completed; please try again.",
        )
    return success_redirect(
        consumed.redirect_url,
        request_id=consumed.request_id,
        doc_types=consented_doctypes(tokens.scope),
    )


async def _store_grant(
    runtime: Runtime,
    tenant: Tenant,
    request_id: str,
    tokens: TokenResponse,
) -> bool:
    """Keep the grant on its request; False if the request is gone or no longer waiting."""
    now = runtime.clock.now()
    replaced: str | None = None
    async with runtime.transaction() as session:
        row = await session.get(RequestRecord, request_id, with_for_update=True)
        if row is None or row.valid_upto <= now or row.status == RequestStatus.REVOKED:
            return False  # purged, expired or revoked while the user was at DigiLocker
        sealed = runtime.sealed
        if row.refresh_token_enc is not None:
            # A second journey finished after the first: the older grant must not linger.
            replaced = sealed.open(REFRESH_TOKEN, row.id, row.refresh_token_enc)
        row.access_token_enc = sealed.seal(ACCESS_TOKEN, row.id, tokens.access_token)
        row.refresh_token_enc = (
            sealed.seal(REFRESH_TOKEN, row.id, tokens.refresh_token)
            if tokens.refresh_token
            else None
        )
        row.access_expires_at = now + timedelta(seconds=tokens.expires_in or 3600)
        row.scope = " ".join(tokens.scope)
        row.consent_valid_until = (
            datetime.fromtimestamp(tokens.consent_valid_till, UTC)
            if tokens.consent_valid_till is not None
            else None
        )
        row.eaadhaar = tokens.eaadhaar
        keep_user_details(
            row,
            sealed,
            digilocker_id=tokens.digilockerid,
            email=tokens.email,
            phone_number=tokens.mobile,
        )
        row.details_pending = True
        reconsent = row.reauth_required_at is not None or row.status == RequestStatus.AUTHENTICATED
        row.reauth_required_at = None
        row.status = RequestStatus.AUTHENTICATED
        row.callback_completed_at = now
        row.failure_code = None
        doc_types = list(consented_doctypes(tokens.scope))
        await events.emit(
            session,
            product_instance_id=row.product_instance_id,
            request_id=row.id,
            event_type=events.REQUEST_AUTHENTICATED,
            data={"status": row.status.value, "docTypes": doc_types, "reconsent": reconsent},
            now=now,
        )
        consent_until = (
            to_ist_iso(datetime.fromtimestamp(tokens.consent_valid_till, UTC))
            if tokens.consent_valid_till
            else None
        )
        await audit.append(
            session,
            runtime.keyring,
            product_instance_id=row.product_instance_id,
            request_id=row.id,
            action=audit.CONSENT_GIVEN,
            actor=audit.USER_ACTOR,
            details={
                "docTypes": doc_types,
                "scope": list(tokens.scope),
                # The purpose shown on DigiLocker's consent screen (the create body's, or the
                # product instance's default), null when none was sent; the request's
                # lifetime is how long the business may use the consent through the gateway.
                "purpose": JourneyOptions.from_json(row.journey_options).purpose,
                "consentValidTill": consent_until,
                "requestValidUpto": to_ist_iso(row.valid_upto),
                "reconsent": reconsent,
            },
            now=now,
            heads=runtime.audit_heads,
        )
    if replaced is not None:
        await _revoke_quietly(runtime.upstream(tenant), replaced)
    return True


def _consume(
    runtime: Runtime,
    row: RequestRecord,
    tenant: Tenant,
    *,
    code: str | None,
    error: str | None,
    error_description: str | None,
    verifier_enc: str | None,
    now: datetime,
) -> str | _Consumed:
    """A spent callback's outcome: the failure redirect to send the browser to, or what the
    token exchange needs. Raises JourneyPage for an expired request."""
    if row.valid_upto <= now:
        raise JourneyPage("This request has expired", "Start again from the service.", 410)
    started = row.journey_started_at or now
    journey_expired = started + timedelta(seconds=runtime.settings.journey_lifetime_seconds)
    failure: tuple[str, str] | None = None
    if journey_expired <= now:
        failure = ("session_expired", "The DigiLocker sign-in took too long; start again.")
    elif error or not code:
        failure = (
            CALLBACK_ERROR_CODES.get(error or "", DEFAULT_CALLBACK_ERROR_CODE),
            printable_prefix(error_description) or "DigiLocker did not grant access.",
        )
    elif verifier_enc is None:
        failure = ("session_expired", "The sign-in session is no longer valid; start again.")
    if failure is not None:
        row.failure_code = failure[0]
        return failure_redirect(
            row.redirect_url, request_id=row.id, code=failure[0], message=failure[1]
        )
    assert verifier_enc is not None
    return _Consumed(
        row.id,
        tenant,
        row.redirect_url,
        runtime.sealed.open(PKCE_VERIFIER, row.id, verifier_enc),
    )


async def _report_failure(
    runtime: Runtime, session: AsyncSession, row: RequestRecord, now: datetime
) -> None:
    """A callback that ended without a grant: `request.consent_denied` when the user said no
    (also an audit row), `request.failed` with its errCode otherwise."""
    code = row.failure_code or DEFAULT_CALLBACK_ERROR_CODE
    denied = code == "user_consent_not_given"
    await events.emit(
        session,
        product_instance_id=row.product_instance_id,
        request_id=row.id,
        event_type=events.REQUEST_CONSENT_DENIED if denied else events.REQUEST_FAILED,
        data={"status": row.status.value, "errCode": code},
        now=now,
    )
    if denied:
        await audit.append(
            session,
            runtime.keyring,
            product_instance_id=row.product_instance_id,
            request_id=row.id,
            action=audit.CONSENT_DENIED,
            actor=audit.USER_ACTOR,
            details={"docTypes": [doc for doc in row.doc_types.split(",") if doc]},
            now=now,
            heads=runtime.audit_heads,
        )


def _same_browser(runtime: Runtime, state: str, cookies: Mapping[str, str]) -> bool:
    name, value = browser_binding(runtime, state)
    return hmac.compare_digest(cookies.get(name, ""), value)


async def _revoke_quietly(upstream: DigiLockerClient, token: str) -> None:
    try:
        await upstream.revoke(token)
    except UpstreamError as exc:
        logger.warning("could not revoke an unused grant: %s", type(exc).__name__)
