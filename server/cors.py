"""CORS: browsers may call Charter from the sites of its tenants.

Anyone may read public data from anywhere (`*`, no credentials). A publishable key is
honoured only from its own tenant's domains: a key copied onto another site is refused.
Secret keys get no CORS headers at all: they belong on servers, not in browsers.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from tenants import sites
from tenants.cache import Cache
from tenants.policies.published import tenant_of_site
from tenants.tenancy.principal import Principal

PREFLIGHT_MAX_AGE = "600"


def origin_host(origin: str | None) -> str | None:
    """The canonical site of an Origin's host (tenants.sites): ``https://www.acme.example``
    is the site ``acme.example``."""
    if not origin:
        return None
    try:
        return sites.canonical(urlsplit(origin).hostname)
    except ValueError:
        return None


def origin_allowed(principal: Principal, origin: str | None, domains) -> bool:
    """The origin policy every transport applies (server.gate): anyone may read public
    data from anywhere, a publishable key only from its own tenant's ``domains``, and
    secret keys belong on servers, where no origin is checked (no CORS headers say so)."""
    if origin is None or not principal.publishable:
        return True
    host = origin_host(origin)
    return host is not None and host in {sites.canonical(domain) for domain in domains}


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


def headers(principal: Principal, origin: str | None) -> dict[str, str]:
    """The CORS headers of an answer the origin policy allowed."""
    if origin is None or principal.platform:
        return {}
    if principal.key is None:
        return {"Access-Control-Allow-Origin": "*"}
    if not principal.publishable:
        return {}
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
