"""The per-process credential cache holds immutable tenants, never ORM rows."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import update

from digilocker_gateway.db.models import ProductInstance
from digilocker_gateway.tenants.cache import TenantCache
from digilocker_gateway.tenants.tenant import Tenant
from tests.support import Gateway


async def test_cached_tenant_is_a_frozen_value_detached_from_the_database(
    gateway: Gateway,
) -> None:
    created = await gateway.create_request()
    headers = gateway.headers
    key = TenantCache.key(
        headers["x-client-id"], headers["x-client-secret"], headers["x-product-instance-id"]
    )
    cached = gateway.runtime.tenants.get(key)
    assert isinstance(cached, Tenant)
    assert cached.product_instance_id == headers["x-product-instance-id"]
    assert "digilocker_client_secret_sealed" not in repr(cached)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cached.request_lifetime_seconds = 1  # type: ignore[misc]

    # A change in the database does not reach into values already handed out.
    async with gateway.runtime.transaction() as session:
        await session.execute(
            update(ProductInstance)
            .where(ProductInstance.id == cached.product_instance_id)
            .values(request_lifetime_seconds=60)
        )
    assert cached.request_lifetime_seconds == gateway.runtime.settings.request_lifetime_seconds
    status = await gateway.client.get(f"/api/digilocker/{created['id']}/status", headers=headers)
    assert status.status_code == 200


def test_tenant_reads_the_redirect_allow_list_once() -> None:
    row = ProductInstance(
        id="p-1",
        client_id="c-1",
        name="n",
        digilocker_client_id="DL1",
        digilocker_client_secret_enc="sealed",
        redirect_allowed_hosts="a.example.com,b.example.com",
        request_lifetime_seconds=600,
        aadhaar_allow_unverified=False,
    )
    tenant = Tenant.of(row)
    assert tenant.redirect_allowed_hosts == ("a.example.com", "b.example.com")
    row.redirect_allowed_hosts = None
    assert Tenant.of(row).redirect_allowed_hosts is None
