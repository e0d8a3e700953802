"""FastAPI dependencies: the runtime, and the product instance the credential headers name."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from digilocker_gateway.db.models import ProductInstance
from digilocker_gateway.runtime import Runtime
from digilocker_gateway.tenants.cache import TenantCache
from digilocker_gateway.tenants.service import authenticate


async def get_runtime(request: Request) -> Runtime:
    runtime = request.app.state.runtime
    assert isinstance(runtime, Runtime)
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def current_instance(
    runtime: RuntimeDep,
    x_client_id: Annotated[str | None, Header(description="Your client id")] = None,
    x_client_secret: Annotated[str | None, Header(description="Your client secret")] = None,
    x_product_instance_id: Annotated[
        str | None, Header(description="Your product instance id")
    ] = None,
) -> ProductInstance:
    cache_key = None
    if x_client_id and x_client_secret and x_product_instance_id:
        cache_key = TenantCache.key(x_client_id, x_client_secret, x_product_instance_id)
        cached = runtime.tenants.get(cache_key)
        if cached is not None:
            return cached
    async with runtime.sessions() as session:
        instance = await authenticate(
            session,
            runtime.hasher,
            client_id=x_client_id,
            client_secret=x_client_secret,
            product_instance_id=x_product_instance_id,
        )
    if cache_key is not None:
        runtime.tenants.put(cache_key, instance)
    return instance


InstanceDep = Annotated[ProductInstance, Depends(current_instance)]
