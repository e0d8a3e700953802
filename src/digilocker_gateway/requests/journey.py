"""The consent journey: the gateway's journey URL sends the browser to DigiLocker's authorize
with PKCE S256 and a single-use `state`; the callback exchanges the code and sends the browser
back to the request's own `redirectUrl` (docs/architecture.md §1).

The callback works in three short transactions around the upstream calls — consume `state`,
call DigiLocker, store the outcome — so no database lock is held while DigiLocker answers, and a
replayed callback finds its `state` already gone and changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update

from digilocker_gateway.db.models import ProductInstance, RequestRecord
from digilocker_gateway.kit.text import printable_prefix
from digilocker_gateway.requests.redirects import failure_redirect, success_redirect
from digilocker_gateway.requests.service import state_digest
from digilocker_gateway.requests.status import RequestStatus
from digilocker_gateway.runtime import Runtime
from digilocker_gateway.storage.sealed import ACCESS_TOKEN, PKCE_VERIFIER, REFRESH_TOKEN
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


async def start_journey(runtime: Runtime, request_id: str) -> str:
    """Begin (or begin again) the journey of an unauthenticated request; the authorize URL."""
    now = runtime.clock.now()
    async with runtime.transaction() as session:
        row = (
            await session.execute(
                select(RequestRecord).where(RequestRecord.id == request_id).with_for_update()
            )
        ).scalar_one_or_none()
        if row is None or row.valid_upto <= now:
            raise JourneyPage(
                "This link has expired",
                "Go back to the service that sent you here and start again.",
                404,
            )
        if row.status != RequestStatus.UNAUTHENTICATED:
            revoked = row.status == RequestStatus.REVOKED
            raise JourneyPage(
                "Already done",
                "DigiLocker access for this request was already given"
                + (" and has since been revoked." if revoked else "."),
                409,
            )
        instance = await session.get(ProductInstance, row.product_instance_id)
        assert instance is not None
        partner_client_id = instance.digilocker_client_id
        verifier, challenge = make_pkce_pair()
        state = make_state()
        # A new start replaces the previous state: only the latest link's callback is honoured.
        row.state_hash = state_digest(state)
        row.pkce_verifier_enc = runtime.sealed.seal(PKCE_VERIFIER, row.id, verifier)
        row.journey_started_at = now
        row.failure_code = None
        doc_types = [doc for doc in row.doc_types.split(",") if doc]
        await session.flush()
    return authorize_url(
        runtime.settings.effective_digilocker_base_url,
        client_id=partner_client_id,
        redirect_uri=runtime.settings.callback_url,
        state=state,
        code_challenge=challenge,
        req_doctype=doc_types,
    )


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
) -> str:
    """Where to send the browser after DigiLocker's callback; raises JourneyPage when the
    callback is forged, replayed or late (nowhere safe to redirect)."""
    if not state:
        raise JourneyPage("Invalid sign-in response", "The response has no state.", 400)
    now = runtime.clock.now()
    async with runtime.transaction() as session:
        row = (
            await session.execute(
                select(RequestRecord)
                .where(RequestRecord.state_hash == state_digest(state))
                .with_for_update()
            )
        ).scalar_one_or_none()
        if row is None:
            raise JourneyPage(
                "This sign-in link was already used",
                "It is invalid, was already used, or was replaced by a newer one. "
                "Go back to the service that sent you here.",
                400,
            )
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
        if row.valid_upto <= now:
            await session.flush()
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
            await session.flush()
            return failure_redirect(
                row.redirect_url, request_id=row.id, code=failure[0], message=failure[1]
            )
        assert verifier_enc is not None
        assert code is not None
        instance = await session.get(ProductInstance, row.product_instance_id)
        assert instance is not None
        consumed = _Consumed(
            row.id,
            Tenant.of(instance),
            row.redirect_url,
            runtime.sealed.open(PKCE_VERIFIER, row.id, verifier_enc),
        )
        await session.flush()

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
        return failure_redirect(
            consumed.redirect_url,
            request_id=consumed.request_id,
            code=failure_code,
            message="DigiLocker did not complete the sign-in; please try again.",
        )
    email, mobile = None, tokens.mobile
    try:
        details = await upstream.user(tokens.access_token)
        email, mobile = details.email or None, details.mobile or mobile
    except UpstreamError as exc:
        # The grant is what matters; the profile is a nicety the token response partly carries.
        logger.warning("user details unavailable: %s", type(exc).__name__)
    try:
        stored = await _store_grant(
            runtime, consumed.tenant, consumed.request_id, tokens, email=email, mobile=mobile
        )
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
    *,
    email: str | None,
    mobile: str | None,
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
        row.eaadhaar = tokens.eaadhaar
        row.digilocker_id = tokens.digilockerid
        row.email = email
        row.phone_number = mobile
        row.status = RequestStatus.AUTHENTICATED
        row.callback_completed_at = now
        row.failure_code = None
    if replaced is not None:
        await _revoke_quietly(runtime.upstream(tenant), replaced)
    return True


async def _revoke_quietly(upstream: DigiLockerClient, token: str) -> None:
    try:
        await upstream.revoke(token)
    except UpstreamError as exc:
        logger.warning("could not revoke an unused grant: %s", type(exc).__name__)
