"""Who pays for a request: the buckets, from the caller. How much is ``schema.costs``.

Secret keys pay per key; publishable keys and anonymous callers per (tenant site, client
IP); every key of a tenant also pays into the tenant's ceiling. A tenant's plan may set
its own rates (``Tenant.limits``).
"""

from __future__ import annotations

from server.ratelimit import Limit
from server.settings import Edge, Rate
from tenants.tenancy.principal import Principal


def _limit(name: str, rate: Rate, override: list | None) -> Limit:
    if override:
        per_second, burst = override
        return Limit(rate=float(per_second), burst=int(burst), name=name)
    return Limit(rate=rate.per_second, burst=rate.burst, name=name)


def buckets(
    principal: Principal, *, ip: str, site: str | None, edge: Edge
) -> list[tuple[str, Limit]]:
    """The buckets this request draws from, all of which must allow it."""
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
