"""The user's DigiLocker tokens: read, refreshed transparently when expired, revoked.

A refresh rotates both tokens at DigiLocker (docs/reference/digilocker-partner-api.md §4), so two
calls must never refresh the same grant at once: inside a process a per-request lock serialises
them, and across processes the row is locked (FOR UPDATE on PostgreSQL; SQLite is a one-process
store). The new pair is committed in its own short transaction before it is used. Revoke holds the
same locks across its call to DigiLocker, so it always revokes the current tokens.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from digilocker_gateway.audit import log as audit
from digilocker_gateway.db.models import RequestRecord
from digilocker_gateway.errors import InvalidToken, UpstreamServerError
from digilocker_gateway.requests.files import delete_request_files
from digilocker_gateway.requests.service import get_request, require_authenticated
from digilocker_gateway.requests.status import RequestStatus
from digilocker_gateway.runtime import Runtime
from digilocker_gateway.storage.sealed import ACCESS_TOKEN, REFRESH_TOKEN
from digilocker_gateway.tenants.tenant import Tenant
from digilocker_gateway.upstream.errors import UpstreamError, UpstreamResponseError
from digilocker_gateway.webhooks import events

logger = logging.getLogger("digilocker_gateway.tokens")

# Refresh a little early so a token does not expire between our check and DigiLocker's.
EXPIRY_MARGIN = timedelta(seconds=30)


@dataclass(frozen=True, slots=True)
class Grant:
    request_id: str
    access_token: str
    eaadhaar: str | None
    scope: str
    renewed: bool = False  # refreshed in this call: it must not be refreshed again in it


async def live_grant(
    runtime: Runtime, tenant: Tenant, request_id: str, row: RequestRecord | None = None
) -> Grant:
    """The request's access token, refreshed first if it has expired (once: never twice in
    one call). Raises 404/401 errors; 401 invalid_token while the grant needs re-consent.
    `row` is the request as this call already read it: it is not read again unless the token
    must be refreshed."""
    now = runtime.clock.now()
    if row is None:
        async with runtime.reading() as session:
            row = await get_request(session, tenant=tenant, request_id=request_id, now=now)
    _require_usable(row)
    if row.access_expires_at is not None and row.access_expires_at - EXPIRY_MARGIN > now:
        return _grant(runtime, row)
    return await _refresh(runtime, tenant, request_id)


def _require_usable(row: RequestRecord) -> None:
    require_authenticated(row)
    if row.reauth_required_at is not None:
        raise InvalidToken()


def _grant(runtime: Runtime, row: RequestRecord) -> Grant:
    assert row.access_token_enc is not None
    token = runtime.sealed.open(ACCESS_TOKEN, row.id, row.access_token_enc)
    return Grant(row.id, token, row.eaadhaar, row.scope)


async def _refresh(runtime: Runtime, tenant: Tenant, request_id: str) -> Grant:
    refused = False
    async with runtime.grant_locks.hold(request_id), runtime.transaction() as session:
        now = runtime.clock.now()
        row = await get_request(
            session, tenant=tenant, request_id=request_id, now=now, for_update=True
        )
        _require_usable(row)
        if row.access_expires_at is not None and row.access_expires_at - EXPIRY_MARGIN > now:
            return _grant(runtime, row)  # another call refreshed it while we waited
        if row.refresh_token_enc is None:
            refused = True
        else:
            refresh_token = runtime.sealed.open(REFRESH_TOKEN, row.id, row.refresh_token_enc)
            try:
                tokens = await runtime.upstream(tenant).refresh(refresh_token)
            except UpstreamResponseError as exc:
                if exc.temporary:
                    raise UpstreamServerError() from None
                logger.info("refresh refused by DigiLocker: %s", exc.error)
                refused = True
            except UpstreamError as exc:
                # The answer may have been lost after DigiLocker rotated the tokens: the next
                # call's refresh will then be refused, and the request marked for re-consent.
                logger.warning("refresh failed: %s", type(exc).__name__)
                raise UpstreamServerError() from None
        if refused:
            # Kept (committed) before the 401: the grant is unusable, and the user can be sent
            # through the journey again to consent anew (docs/errors.md, re-consent).
            row.reauth_required_at = now
            await events.emit(
                session,
                product_instance_id=tenant.product_instance_id,
                request_id=row.id,
                event_type=events.REQUEST_REAUTH_REQUIRED,
                data={"status": row.status.value, "reauthRequired": True},
                now=now,
            )
        else:
            row.access_token_enc = runtime.sealed.seal(ACCESS_TOKEN, row.id, tokens.access_token)
            if tokens.refresh_token:
                row.refresh_token_enc = runtime.sealed.seal(
                    REFRESH_TOKEN, row.id, tokens.refresh_token
                )
            row.access_expires_at = now + timedelta(seconds=tokens.expires_in or 3600)
            await session.flush()
            return Grant(row.id, tokens.access_token, row.eaadhaar, row.scope, renewed=True)
    raise InvalidToken()


async def after_upstream_failure(
    runtime: Runtime,
    tenant: Tenant,
    request_id: str,
    failure: UpstreamError,
    grant: Grant | None = None,
) -> None:
    """What a resource call's failure means for the grant. DigiLocker calling the access token
    invalid before its time: it is renewed now, in the failing call, unless this call renewed it
    already — so once the call has answered 401 `invalid_token`, status says whether re-consent
    is due (`reauthRequired`), and if not, the next call works (docs/errors.md, "Re-consent")."""
    if not (isinstance(failure, UpstreamResponseError) and failure.error == "invalid_token"):
        return
    async with runtime.transaction() as session:
        row = await get_request(
            session, tenant=tenant, request_id=request_id, now=runtime.clock.now()
        )
        row.access_expires_at = runtime.clock.now()
    if grant is not None and grant.renewed:
        return
    try:
        await _refresh(runtime, tenant, request_id)
    except (InvalidToken, UpstreamServerError):
        # Refused: the request is now marked for re-consent. Unreachable: the token stays
        # expired, and the next call renews it.
        return


async def revoke(runtime: Runtime, tenant: Tenant, request_id: str) -> None:
    """Revoke at DigiLocker, then forget the tokens and files. Revoking twice is harmless; if
    DigiLocker cannot be reached nothing changes here, so the call can simply be retried."""
    async with runtime.grant_locks.hold(request_id), runtime.transaction() as session:
        now = runtime.clock.now()
        row = await get_request(
            session, tenant=tenant, request_id=request_id, now=now, for_update=True
        )
        if row.status == RequestStatus.REVOKED:
            return
        require_authenticated(row)
        # The refresh token outlives the access token and revoking it cascades over the grant;
        # if DigiLocker calls it dead (rotated, expired), the access token may still be live.
        candidates = [
            (field, encrypted)
            for field, encrypted in (
                (REFRESH_TOKEN, row.refresh_token_enc),
                (ACCESS_TOKEN, row.access_token_enc),
            )
            if encrypted is not None
        ]
        upstream = runtime.upstream(tenant)
        for field, encrypted in candidates:
            token = runtime.sealed.open(field, row.id, encrypted)
            try:
                await upstream.revoke(token, token_type_hint=field.name)
                break
            except UpstreamResponseError as exc:
                if exc.temporary:
                    raise UpstreamServerError() from None
                logger.info("DigiLocker calls the %s dead already: %s", field.name, exc.error)
            except UpstreamError:
                raise UpstreamServerError() from None
        row.status = RequestStatus.REVOKED
        row.access_token_enc = None
        row.refresh_token_enc = None
        row.access_expires_at = None
        row.revoked_at = now
        await delete_request_files(runtime, session, request_id)
        await events.emit(
            session,
            product_instance_id=tenant.product_instance_id,
            request_id=row.id,
            event_type=events.REQUEST_REVOKED,
            data={"status": row.status.value},
            now=now,
        )
        await audit.append(
            session,
            runtime.keyring,
            product_instance_id=tenant.product_instance_id,
            request_id=row.id,
            action=audit.REQUEST_REVOKED,
            actor=audit.client_actor(tenant.client_id),
            details={},
            now=now,
            heads=runtime.audit_heads,
        )
