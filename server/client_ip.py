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
    return any(ip in network for network in networks)


def client_ip(request: Request, trusted: tuple[str, ...]) -> str:
    peer = request.client.host if request.client else "unknown"
    return client_ip_of(peer, request.headers.get("x-forwarded-for", ""), trusted)


def client_ip_of(peer: str, forwarded: str, trusted: tuple[str, ...]) -> str:
    """Walk X-Forwarded-For from the right while each hop is a trusted proxy: the first
    address not ours is the client. Anyone else's header is ignored (it is free to forge)."""
    networks = _networks(trusted)
    if not networks or not _trusted(peer, networks):
        return peer
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            return hop
    return hops[0] if hops else peer
