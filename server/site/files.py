"""The files a tenant's pages load from Charter: consent.js at its fixed path, and the
content-hashed script and stylesheets (immutable), including the tenant's own colours."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.site.assets import ASSETS, Asset
from server.site.pages import theme_css, theme_name
from server.site.responses import CROSS_ORIGIN, IMMUTABLE, SCRIPT, cached, strong_etag
from server.site.visits import Visit, not_found, visit
from tenants.branding.service import branding_of


async def script(request: Request) -> Response:
    """/t/SITE/consent.js: the path tenants paste, so it cannot be immutable; a short
    max-age, then a revalidation that costs a 304."""
    return await _serve(request, ASSETS["consent.js"], SCRIPT)


async def asset(request: Request) -> Response:
    """/t/SITE/assets/NAME: a content-hashed file, immutable; or the tenant's theme."""
    name = request.path_params["name"]
    if name.startswith("theme."):
        return await _theme(request, name)
    item = ASSETS.get(name)
    if item is None or item.hashed != name:  # only hashed names are served immutable
        return not_found()
    return await _serve(request, item, IMMUTABLE)


async def _serve(request: Request, item: Asset, cache_control: str) -> Response:
    found = await visit(request)
    if not isinstance(found, Visit):
        return found
    return cached(
        request,
        item.body,
        gzipped=item.gzipped,
        media_type=item.media_type,
        etag=item.etag,
        cache_control=cache_control,
        headers={**CROSS_ORIGIN, **found.charged.headers},
    )


async def _theme(request: Request, name: str) -> Response:
    found = await visit(request)
    if not isinstance(found, Visit):
        return found
    colors = branding_of(found.tenant).colors
    body = theme_css(colors)
    # A page rendered before the colours changed still names the old hash: it gets the
    # current colours, revalidated rather than kept for a year.
    control = IMMUTABLE if name == theme_name(colors) else "no-cache"
    return cached(
        request,
        body,
        media_type="text/css; charset=utf-8",
        etag=strong_etag(body),
        cache_control=control,
        headers=found.charged.headers,
    )
