"""Outbound safety: https only, no internal addresses outside development, no redirects."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from pydantic import ValidationError

from digilocker_gateway.config import Settings
from digilocker_gateway.webhooks.targets import (
    UnsafeTarget,
    address_problem,
    check_url,
    parse_networks,
    resolve,
)
from tests.requests.test_create import assert_envelope
from tests.support import Gateway
from tests.webhooks.receiver import receiving
from tests.webhooks.support import add_endpoint, deliver, deliveries


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "::1",
        "10.1.2.3",
        "172.16.0.9",
        "192.168.1.1",
        "100.64.0.1",
        "169.254.10.10",
        "169.254.169.254",
        "fd00:ec2::254",
        "fc00::1",
        "fe80::1",
        "::ffff:10.0.0.1",
        "0.0.0.0",
        "224.0.0.1",
    ],
)
def test_internal_addresses_are_refused_outside_development(address: str) -> None:
    assert address_problem(ipaddress.ip_address(address), development=False) is not None


@pytest.mark.parametrize("address", ["169.254.169.254", "fe80::1", "169.254.1.1"])
def test_metadata_and_link_local_are_refused_even_in_development(address: str) -> None:
    assert address_problem(ipaddress.ip_address(address), development=True) is not None


def test_public_addresses_and_allowed_networks_are_accepted() -> None:
    assert address_problem(ipaddress.ip_address("93.184.216.34"), development=False) is None
    allowed = parse_networks(["10.20.0.0/16"])
    inside = ipaddress.ip_address("10.20.3.4")
    assert address_problem(inside, development=False, allowed_networks=allowed) is None
    metadata = ipaddress.ip_address("169.254.169.254")
    everything = parse_networks(["0.0.0.0/0"])
    assert address_problem(metadata, development=False, allowed_networks=everything) is not None


@pytest.mark.parametrize(
    ("url", "development"),
    [
        ("http://example.com/hook", True),  # http only to loopback
        ("http://127.0.0.1:9000/hook", False),  # and only in development
        ("ftp://example.com/hook", True),
        ("https://user:pass@example.com/hook", True),
        ("/relative", True),
    ],
)
def test_urls_that_are_not_https_are_refused(url: str, development: bool) -> None:
    with pytest.raises(UnsafeTarget):
        check_url(url, development=development)


async def test_a_name_is_checked_by_what_it_resolves_to_and_the_address_is_pinned() -> None:
    with pytest.raises(UnsafeTarget, match="loopback"):
        await resolve("https://localhost:8443/hook", development=False)
    target = await resolve("https://localhost:8443/hook?x=1", development=True)
    assert target.host_header == "localhost:8443"
    assert target.server_name == "localhost"
    assert target.url in ("https://127.0.0.1:8443/hook?x=1", "https://[::1]:8443/hook?x=1")


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[fe80::1]/hook",
        "file:///etc/passwd",
    ],
)
async def test_api_refuses_unsafe_webhook_urls(gateway: Gateway, url: str) -> None:
    response = await gateway.client.post(
        "/api/digilocker/webhooks", json={"url": url}, headers=gateway.headers
    )
    assert_envelope(response, 400, "invalid_payload")


async def test_redirects_are_not_followed(gateway: Gateway) -> None:
    with receiving() as target, receiving() as bouncer:
        bouncer.script = [307]
        bouncer.location = target.url
        endpoint = await add_endpoint(gateway, bouncer)
        await gateway.create_request()
        await deliver(gateway)
        [delivery] = await deliveries(gateway, endpoint["id"])
        assert delivery["status"] == "pending"
        assert delivery["attempts"][0]["statusCode"] == 307
        assert target.received == []


def test_allowed_networks_that_are_not_cidrs_are_refused_at_startup(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="not a CIDR"):
        Settings(data_dir=tmp_path, webhook_allowed_networks=["10.0.0.0/33"])
