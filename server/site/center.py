"""The privacy center page: the policy in force in the visitor's language with its
history, the visitor's own consent choices (from the banner's record), and a form for
each right the tenant's jurisdictions grant. Server-rendered; nothing needs JavaScript."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from server.site import csrf, record
from server.site.pages import Page, render
from server.site.visits import Visit, visit
from tenants.branding.categories import Category, group
from tenants.branding.rights import rights_offered
from tenants.branding.service import branding_of
from tenants.branding.texts import texts_for
from tenants.consent.intake import gpc_applies
from tenants.policies.catalog import catalog
from tenants.policies.history import history
from tenants.policies.kinds import PolicyKind
from tenants.policies.locales import negotiate
from tenants.policies.published import PublishedView, published_policy
from tenants.rules import JURISDICTIONS
from tenants.rules.calendar import calendar_for
from tenants.validation import whole_number

KIND = PolicyKind.PRIVACY


@dataclass(frozen=True)
class Context:
    """A page and what the forms on it act on."""

    page: Page
    current: PublishedView | None  # the version in force, in the visitor's language
    csrf_value: str
    csrf_new: bool


async def context(request: Request, found: Visit, lang: str | None) -> Context:
    cache = request.app.state.cache
    tenant = found.tenant
    current = await published_policy(
        cache=cache,
        site=found.site,
        kind=KIND,
        now=datetime.now(UTC),
        locale=lang,
        accept_language=request.headers.get("accept-language"),
    )
    locale = (
        current.locale
        if current
        else negotiate(
            requested=lang,
            accept_language=request.headers.get("accept-language"),
            available=list(tenant.locales),
            default=tenant.default_locale,
        )
    )
    branding = branding_of(tenant)
    first = JURISDICTIONS.get(tenant.jurisdictions[0]) if tenant.jurisdictions else None
    page = Page(
        tenant=tenant,
        place=found.place,
        locale=locale,
        texts=texts_for(locale, branding.texts),
        languages=list(current.available_locales if current else tenant.locales),
        colors=branding.colors,
        logo_url=branding.logo_url,
        timezone=calendar_for(first, tenant.main_establishment).zone.key if first else "UTC",
        controller=(current.disclosures.get("controller") if current else None),
    )
    value, new = csrf.visitor_value(request)
    return Context(page=page, current=current, csrf_value=value, csrf_new=new)


def finish(response: Response, ctx: Context, found: Visit) -> Response:
    """The headers every page answer carries: the rate limit's and the form cookie."""
    response.headers.update(found.charged.headers)
    if ctx.csrf_new:
        csrf.remember(
            response, ctx.csrf_value, path=found.place.base + "/", secure=found.place.secure
        )
    return response


async def page(request: Request) -> Response:
    found = await visit(request)
    if not isinstance(found, Visit):
        return found
    ctx = await context(request, found, request.query_params.get("lang"))
    return await show(
        request,
        found,
        ctx,
        version=whole_number(request.query_params.get("version")),
        saved=request.query_params.get("saved") == "1",
    )


async def show(
    request: Request,
    found: Visit,
    ctx: Context,
    *,
    version: int | None = None,
    saved: bool = False,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    """The center page, with ``errors`` ({right or "choices": code}) by its forms."""
    cache = request.app.state.cache
    now = datetime.now(UTC)
    shown = ctx.current
    if ctx.current and version is not None and version != ctx.current.version:
        older = await published_policy(
            cache=cache, site=found.site, kind=KIND, now=now, locale=ctx.page.locale,
            version=version,
        )  # fmt: skip
        # A scheduled version is not history yet: it stays private until it takes effect.
        if older is not None and older.effective_at <= now:
            shown = older
    changes = await history(tenant_id=str(found.tenant.id), kind=KIND, now=now, cache=cache)
    categories = (
        group(ctx.current.disclosures.get("purposes") or [], ctx.page.texts)
        if (ctx.current)
        else []
    )
    mine = record.read(request)
    values_out: dict[str, Any] = {
        "policy": shown,
        "older": shown is not None and ctx.current is not None and shown is not ctx.current,
        "history": changes,
        "categories": categories,
        "record": mine,
        "granted": await _granted(found, mine, now, cache),
        "gpc_refused": _gpc_refused(request, found, categories),
        "rights": [
            right.value
            for right in rights_offered(
                found.tenant, (ctx.current.disclosures.get("rights") or []) if ctx.current else ()
            )
        ],
        "csrf": csrf.token(request, site=found.site, value=ctx.csrf_value),
        "consent_version": ctx.current.version if ctx.current else "",
        "consent_locale": ctx.current.locale if ctx.current else "",
        "event": csrf.event_id(
            request,
            site=found.site,
            value=ctx.csrf_value,
            state=f"{ctx.current.version if ctx.current else ''}:{mine.receipt if mine else ''}",
        ),
        "saved": saved,
        "errors": errors or {},
        "values": values or {},
    }
    response = render(request, ctx.page, "center.html", status=status, **values_out)
    return finish(response, ctx, found)


async def _granted(found: Visit, mine: record.Record | None, now: datetime, cache) -> set[str]:
    """What the visitor's record grants, unless a material version made it stale."""
    if mine is None or not mine.chosen:
        return set()
    versions = await catalog(tenant=found.tenant, cache=cache)
    if mine.version < versions.latest_material(KIND, now):
        return set()
    return set(mine.granted)


def _gpc_refused(request: Request, found: Visit, categories: list[Category]) -> set[str]:
    if request.headers.get("sec-gpc", "").strip() != "1" or not gpc_applies(found.tenant):
        return set()
    return {p.key for c in categories for p in c.purposes if p.gpc_opt_out}
