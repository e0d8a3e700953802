"""Ask DigiLocker whether a number has an account, within the product instance's rate: the
check can enumerate people, so it is counted per product instance per minute across every
gateway process (kit/rate_limit.py). The number is neither stored nor logged."""

from __future__ import annotations

import logging
import math

from digilocker_gateway.accounts.schemas import AccountCheck
from digilocker_gateway.errors import ExtensionNotAllowed, RateLimited, UpstreamServerError
from digilocker_gateway.kit.rate_limit import take
from digilocker_gateway.runtime import Runtime
from digilocker_gateway.tenants.tenant import Tenant
from digilocker_gateway.upstream.errors import UpstreamError

logger = logging.getLogger("digilocker_gateway.accounts")


async def account_exists(runtime: Runtime, tenant: Tenant, body: AccountCheck) -> bool:
    if not tenant.allows("accountCheck"):
        raise ExtensionNotAllowed()
    limit = tenant.account_checks_per_minute
    if limit is None:
        limit = runtime.settings.account_checks_per_minute
    now = runtime.clock.now()
    async with runtime.transaction() as session:
        allowed = await take(
            session, f"account-check:{tenant.product_instance_id}", limit=limit, now=now
        )
    if not allowed:
        # The window is the clock minute: a call fits again when the next one starts.
        raise RateLimited(retry_after=math.ceil(60 - now.second - now.microsecond / 1e6))
    try:
        return await runtime.upstream(tenant).verify_account(uid=body.aadhaar, mobile=body.mobile)
    except UpstreamError as exc:
        # No DigiLocker code of this call has a Setu meaning: every failure is DigiLocker's.
        logger.info("account check failed upstream: %s", type(exc).__name__)
        raise UpstreamServerError() from None
