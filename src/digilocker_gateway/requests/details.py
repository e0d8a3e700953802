"""The DigiLocker user's details (Setu's `digilockerUserDetails`), read after the callback.

The callback keeps what the token response carries and does not wait for DigiLocker's
user-details call, which is optional: a slow or failing one must not hold the user's browser.
The first status, fetch-document or fetch-Aadhaar call after it asks DigiLocker for the rest;
until that succeeds the request stays `details_pending` and status shows what it has.
"""

from __future__ import annotations

import logging

from sqlalchemy import update

from digilocker_gateway.db.models import RequestRecord
from digilocker_gateway.errors import GatewayError
from digilocker_gateway.requests.service import sealed_user_details
from digilocker_gateway.requests.status import RequestStatus
from digilocker_gateway.requests.tokens import Grant, live_grant
from digilocker_gateway.runtime import Runtime
from digilocker_gateway.tenants.tenant import Tenant
from digilocker_gateway.upstream.errors import UpstreamError

logger = logging.getLogger("digilocker_gateway.details")


async def fill_pending_details(
    runtime: Runtime, tenant: Tenant, row: RequestRecord, grant: Grant | None = None
) -> RequestRecord | None:
    """Ask DigiLocker for the user's details and keep them: the request as it now is, or None
    (and nothing changed) when that fails for any reason — the next call tries again. `row` is
    the request as the call read it; `grant`, its live grant if the call holds one already."""
    try:
        if grant is None:
            grant = await live_grant(runtime, tenant, row.id, row)
        details = await runtime.upstream(tenant).user(grant.access_token)
    except (UpstreamError, GatewayError) as exc:
        logger.info("user details still pending: %s", type(exc).__name__)
        return None
    values: dict[str, object] = {
        "details_pending": False,
        **sealed_user_details(
            row.id,
            runtime.sealed,
            digilocker_id=details.digilockerid,
            email=details.email,
            phone_number=details.mobile,
        ),
    }
    # One conditional UPDATE: a request revoked, expired or filled by another call meanwhile
    # is left as it is.
    async with runtime.transaction() as session:
        filled = (
            await session.execute(
                update(RequestRecord)
                .where(
                    RequestRecord.id == row.id,
                    RequestRecord.product_instance_id == tenant.product_instance_id,
                    RequestRecord.status == RequestStatus.AUTHENTICATED,
                    RequestRecord.details_pending.is_(True),
                    RequestRecord.valid_upto > runtime.clock.now(),
                )
                .values(values)
                .returning(RequestRecord)
                .execution_options(synchronize_session=False)
            )
        ).scalar_one_or_none()
    return filled
