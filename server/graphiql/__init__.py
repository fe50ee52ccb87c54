"""GraphiQL, served by Charter itself: the page at ``/graphql`` (a browser's GET) and its
files under ``/graphiql/NAME.HASH.EXT``, outside production only.

Nothing comes from another host, so the page works offline and air-gapped, and its
Content-Security-Policy allows only this origin ('self'), plus ``data:`` fonts (GraphiQL's
stylesheet embeds its fonts). The vendored files in ``static/`` (GraphiQL 3.8.3, React and
ReactDOM 18.3.1, each with its licence) are the npm packages' UMD builds; GraphiQL's was
re-minified with esbuild (``--minify --legal-comments=eof``): it ships unminified as
``graphiql.min.js``. ``start.js`` is ours: headers (where a secret key goes) are never
persisted in localStorage.

Introspection, which the docs pane and autocompletion need, follows the gate's policy
(``server.gate``): open to anyone outside production, secret keys only in production.
"""

from __future__ import annotations

import functools
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from server.site.assets import Asset, asset
from server.site.responses import IMMUTABLE, cached

STATIC = Path(__file__).with_name("static")
PREFIX = "/graphiql/"
SCRIPTS = ("react.production.min.js", "react-dom.production.min.js", "graphiql.min.js")
STYLES = ("graphiql.min.css", "page.css")  # page.css: no inline style under the CSP
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; font-src data:; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}


@functools.cache
def assets() -> dict[str, Asset]:
    """Every file by its content-hashed name; built on first use (gzipping 2 MB takes a
    moment no process that never shows GraphiQL should pay)."""
    built = [asset(name, (STATIC / name).read_bytes()) for name in (*SCRIPTS, *STYLES, "start.js")]
    return {item.name: item for item in built} | {item.hashed: item for item in built}


@functools.cache
def html() -> str:
    files = assets()
    styles = "".join(f'<link rel="stylesheet" href="{PREFIX}{files[n].hashed}">' for n in STYLES)
    scripts = "".join(
        f'<script src="{PREFIX}{files[n].hashed}"></script>' for n in (*SCRIPTS, "start.js")
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>Charter GraphiQL</title>"
        f'<meta name="viewport" content="width=device-width, initial-scale=1">{styles}</head>'
        f'<body><div id="graphiql">Loading…</div>{scripts}'
        "</body></html>"
    )


def page(request: Request) -> Response:
    return HTMLResponse(html(), headers=PAGE_HEADERS)


async def file(request: Request) -> Response:
    """/graphiql/NAME.HASH.EXT, immutable; 404 in production, where there is no GraphiQL."""
    if request.app.state.settings.production:
        return Response("not found", status_code=404, media_type="text/plain")
    name = request.path_params["name"]
    item = assets().get(name)
    if item is None or item.hashed != name:
        return Response("not found", status_code=404, media_type="text/plain")
    return cached(
        request,
        item.body,
        gzipped=item.gzipped,
        media_type=item.media_type,
        etag=item.etag,
        cache_control=IMMUTABLE,
    )
