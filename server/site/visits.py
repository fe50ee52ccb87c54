"""The steps every site request takes first: find the tenant, see where the visitor
stands, charge the rate limit. A site no tenant owns is a 404 before any charge (so
inventing names mints no buckets); another tenant's domain is a 404 too."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from server.site.charge import Charged, charge, too_many
from server.site.hosts import Place, place_of
from tenants import sites
from tenants.branding.service import tenant_of
from tenants.tenancy.models import Tenant


@dataclass(frozen=True)
class Visit:
    tenant: Tenant
    site: str  # as the path spells it, lowercase
    place: Place
    charged: Charged


def not_found() -> Response:
    return PlainTextResponse("Not found", status_code=404)


async def visit(request: Request, *, document: str | None = None) -> Visit | Response:
    """The request's tenant and place, charged; or the response that ends it here."""
    site = sites.canonical(request.path_params["site"])  # one name per site, any spelling
    if site is None:
        return not_found()
    cache = request.app.state.cache
    tenant = await tenant_of(cache=cache, site=site)
    if tenant is None:
        return not_found()
    place = await place_of(request, tenant=tenant, site=site, cache=cache)
    if place is None:
        return not_found()
    charged = await charge(request, site=site, document=document)
    if not charged.allowed:
        return too_many(charged)
    return Visit(tenant=tenant, site=site, place=place, charged=charged)
