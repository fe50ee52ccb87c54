"""Who pays for a request: the buckets, from the caller. How much is ``schema.costs``.

Secret keys pay per key; publishable keys and anonymous callers per (tenant site, client
network: the IPv4 address, or the IPv6 /64 every IPv6 host is handed); every key of a
tenant also pays into the tenant's ceiling. A tenant's plan may set its own rates
(``Tenant.limits``).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from server.ratelimit import Limit
from server.settings import MAX_BURST, MAX_RATE, Edge, Rate
from tenants.tenancy.principal import Principal


def _limit(name: str, rate: Rate, override: list | None) -> Limit:
    if override and _sane(override):
        per_second, burst = override
        return Limit(rate=float(per_second), burst=int(burst), name=name)
    # No plan, or one stored before rates were checked (0, inf, NaN, a burst below 1):
    # the default, rather than every request of the tenant failing.
    return _default(name, rate)


@lru_cache(maxsize=64)
def _default(name: str, rate: Rate) -> Limit:
    # Limits are frozen: one per setting serves every request, rather than each
    # request checking two new ones (~4 µs each, 2% of a secret-key read's CPU).
    return Limit(rate=rate.per_second, burst=rate.burst, name=name)


def _sane(override: list) -> bool:
    try:
        per_second, burst = override
        return 0 < float(per_second) <= MAX_RATE and 1 <= int(burst) <= MAX_BURST
    except (TypeError, ValueError, OverflowError):
        return False


@lru_cache(maxsize=4096)
def client_network(ip: str) -> str:
    """What one client is to a per-IP limit: an IPv4 address, or the /64 of an IPv6 one
    (RFC 6177: a host gets a whole /64, so counting its addresses one by one would hand it
    2**64 buckets). An IPv4-mapped IPv6 address is its IPv4 client; anything that is not
    an address (a test client's name) is itself."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(address) >> 64 << 64, 64)))
    return str(address)


def buckets(
    principal: Principal, *, ip: str, site: str | None, edge: Edge
) -> list[tuple[str, Limit]]:
    """The buckets this request draws from, all of which must allow it."""
    ip = client_network(ip)
    tenant = principal.tenant
    plan = (tenant.limits or {}) if tenant is not None else {}
    if principal.platform:
        return [(f"platform:{ip}", _limit("platform", edge.key_rate, None))]
    if principal.key is None:
        # One bucket per site however it is spelled: `site` is canonical (tenants.sites).
        where = site or "-"
        return [(f"{where}:{ip}", _limit("public", edge.public_rate, None))]
    ceiling = (f"{tenant.id}", _limit("tenant", edge.tenant_rate, plan.get("tenant_rate")))
    if principal.publishable:
        return [
            (f"{tenant.id}:{ip}", _limit("public", edge.public_rate, plan.get("public_rate"))),
            ceiling,
        ]
    return [(f"{principal.key.id}", _limit("key", edge.key_rate, plan.get("key_rate"))), ceiling]
