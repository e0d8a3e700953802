"""The DigiLocker user's details (Setu's `digilockerUserDetails`), read after the callback.

The callback keeps what the token response carries and does not wait for DigiLocker's
user-details call, which is optional: a slow or failing one must not hold the user's browser.
The first status, fetch-document or fetch-Aadhaar call after it asks DigiLocker for the rest;
until that succeeds the request stays `details_pending` and status shows what it has.
"""

from __future__ import annotations

import logging

from digilocker_gateway.errors import GatewayError
from digilocker_gateway.requests.service import get_request, keep_user_details
from digilocker_gateway.requests.status import RequestStatus
from digilocker_gateway.requests.tokens import live_grant
from digilocker_gateway.runtime import Runtime
from digilocker_gateway.tenants.tenant import Tenant
from digilocker_gateway.upstream.errors import UpstreamError

logger = logging.getLogger("digilocker_gateway.details")


async def fill_pending_details(runtime: Runtime, tenant: Tenant, request_id: str) -> bool:
    """Ask DigiLocker for the user's details and keep them; False (and nothing changed) when
    that fails for any reason — the next call tries again."""
    try:
        grant = await live_grant(runtime, tenant, request_id)
        details = await runtime.upstream(tenant).user(grant.access_token)
    except (UpstreamError, GatewayError) as exc:
        logger.info("user details still pending: %s", type(exc).__name__)
        return False
    async with runtime.transaction() as session:
        row = await get_request(
            session,
            tenant=tenant,
            request_id=request_id,
            now=runtime.clock.now(),
            for_update=True,
        )
        if row.status != RequestStatus.AUTHENTICATED or not row.details_pending:
            return False  # revoked, or filled by another call meanwhile
        keep_user_details(
            row,
            runtime.sealed,
            digilocker_id=details.digilockerid,
            email=details.email,
            phone_number=details.mobile,
        )
        row.details_pending = False
    return True
