"""Outbound safety for webhook URLs (docs/webhooks.md §5): https only (http only to loopback in
development), and no address inside the operator's own networks — loopback, private, link-local,
cloud metadata — outside development, so a caller cannot point the gateway at them (SSRF).

The host is resolved once per attempt and the request goes to the address that was checked
(the URL's host stays in the Host header and in TLS's SNI and certificate check), so a DNS
answer that changes between the check and the connection cannot slip through.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Cloud metadata services answer on these in every environment; never a webhook receiver.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address)
    for address in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200")
)
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


class UnsafeTarget(ValueError):
    """A webhook URL the gateway will not call; the message says why (safe to show)."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where one attempt goes: the URL with the checked address in place of the host."""

    url: str
    host_header: str
    server_name: str | None  # TLS SNI and certificate name; None for http


def check_url(url: str, *, development: bool) -> tuple[str, str, int]:
    """(scheme, host, port) of an acceptable URL; raises UnsafeTarget."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeTarget("not a valid URL") from None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in ("https", "http") or not host:
        raise UnsafeTarget("must be an absolute https URL")
    if parts.username is not None or parts.password is not None:
        raise UnsafeTarget("must not carry a user name or password")
    if scheme == "http" and not (development and _is_loopback_name(host)):
        raise UnsafeTarget("must use https (http only to loopback, in development)")
    return scheme, host, port or (443 if scheme == "https" else 80)


def _is_loopback_name(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def address_problem(
    address: IPAddress, *, development: bool, allowed_networks: Sequence[IPNetwork] = ()
) -> str | None:
    """Why a resolved address is refused, or None."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if any(address in network for network in allowed_networks):
        return None
    if address.is_loopback:
        return None if development else "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast or address.is_unspecified or address.is_reserved:
        return "not a unicast address"
    if address.is_private or not address.is_global:
        return None if development else "a private address"
    return None


async def resolve(
    url: str, *, development: bool, allowed_networks: Sequence[IPNetwork] = ()
) -> Target:
    """Check the URL, resolve its host, check every address it resolves to; the target to
    connect to. Raises UnsafeTarget."""
    scheme, host, port = check_url(url, development=development)
    try:
        literal: IPAddress | None = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        addresses: list[IPAddress] = [literal]
    else:
        try:
            found = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except OSError:
            raise UnsafeTarget("its host does not resolve") from None
        addresses = [ipaddress.ip_address(info[4][0]) for info in found]
        if not addresses:
            raise UnsafeTarget("its host does not resolve")
    for address in addresses:
        problem = address_problem(
            address, development=development, allowed_networks=allowed_networks
        )
        if problem is not None:
            raise UnsafeTarget(f"its host resolves to {problem}")
    chosen = addresses[0]
    parts = urlsplit(url)
    shown = f"[{chosen}]" if chosen.version == 6 else str(chosen)
    default_port = 443 if scheme == "https" else 80
    netloc = shown if port == default_port else f"{shown}:{port}"
    host_header = host if port == default_port else f"{host}:{port}"
    pinned = urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))
    return Target(pinned, host_header, host if scheme == "https" else None)


def parse_networks(values: Sequence[str]) -> list[IPNetwork]:
    return [ipaddress.ip_network(value, strict=False) for value in values]
