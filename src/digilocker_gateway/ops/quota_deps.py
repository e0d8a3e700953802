"""The quota check as a FastAPI dependency of the routes each kind of call counts against
(docs/operations.md §3). It runs the credential check first, so it runs only once the product
instance is authenticated: a call with wrong credentials is answered 401 and neither spends
nor reveals the instance's quota. The route's own `TenantDep` reuses the same authenticated
tenant (`current_tenant` authenticates once per call)."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request

from digilocker_gateway.ops.quotas import QuotaKind, Quotas
from digilocker_gateway.tenants.deps import current_tenant, get_runtime


def quota(kind: QuotaKind) -> Any:
    """`dependencies=[quota(QuotaKind.CREATE)]` on a route: count the call, or answer 429
    `rate_limit_exceeded` with Retry-After."""

    async def count_against_quota(request: Request) -> None:
        tenant = await current_tenant(request)
        quotas = getattr(request.app.state, "quotas", None)
        if isinstance(quotas, Quotas):
            await quotas.take(await get_runtime(request), tenant.product_instance_id, kind)

    return Depends(count_against_quota)


CREATE_QUOTA = quota(QuotaKind.CREATE)
FETCH_QUOTA = quota(QuotaKind.FETCH)
STATUS_QUOTA = quota(QuotaKind.STATUS)
ACCOUNT_CHECK_QUOTA = quota(QuotaKind.ACCOUNT_CHECK)
