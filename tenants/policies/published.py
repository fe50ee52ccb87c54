"""What a site's frontend fetches on every page view: public, cached, no database in the
steady state.

Three cache entries answer a request: the site's tenant, the tenant's index of published
versions per kind (under the tenant's generation, so a publish replaces it at once), and
the version's frozen content (immutable, so cached by id). "Current" is read off the
index against the clock, so a scheduled version takes over on time with no write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tenants import sites
from tenants.cache import Cache
from tenants.policies.kinds import PolicyKind, VersionStatus
from tenants.policies.locales import choose
from tenants.policies.models import PolicyTranslation, PolicyVersion
from tenants.tenancy.models import Tenant, TenantDomain

SITE_TTL = 3600
UNKNOWN_SITE_TTL = 30  # unknown sites are cached briefly, so probing them stays cheap
INDEX_TTL = 300  # also bounds how long another process may serve a version after an outage
VERSION_TTL = 86400
FRESH_FOR = timedelta(hours=1)


@dataclass(frozen=True)
class PublishedView:
    site: str
    kind: PolicyKind
    version: int
    locale: str
    available_locales: list[str]
    title: str
    body: str
    html: str
    content_hash: str
    effective_at: datetime
    published_at: datetime
    material: bool
    change_summary: str | None
    disclosures: dict[str, Any]
    # Until when this answer stays right: the next scheduled version, or an hour.
    fresh_until: datetime | None = None


def site_key(site: str) -> str:
    """The cache key that maps a site to a tenant: one per site, however it is spelled
    (``site`` is canonical, tenants.sites)."""
    return Cache.key("site", site)


def site_keys(*names: str) -> list[str]:
    """The keys of these sites (slugs or domains, any spelling): what a domain moving
    between tenants must forget. Every spelling maps to its one canonical key, so
    forgetting that key forgets them all."""
    found = {sites.canonical(name) for name in names}
    return [site_key(name) for name in sorted(name for name in found if name)]


async def published_policy(
    *,
    cache: Cache,
    site: str,
    kind: PolicyKind,
    now: datetime,
    locale: str | None = None,
    accept_language: str | None = None,
    version: int | None = None,
) -> PublishedView | None:
    """The version in force (or the one asked for) in the best locale; None says nothing
    about whether the site exists."""
    site = sites.canonical(site) or ""
    tenant_id = await tenant_of_site(cache=cache, site=site)
    if tenant_id is None:
        return None
    generation = await cache.generation(tenant_id)
    if generation is None:  # the cache cannot be trusted now: the database answers
        index = await _index(tenant_id, kind)
    else:
        index = await cache.get_or_load(
            Cache.key("policy-index", tenant_id, generation, kind.value),
            lambda: _index(tenant_id, kind),
            ttl=INDEX_TTL,
        )
    entry = _pick(index["versions"], version=version, now=now)
    if entry is None:
        return None
    number, version_id, _ = entry
    content = await version_content(cache=cache, version_id=version_id)
    texts = content["translations"]
    served = choose(
        requested=locale,
        accept_language=accept_language,
        available=texts,
        default=index["default_locale"],
    )
    text = texts[served]
    return PublishedView(
        site=site,
        kind=kind,
        version=number,
        locale=served,
        available_locales=list(texts),
        title=text["title"],
        body=text["body"],
        html=text["html"],
        content_hash=text["content_hash"],
        effective_at=datetime.fromisoformat(content["effective_at"]),
        published_at=datetime.fromisoformat(content["published_at"]),
        material=content["material"],
        change_summary=content["change_summary"],
        disclosures=content["disclosures"],
        fresh_until=_next_change(index["versions"], now) or now + FRESH_FOR,
    )


async def version_content(*, cache: Cache | None, version_id: str) -> dict[str, Any]:
    """A published version's frozen content (translations with their contentHash), cached
    by id: published versions never change. Never ask it for a version not yet public."""
    if cache is None:
        return await _content(version_id)
    return await cache.get_or_load(
        Cache.key("policy-version", version_id), lambda: _content(version_id), ttl=VERSION_TTL
    )


async def tenant_of_site(*, cache: Cache, site: str) -> str | None:
    """The tenant id a site (slug or domain, any spelling) belongs to, cached like the
    policy itself under the site's canonical name."""
    site = sites.canonical(site)
    if site is None:
        return None  # no spelling of any site: nothing to look up or to cache
    found = await cache.get_or_load(
        site_key(site),
        lambda: _tenant_of_site(site),
        ttl=lambda value: SITE_TTL if value["tenant"] else UNKNOWN_SITE_TTL,
    )
    return found["tenant"]


def _next_change(versions: list[list], now: datetime) -> datetime | None:
    upcoming = [datetime.fromisoformat(entry[2]) for entry in versions]
    return min((moment for moment in upcoming if moment > now), default=None)


def _pick(versions: list[list], *, version: int | None, now: datetime) -> list | None:
    # A scheduled version is private until its effectiveAt, even asked for by number:
    # it may still change the tenant's mind (and this answer is public and cached).
    in_force = [entry for entry in versions if datetime.fromisoformat(entry[2]) <= now]
    if version is not None:
        return next((entry for entry in in_force if entry[0] == version), None)
    return max(in_force, key=lambda entry: entry[0], default=None)


async def _tenant_of_site(site: str) -> dict[str, str | None]:
    # A name longer than its column names nobody (and Tortoise refuses to compare it).
    if len(site) <= _SLUG_LENGTH:
        tenant = await Tenant.filter(slug=site).only("id").first()
        if tenant is not None:
            return {"tenant": str(tenant.id)}
    candidates = [name for name in sites.spellings(site) if len(name) <= _DOMAIN_LENGTH]
    row = await TenantDomain.filter(domain__in=candidates).only("tenant_id").first()
    return {"tenant": str(row.tenant_id) if row else None}


_SLUG_LENGTH = Tenant._meta.fields_map["slug"].max_length
_DOMAIN_LENGTH = TenantDomain._meta.fields_map["domain"].max_length


async def _index(tenant_id: str, kind: PolicyKind) -> dict[str, Any]:
    tenant = await Tenant.get(id=tenant_id).only("default_locale")
    rows = (
        await PolicyVersion.filter(tenant_id=tenant_id, kind=kind, status=VersionStatus.PUBLISHED)
        .order_by("number")
        .values_list("number", "id", "effective_at")
    )
    return {
        "default_locale": tenant.default_locale,
        "versions": [[number, str(vid), effective.isoformat()] for number, vid, effective in rows],
    }


async def _content(version_id: str) -> dict[str, Any]:
    version = await PolicyVersion.get(id=version_id)
    rows = await PolicyTranslation.filter(version_id=version_id).order_by("locale")
    return {
        "effective_at": version.effective_at.isoformat(),
        "published_at": version.published_at.isoformat(),
        "material": version.material,
        "change_summary": version.change_summary,
        "disclosures": version.disclosures,
        "translations": {
            row.locale: {
                "title": row.title,
                "body": row.body,
                "html": row.html,
                "content_hash": row.content_hash,
            }
            for row in rows
        },
    }
