"""The client's address: the socket's, or X-Forwarded-For's when a trusted proxy sent it."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from starlette.requests import Request


@lru_cache(maxsize=32)
def _networks(trusted: tuple[str, ...]) -> tuple[ipaddress._BaseNetwork, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in trusted)


def _trusted(address: str, networks: tuple[ipaddress._BaseNetwork, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    # A dual-stack listener (uvicorn on "::", nginx on [::]:80 ipv6only=off) sees an IPv4
    # proxy as ::ffff:a.b.c.d: it is the same proxy as the IPv4 network names.
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return any(ip in network or ip.ipv4_mapped in network for network in networks)
    return any(ip in network for network in networks)


def _host(hop: str) -> str:
    """A hop without the port some proxies append (Azure's "203.0.113.7:5555",
    "[2001:db8::1]:443"): the client's source port is its own to choose, one bucket each."""
    if hop.startswith("["):
        return hop[1:].partition("]")[0]
    if hop.count(":") == 1:
        return hop.partition(":")[0]
    return hop


def client_ip(request: Request, trusted: tuple[str, ...]) -> str:
    peer = request.client.host if request.client else "unknown"
    if not trusted:  # no proxy is believed: the header is not even read
        return peer
    return client_ip_of(peer, request.headers.get("x-forwarded-for", ""), trusted)


def client_ip_of(peer: str, forwarded: str, trusted: tuple[str, ...]) -> str:
    """Walk X-Forwarded-For from the right while each hop is a trusted proxy: the first
    address not ours is the client. Anyone else's header is ignored (it is free to forge)."""
    networks = _networks(trusted)
    if not networks or not _trusted(peer, networks):
        return peer
    hops = [_host(hop.strip()) for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            return hop
    return hops[0] if hops else peer
