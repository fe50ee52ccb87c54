"""A tenant's branding: colours, logo, consent model and texts, read and changed.

Stored on the tenant (``Tenant.branding``); every change bumps the tenant's cache
generation, so cached banners and pages of that tenant are dropped at once.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from tenants import sites, validation
from tenants.branding import colors as palette
from tenants.branding.texts import MAX_TEXT, known_key
from tenants.cache import Cache
from tenants.errors import ErrorCode, Problems
from tenants.policies.published import tenant_of_site
from tenants.rules import JURISDICTIONS
from tenants.tenancy import audit
from tenants.tenancy.models import Tenant
from tenants.tenancy.service import KEEP

MAX_URL = 2048
MAX_TEXTS = 2000


class ConsentModel(StrEnum):
    EXPLICIT = "EXPLICIT"  # nothing is allowed until the person says so (opt-in)
    IMPLIED = "IMPLIED"  # a notice: use of the site stands for consent, with an opt-out


@dataclass(frozen=True)
class Text:
    locale: str
    key: str
    text: str


@dataclass(frozen=True)
class Branding:
    colors: Mapping[str, str]
    logo_url: str | None
    consent_model: ConsentModel  # as the tenant chose it; see consent_model_in_force
    texts: Mapping[str, Mapping[str, str]]  # {locale: {key: text}}


async def tenant_of(*, cache: Cache, site: str) -> Tenant | None:
    """The tenant a site (slug or domain) belongs to, kept in memory under its generation
    (every change to a tenant bumps it): a banner or a page costs no database read."""
    tenant_id = await tenant_of_site(cache=cache, site=site)
    if tenant_id is None:
        return None
    return await cache.remember(tenant_id, "tenant", lambda: Tenant.get_or_none(id=tenant_id))


def branding_of(tenant: Tenant) -> Branding:
    stored: Mapping[str, Any] = tenant.branding or {}
    return Branding(
        colors={**palette.DEFAULTS, **(stored.get("colors") or {})},
        logo_url=stored.get("logo_url"),
        consent_model=ConsentModel(stored.get("consent_model") or ConsentModel.EXPLICIT),
        texts=stored.get("texts") or {},
    )


def implied_refused_by(tenant: Tenant) -> list[str]:
    """The tenant's jurisdictions under which use of a site cannot stand for consent."""
    return [
        code
        for code in tenant.jurisdictions
        if code in JURISDICTIONS and not JURISDICTIONS[code].implied_consent
    ]


def consent_model_in_force(tenant: Tenant) -> ConsentModel:
    """IMPLIED only while every jurisdiction of the tenant allows it: a tenant that later
    adds, say, EU gets an explicit banner at once, whatever it chose before."""
    chosen = branding_of(tenant).consent_model
    if chosen is ConsentModel.IMPLIED and implied_refused_by(tenant):
        return ConsentModel.EXPLICIT
    return chosen


async def update_branding(
    *,
    tenant: Tenant,
    actor: str,
    cache: Cache,
    colors: Mapping[str, str | None] | None = KEEP,
    logo_url: str | None = KEEP,
    consent_model: ConsentModel | None = KEEP,
    texts: list[Text] | None = KEEP,
) -> Tenant:
    """Change what is given (None resets a part to Charter's default); every problem at
    once: INVALID_COLOR, LOW_CONTRAST (WCAG 2.2 SC 1.4.3 and 1.4.11), INVALID_URL,
    IMPLIED_CONSENT_NOT_ALLOWED (the rule table's `consent.implied`), INVALID_LOCALE,
    INVALID (unknown text key), REQUIRED, TOO_LONG, DUPLICATE, TOO_MANY."""
    problems = Problems()
    stored = dict(tenant.branding or {})
    if colors is not KEEP:
        stored["colors"] = _colors(problems, stored.get("colors") or {}, colors)
    if logo_url is not KEEP:
        stored["logo_url"] = logo_url and _logo_url(problems, logo_url)
    if consent_model is not KEEP:
        stored["consent_model"] = _consent_model(problems, tenant, consent_model)
    if texts is not KEEP:
        stored["texts"] = _texts(problems, texts or [])
    problems.raise_if_any()
    tenant.branding = {key: value for key, value in stored.items() if value}
    await tenant.save(update_fields=["branding", "updated_at"])
    await audit.record(
        tenant=tenant,
        actor=actor,
        action="tenant.branding",
        target=f"tenant:{tenant.id}",
        details={"fields": sorted(_given(colors, logo_url, consent_model, texts))},
    )
    await cache.bump(tenant.id)
    return tenant


def _given(colors, logo_url, consent_model, texts) -> list[str]:
    named = {"colors": colors, "logoUrl": logo_url, "consentModel": consent_model, "texts": texts}
    return [name for name, value in named.items() if value is not KEEP]


def _colors(
    problems: Problems, current: Mapping[str, str], given: Mapping[str, str | None] | None
) -> dict[str, str]:
    if given is None:
        return {}
    merged = dict(current)
    for name, value in given.items():
        field = ("input", "colors", _camel(name))
        if value is None:
            merged.pop(name, None)
            continue
        color = palette.normalise(value)
        if color is None:
            problems.add(ErrorCode.INVALID_COLOR, f"{value!r} is not a #rrggbb colour", *field)
            return merged
        merged[name] = color
    full = {**palette.DEFAULTS, **merged}
    for foreground, background, minimum in palette.PAIRS:
        ratio = palette.contrast(full[foreground], full[background])
        if ratio < minimum:
            problems.add(
                ErrorCode.LOW_CONTRAST,
                f"{_camel(foreground)} on {_camel(background)} has a contrast of {ratio:.2f}:1;"
                f" WCAG 2.2 AA asks for {minimum}:1",
                "input",
                "colors",
                _camel(foreground),
            )
    return merged


def _logo_url(problems: Problems, value: str) -> str | None:
    """The logo's URL with its host in ASCII (IDNA). Its origin goes into the privacy
    center's CSP header, so the authority must be exactly host[:port]: a "port" such as
    `1;script-src *` would write directives there, and a Unicode host cannot be sent in
    a header at all. Whitespace and control characters are refused, not dropped unseen
    (as urlsplit does with tabs and line breaks)."""
    url = value.strip()
    # No usable authority (an unclosed bracket, a port past 65535): refused below.
    parts = sites.url_parts(url) or urlsplit("")
    host = validation.domain(Problems(), parts.hostname or "")
    port = parts.port
    authority = f"{parts.hostname}:{port}" if port is not None else parts.hostname
    ok = (
        parts.scheme == "https"
        and len(url) <= MAX_URL
        and not any(char <= " " or char == "\x7f" for char in url)
        and not parts.username
        and not parts.password
        and host is not None
        and parts.netloc.lower() == authority
        and not _ip_literal(parts.hostname or "")
    )
    if not ok:
        problems.add(
            ErrorCode.INVALID_URL,
            "the logo must be an https URL on a host name",
            "input",
            "logoUrl",
        )
        return None
    return urlunsplit(parts._replace(netloc=f"{host}:{port}" if port is not None else host))


def _ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _consent_model(problems: Problems, tenant: Tenant, model: ConsentModel | None) -> str | None:
    if model is None or model is ConsentModel.EXPLICIT:
        return None
    refused = implied_refused_by(tenant)
    for code in refused:
        problems.add(
            ErrorCode.IMPLIED_CONSENT_NOT_ALLOWED,
            f"under {code} use of a site cannot stand for consent "
            f"({JURISDICTIONS[code].implied_consent_source})",
            "input",
            "consentModel",
        )
    return None if refused else model.value


def _texts(problems: Problems, items: list[Text]) -> dict[str, dict[str, str]]:
    if len(items) > MAX_TEXTS:
        problems.add(ErrorCode.TOO_MANY, f"at most {MAX_TEXTS} texts", "input", "texts")
        return {}
    out: dict[str, dict[str, str]] = {}
    for index, item in enumerate(items):
        field = ("input", "texts", str(index))
        locale = validation.locale(problems, item.locale, *field, "locale")
        if not known_key(item.key):
            problems.add(ErrorCode.INVALID, f"no text is called {item.key!r}", *field, "key")
        text = validation.text(problems, item.text, *field, "text", max_length=MAX_TEXT)
        if locale and text and known_key(item.key):
            if item.key in out.setdefault(locale, {}):
                problems.add(
                    ErrorCode.DUPLICATE, f"{item.key!r} is given twice for {locale}", *field
                )
            out[locale][item.key] = text
    return out


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
