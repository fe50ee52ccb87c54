"""CORS: browsers may call Charter from anywhere for public data, and with a key only
from the sites of its tenant.

The rule (Fetch standard, "CORS protocol"):
- Anonymous requests are origin-free: public data (a published policy) may be read by
  any page, so their answers, refusals included, carry ``Access-Control-Allow-Origin: *``
  (no credentials), and a preflight that asks for no ``Authorization`` passes from any
  origin.
- A publishable key is honoured only from its own tenant's domains (``server.gate``
  applies ``origin_allowed`` to every transport): answers echo that origin. A preflight
  asking for ``Authorization`` passes only from some tenant's domain.
- Secret keys belong on servers: their answers carry no CORS headers at all.
- A trusted origin is a tenant's domain (or its www. host) over https on the default
  port; a domain's other ports and plain http are other origins (RFC 6454 §4), which
  its owner may not control. ``http://localhost`` on any port is trusted too, and
  outside production (``CHARTER_ENV`` development or test) any scheme and port of a
  tenant's domain, for local set-ups.
- Every answer a page may read exposes ``RateLimit``, ``RateLimit-Policy``,
  ``Retry-After`` and ``ETag`` to it (``Access-Control-Expose-Headers``).
- A preflight's ``Access-Control-Request-Headers`` are reflected when each is one a
  GraphQL client sends (``SAFE_HEADERS``, ``SAFE_PREFIXES``): tracing, Apollo's CSRF
  and client-awareness headers; any other is left out, and the browser refuses.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from tenants import sites
from tenants.cache import Cache
from tenants.policies.published import tenant_of_site
from tenants.tenancy.keys import PUBLISHABLE_PREFIX
from tenants.tenancy.principal import Principal

PREFLIGHT_MAX_AGE = "600"
EXPOSED = "RateLimit, RateLimit-Policy, Retry-After, ETag"
METHODS = "GET, POST"
SAFE_HEADERS = frozenset(
    {
        "authorization",
        "content-type",
        "accept",
        "accept-language",
        "if-none-match",
        "traceparent",  # W3C Trace Context
        "tracestate",
        "baggage",  # W3C Baggage
        "sentry-trace",
        "x-request-id",
        "x-correlation-id",
        "apollo-require-preflight",  # Apollo's CSRF prevention header
        "graphql-client-name",
        "graphql-client-version",
    }
)
SAFE_PREFIXES = ("apollographql-client-", "x-apollo-")
ANONYMOUS_HEADERS = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": EXPOSED}


def trusted_site(origin: str | None, *, strict: bool = True) -> str | None:
    """The canonical site (tenants.sites) of an Origin a tenant's domain may stand for:
    ``https://www.acme.example`` is ``acme.example``; None for another scheme or port
    when ``strict`` (production), and for anything that is no origin."""
    if not origin:
        return None
    parts = sites.url_parts(origin)
    if parts is None:
        return None
    port = parts.port
    scheme, host = parts.scheme.lower(), (parts.hostname or "")
    local = scheme == "http" and host == "localhost"  # a developer's machine, any port
    default = scheme == "https" and port in (None, 443)
    if not (local or default or (not strict and scheme in ("http", "https"))):
        return None
    try:
        return sites.canonical(host)
    except ValueError:
        return None


def origin_allowed(
    principal: Principal, origin: str | None, domains, *, strict: bool = True
) -> bool:
    """The origin policy every transport applies (server.gate): anyone may read public
    data from anywhere, a publishable key only from its own tenant's ``domains`` over a
    trusted scheme and port (``trusted_site``), and secret keys belong on servers,
    where no origin is checked (no CORS headers say so)."""
    if origin is None or not principal.publishable:
        return True
    host = trusted_site(origin, strict=strict)
    return host is not None and host in {sites.canonical(domain) for domain in domains}


async def preflight(request: Request, cache: Cache, *, strict: bool = True) -> Response:
    """The answer to an OPTIONS preflight (see the module's rule): 204 always, with
    permission or without it."""
    origin = request.headers.get("origin")
    method = request.headers.get("access-control-request-method", "").upper()
    requested = _requested(request.headers.get("access-control-request-headers"))
    if origin is None or method not in ("GET", "POST"):
        return Response(status_code=204, headers={"Allow": "GET, POST, OPTIONS"})
    headers = {
        "Access-Control-Allow-Methods": METHODS,
        "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
        "Vary": "Origin, Access-Control-Request-Headers",
    }
    if "authorization" in requested:  # a key: only from a tenant's own site
        host = trusted_site(origin, strict=strict)
        if host is None or await tenant_of_site(cache=cache, site=host) is None:
            return Response(status_code=204, headers={"Vary": headers["Vary"]})
        headers["Access-Control-Allow-Origin"] = origin
    else:
        headers["Access-Control-Allow-Origin"] = "*"
    allowed = [name for name in requested if _safe(name)]
    if allowed:
        headers["Access-Control-Allow-Headers"] = ", ".join(allowed)
    return Response(status_code=204, headers=headers)


def headers(principal: Principal, origin: str | None) -> dict[str, str]:
    """The CORS headers of an answer the origin policy allowed."""
    if origin is None or principal.platform:
        return {}
    if principal.key is None:
        return ANONYMOUS_HEADERS
    if not principal.publishable:
        return {}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Expose-Headers": EXPOSED,
        "Vary": "Origin",
    }


def refusal_headers(token: str | None, origin: str | None, code: str) -> dict[str, str]:
    """The CORS headers of a refusal, whose principal the edge never learns: a page
    must read a 429's code and Retry-After like any answer. Anonymous callers get ``*``;
    a publishable key (known by its prefix) its origin, which the gate already allowed
    unless it refused exactly that (FORBIDDEN); secret keys nothing."""
    if origin is None or code == "FORBIDDEN":
        return {}
    if token is None:
        return ANONYMOUS_HEADERS
    if token.startswith(PUBLISHABLE_PREFIX):
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Expose-Headers": EXPOSED,
            "Vary": "Origin",
        }
    return {}


def _requested(value: str | None) -> list[str]:
    return [name.strip().lower() for name in (value or "").split(",") if name.strip()]


def _safe(name: str) -> bool:
    return name in SAFE_HEADERS or name.startswith(SAFE_PREFIXES)
