"""Rendering privacy center pages: Jinja2 with autoescaping, one stylesheet of Charter's
and one of the tenant's colours, a strict CSP, and the visitor's own validators."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import Response

from server.site.assets import ASSETS
from server.site.hosts import Place
from server.site.responses import PAGE_CSP, PRIVATE_PAGE, cached, strong_etag
from tenants import sites
from tenants.branding.texts import fill, language_name
from tenants.tenancy.models import Tenant

ENVIRONMENT = Environment(
    loader=PackageLoader("server.site", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def theme_css(colors: Mapping[str, str]) -> bytes:
    """The tenant's colours as the custom properties center.css reads."""
    return (
        f":root{{--c-bg:{colors['background']};--c-fg:{colors['text']};"
        f"--c-accent:{colors['accent']};--c-accent-fg:{colors['accent_text']}}}\n"
    ).encode()


def theme_name(colors: Mapping[str, str]) -> str:
    return f"theme.{hashlib.sha256(theme_css(colors)).hexdigest()[:16]}.css"


@dataclass(frozen=True)
class Page:
    """What every page shares: who, where, in which language, with which words."""

    tenant: Tenant
    place: Place
    locale: str
    texts: Mapping[str, str]
    languages: list[str]
    colors: Mapping[str, str]
    logo_url: str | None
    timezone: str
    controller: Mapping[str, Any] | None

    def date(self, moment: datetime) -> str:
        """A calendar date where the tenant's law counts it (ISO 8601: read alike in every
        language, never a day off at midnight UTC)."""
        return moment.astimezone(ZoneInfo(self.timezone)).date().isoformat()


def _image_source(logo_url: str | None) -> str:
    """The logo's origin as a CSP source (" https://host[:port]"), built from its parsed
    parts, never copied: a stored URL is trusted with nothing in a header."""
    if not logo_url:
        return ""
    parts = sites.url_parts(logo_url)
    if parts is None:
        return ""
    host, port = sites.host(parts.hostname or ""), parts.port
    if parts.scheme != "https" or not host or not all(c.isalnum() or c in ".-" for c in host):
        return ""
    return f" https://{host}" + (f":{port}" if port is not None else "")


def render(
    request: Request,
    page: Page,
    template: str,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **values: Any,
) -> Response:
    body = (
        ENVIRONMENT.get_template(template)
        .render(
            t=page.texts,
            fill=fill,
            date=page.date,
            locale=page.locale,
            base=page.place.base,
            tenant_name=page.tenant.name,
            logo_url=page.logo_url,
            controller=page.controller,
            center_css=ASSETS["center.css"].hashed,
            theme_css=theme_name(page.colors),
            languages=[{"tag": tag, "name": language_name(tag)} for tag in page.languages],
            **values,
        )
        .encode()
    )
    images = _image_source(page.logo_url)
    return cached(
        request,
        body,
        media_type="text/html; charset=utf-8",
        etag=strong_etag(body),
        cache_control=PRIVATE_PAGE,
        status=status,
        headers={
            "Content-Security-Policy": PAGE_CSP.format(images=images),
            "Content-Language": page.locale,
            "Vary": "Accept-Language, Cookie",
            "X-Frame-Options": "DENY",
            **(headers or {}),
        },
    )
