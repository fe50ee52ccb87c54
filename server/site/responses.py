"""How the site's answers are sent: cache validators, compression, and the headers a
strict page needs. One place, so the script, the stylesheets and the pages agree."""

from __future__ import annotations

import hashlib

from starlette.requests import Request
from starlette.responses import Response

IMMUTABLE = "public, max-age=31536000, immutable"
# consent.js lives at a fixed path that tenants paste: short, then revalidated by ETag.
SCRIPT = "public, max-age=300, stale-while-revalidate=86400"
# A privacy center page holds the visitor's own form token and choices: theirs alone.
PRIVATE_PAGE = "private, no-cache"

# Nothing runs on a privacy center page; it loads only its own stylesheets (and the
# tenant's logo, `img-src` added per page), and posts only to itself.
PAGE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'{images}; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
# What a script or stylesheet loaded from a tenant's page needs (and nothing else may use it).
CROSS_ORIGIN = {"Cross-Origin-Resource-Policy": "cross-origin", "Access-Control-Allow-Origin": "*"}


def strong_etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def not_modified(request: Request, etag: str) -> bool:
    """If-None-Match with the weak comparison RFC 9110 section 13.1.2 asks for on GET."""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    if header.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in header.split(","))


def accepts_gzip(request: Request) -> bool:
    for part in request.headers.get("accept-encoding", "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            q = params.strip().removeprefix("q=").strip() if "q=" in params else "1"
            try:
                return float(q) > 0
            except ValueError:
                return False
    return False


def cached(
    request: Request,
    body: bytes,
    *,
    media_type: str,
    etag: str,
    cache_control: str,
    gzipped: bytes | None = None,
    headers: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    """``body`` with its validator, or 304 when the client holds it already."""
    extra = {"ETag": etag, "Cache-Control": cache_control, **(headers or {})}
    if gzipped is not None:
        extra["Vary"] = ", ".join(filter(None, [extra.get("Vary"), "Accept-Encoding"]))
    if status == 200 and not_modified(request, etag):
        return Response(status_code=304, headers=extra)
    if gzipped is not None and accepts_gzip(request):
        return Response(
            gzipped,
            status_code=status,
            media_type=media_type,
            headers={**extra, "Content-Encoding": "gzip"},
        )
    return Response(body, status_code=status, media_type=media_type, headers=extra)
