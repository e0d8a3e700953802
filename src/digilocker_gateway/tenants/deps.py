"""FastAPI dependencies: the runtime, and the product instance the credential headers name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import Depends, Request

from digilocker_gateway.runtime import Runtime
from digilocker_gateway.tenants.cache import TenantCache
from digilocker_gateway.tenants.service import authenticate
from digilocker_gateway.tenants.tenant import Tenant


async def get_runtime(request: Request) -> Runtime:
    runtime = request.app.state.runtime
    assert isinstance(runtime, Runtime)
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


CREDENTIAL_HEADERS = ("x-client-id", "x-client-secret", "x-product-instance-id")


# Where a call keeps the product instance once authenticated, so the quota dependency and the
# route's own `TenantDep` share one check without the quota dependency declaring `TenantDep`
# (each declared sub-dependency costs FastAPI a resolution pass on every call).
_TENANT_SCOPE_KEY = "digilocker_gateway.tenant"


async def current_tenant(request: Request) -> Tenant:
    """The product instance the three credential headers name, authenticated once per call.
    The headers are read straight from the request (cheaper than three declared Header
    parameters on the hottest calls); app.install_openapi documents them on every /api
    operation."""
    scope = request.scope
    tenant = scope.get(_TENANT_SCOPE_KEY)
    if isinstance(tenant, Tenant):
        return tenant
    tenant = await tenant_for_headers(await get_runtime(request), request.headers)
    scope[_TENANT_SCOPE_KEY] = tenant
    return tenant


async def tenant_for_headers(runtime: Runtime, headers: Mapping[str, str]) -> Tenant:
    """Authenticate the credential headers (cached for a short while after a full check)."""
    client_id, client_secret, product_instance_id = (headers.get(h) for h in CREDENTIAL_HEADERS)
    cache_key = None
    if client_id and client_secret and product_instance_id:
        cache_key = TenantCache.key(client_id, client_secret, product_instance_id)
        cached = runtime.tenants.get(cache_key)
        if cached is not None:
            return cached
    async with runtime.transaction() as session:
        tenant = Tenant.of(
            await authenticate(
                session,
                runtime.hasher,
                client_id=client_id,
                client_secret=client_secret,
                product_instance_id=product_instance_id,
            )
        )
    if cache_key is not None:
        runtime.tenants.put(cache_key, tenant)
    return tenant


TenantDep = Annotated[Tenant, Depends(current_tenant)]
