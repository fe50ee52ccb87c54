"""Where a site request was made: on Charter's own host, or on the tenant's domain.

A tenant serves its privacy center on its own domain by pointing it at Charter: straight
(the Host header names the domain), or through its reverse proxy, whose
`X-Forwarded-Host` and `X-Forwarded-Proto` are believed only when the proxy is one of
`CHARTER_TRUSTED_PROXIES` (anyone else may write them). On the tenant's domain the
banner's first-party record (`Path=/`) is the page's; on Charter's host each site keeps
its own (`Path=/t/SITE/`). A page asked for on one tenant's domain for another tenant's
site is not served: it would read and write the first tenant's cookies.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote

from starlette.requests import Request

from tenants.cache import Cache
from tenants.policies.published import tenant_of_site
from tenants.tenancy.models import Tenant


@dataclass(frozen=True)
class Place:
    host: str  # as the visitor's browser named it, lowercase, without port
    origin: str  # scheme://host[:port], as the visitor sees it
    secure: bool  # https, as the visitor sees it
    own_domain: bool  # the tenant's domain, not Charter's host
    base: str  # the privacy center's path prefix: "/t/<site>"

    @property
    def cookie_path(self) -> str:
        return "/" if self.own_domain else self.base + "/"


@lru_cache(maxsize=32)
def _networks(trusted: tuple[str, ...]):
    return tuple(ipaddress.ip_network(item, strict=False) for item in trusted)


def _from_trusted_proxy(request: Request, trusted: tuple[str, ...]) -> bool:
    try:
        peer = ipaddress.ip_address(request.client.host if request.client else "")
    except ValueError:
        return False
    return any(peer in network for network in _networks(trusted))


def _bare_host(value: str) -> str:
    if value.startswith("["):  # an IPv6 literal keeps its colons
        return value.partition("]")[0] + "]"
    return value.rpartition(":")[0] if ":" in value else value


async def place_of(request: Request, *, tenant: Tenant, site: str, cache: Cache) -> Place | None:
    """Where this request stands; None when its host is another tenant's domain."""
    trusted = request.app.state.settings.edge.trusted_proxies
    proxied = _from_trusted_proxy(request, trusted)
    named = (proxied and request.headers.get("x-forwarded-host")) or request.headers.get("host", "")
    named = named.split(",")[0].strip().lower()
    host = _bare_host(named).rstrip(".")
    scheme = (proxied and request.headers.get("x-forwarded-proto")) or request.url.scheme
    scheme = "https" if scheme.split(",")[0].strip().lower() == "https" else "http"
    owner = await tenant_of_site(cache=cache, site=host) if host and "." in host else None
    if owner is not None and owner != str(tenant.id):
        return None
    return Place(
        host=host,
        origin=f"{scheme}://{named}",
        secure=scheme == "https",
        own_domain=owner is not None,
        base="/t/" + quote(site, safe=""),
    )
