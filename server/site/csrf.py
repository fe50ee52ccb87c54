"""Forms that only the privacy center's own pages can post (OWASP's signed double-submit
cookie, with the Fetch Metadata and Origin checks before it).

The first page sets a random, HttpOnly cookie; every form carries an HMAC of it (under
`CHARTER_SECRET_KEY`, bound to the site), so a page elsewhere can neither read the token
nor mint one for a cookie it planted. A browser that says the post is cross-site
(`Sec-Fetch-Site`) or comes from another origin (`Origin`) is refused before that.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response

from tenants import sites

COOKIE = "charter_csrf"


def _sign(secret: str, site: str, value: str) -> str:
    message = f"csrf\x00{site}\x00{value}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def visitor_value(request: Request) -> tuple[str, bool]:
    """The visitor's cookie value, and whether it must be set now."""
    value = request.cookies.get(COOKIE, "")
    if len(value) == 43 and value.replace("-", "").replace("_", "").isalnum():
        return value, False
    return secrets.token_urlsafe(32), True


def token(request: Request, *, site: str, value: str) -> str:
    return _sign(request.app.state.settings.secret_key, site, value)


def event_id(request: Request, *, site: str, value: str, state: str) -> str:
    """An event id from ``value`` and ``state``: the page's (the same for every render of
    the same choice state, so a page stays cacheable by its ETag; new once a choice is
    saved), and from it, the posted form's (server.site.forms)."""
    digest = _sign(request.app.state.settings.secret_key, site, f"event\x00{value}\x00{state}")
    return "ce_" + digest[:32]


def remember(response: Response, value: str, *, path: str, secure: bool) -> None:
    response.set_cookie(
        COOKIE, value, path=path, secure=secure, httponly=True, samesite="lax", max_age=86400
    )


def allowed(request: Request, *, site: str, host: str, sent: str) -> bool:
    """A post from the privacy center's own page, with the token of this visitor's cookie."""
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin and origin != "null":
        parts = sites.url_parts(origin)
        if parts is None or (parts.hostname or "").lower() != host:
            return False
    value = request.cookies.get(COOKIE, "")
    if not value or not sent:
        return False
    # Bytes: compare_digest refuses str with non-ASCII characters (a TypeError, a 500).
    return hmac.compare_digest(token(request, site=site, value=value).encode(), sent.encode())
