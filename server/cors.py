"""CORS: browsers may call Charter from the sites of its tenants.

Anyone may read public data from anywhere (`*`, no credentials). A publishable key is
honoured only from its own tenant's domains: a key copied onto another site is refused.
Secret keys get no CORS headers at all: they belong on servers, not in browsers.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from tenants.cache import Cache
from tenants.policies.published import tenant_of_site
from tenants.tenancy import service
from tenants.tenancy.principal import Principal

PREFLIGHT_MAX_AGE = "600"


def origin_host(origin: str | None) -> str | None:
    if not origin:
        return None
    return (urlsplit(origin).hostname or "").lower() or None


async def preflight(request: Request, cache: Cache) -> Response:
    """Allowed from any tenant's registered domain; others get no permission."""
    origin = request.headers.get("origin")
    host = origin_host(origin)
    if host is None or await tenant_of_site(cache=cache, site=host) is None:
        return Response(status_code=204)
    return Response(
        status_code=204,
        headers={
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": "GET, POST",
            "Access-Control-Allow-Headers": "Authorization, Content-Type, Accept-Language",
            "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
            "Vary": "Origin",
        },
    )


async def allowed(request: Request, principal: Principal) -> tuple[bool, dict[str, str]]:
    """(may this call go on, the CORS headers to answer with)."""
    origin = request.headers.get("origin")
    if origin is None or principal.platform:
        return True, {}
    if principal.key is None:
        return True, {"Access-Control-Allow-Origin": "*"}
    if not principal.publishable:
        return True, {}
    domains = await service.domains_of(tenant=principal.tenant, cache=request.app.state.cache)
    if origin_host(origin) in domains:
        return True, {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
    return False, {}
