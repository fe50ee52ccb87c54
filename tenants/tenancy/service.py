"""Creating and changing tenants. Every function takes the tenant (or its slug) explicitly."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from tenants import sites, validation
from tenants.cache import Cache
from tenants.errors import DomainError, ErrorCode, Problems
from tenants.outbound import templates
from tenants.policies.kinds import PolicyKind
from tenants.policies.published import site_keys
from tenants.rights import RequestType
from tenants.rules import JURISDICTIONS
from tenants.tenancy import audit
from tenants.tenancy.keys import issue_key
from tenants.tenancy.models import Tenant, TenantDomain
from tenants.tenancy.roles import Role

MAX_PROMISE_DAYS = 366
ALPHA2 = re.compile(r"^[A-Z]{2}$")  # ISO 3166-1 alpha-2
MAX_DOMAINS = 100  # a tenant's sites; each is a bind parameter when claimed


class _Keep:
    """Marks an update argument the caller did not give: keep the stored value."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Any = _Keep()


@dataclass(frozen=True)
class EmailTemplate:
    """A tenant's own wording of one kind of e-mail in one locale."""

    kind: str
    locale: str
    subject: str
    text: str


@dataclass(frozen=True)
class Promise:
    request_type: RequestType
    days: int
    working_days: bool = False


@dataclass(frozen=True)
class PolicyUrl:
    """The page where the tenant shows its policy of one kind."""

    kind: PolicyKind
    url: str


async def create_tenant(
    *,
    actor: str,
    cache: Cache,
    slug: str,
    name: str,
    default_locale: str,
    jurisdictions: list[str],
    locales: list[str] | None = None,
    domains: list[str] | None = None,
    dpo_email: str | None = None,
    main_establishment: str | None = None,
) -> tuple[Tenant, str]:
    """Create the tenant and its first OWNER key; returns the key's secret, shown once."""
    problems = Problems()
    clean_slug = validation.slug(problems, slug.strip(), "input", "slug")
    clean_name = validation.text(problems, name, "input", "name", max_length=200)
    default, all_locales = _locales(problems, default_locale, locales)
    codes = _jurisdictions(problems, jurisdictions)
    hosts = _domains(problems, domains or [])
    email = dpo_email and validation.email(problems, dpo_email, "input", "dpoEmail")
    establishment = _establishment(problems, main_establishment)
    problems.raise_if_any()

    async with in_transaction():
        if await Tenant.filter(slug=clean_slug).exists():
            raise DomainError.one(ErrorCode.SLUG_TAKEN, f"{clean_slug!r} is taken", "input", "slug")
        try:
            tenant = await Tenant.create(
                slug=clean_slug,
                name=clean_name,
                default_locale=default,
                locales=all_locales,
                jurisdictions=codes,
                dpo_email=email,
                main_establishment=establishment,
            )
        except IntegrityError as exc:  # a concurrent create won the race
            raise DomainError.one(
                ErrorCode.SLUG_TAKEN, f"{clean_slug!r} is taken", "input", "slug"
            ) from exc
        await _claim_domains(tenant, hosts)
        key, secret = await issue_key(
            tenant=tenant, name="owner", role=Role.OWNER, publishable=False
        )
        await audit.record(
            tenant=tenant,
            actor=actor,
            action="tenant.create",
            target=f"tenant:{tenant.id}",
            details={"slug": tenant.slug, "owner_key": str(key.id)},
        )
    # The site may have been looked up (and cached as unknown) before it existed.
    await cache.forget(*site_keys(tenant.slug, *hosts))
    return tenant, secret


async def update_tenant(
    *,
    tenant: Tenant,
    actor: str,
    cache: Cache,
    name: str = KEEP,
    default_locale: str = KEEP,
    locales: list[str] = KEEP,
    jurisdictions: list[str] = KEEP,
    domains: list[str] = KEEP,
    dpo_email: str | None = KEEP,
    promises: list[Promise] = KEEP,
    mail_from: str | None = KEEP,
    notify_material_changes: bool = KEEP,
    email_templates: list[EmailTemplate] = KEEP,
    policy_urls: list[PolicyUrl] = KEEP,
    main_establishment: str | None = KEEP,
) -> Tenant:
    problems = Problems()
    changes: dict[str, Any] = {}
    if name is not KEEP:
        changes["name"] = validation.text(problems, name, "input", "name", max_length=200)
    if default_locale is not KEEP or locales is not KEEP:
        default, all_locales = _locales(
            problems,
            tenant.default_locale if default_locale is KEEP else default_locale,
            None if locales is KEEP else locales,
            keep=tenant.locales if locales is KEEP else None,
        )
        changes.update(default_locale=default, locales=all_locales)
    if jurisdictions is not KEEP:
        changes["jurisdictions"] = _jurisdictions(problems, jurisdictions)
    if dpo_email is not KEEP:
        changes["dpo_email"] = dpo_email and validation.email(
            problems, dpo_email, "input", "dpoEmail"
        )
    if promises is not KEEP:
        changes["promises"] = _promises(problems, promises)
    if mail_from is not KEEP:
        changes["mail_from"] = mail_from and validation.email(
            problems, mail_from, "input", "mailFrom"
        )
    if notify_material_changes is not KEEP:
        changes["notify_material_changes"] = bool(notify_material_changes)
    if email_templates is not KEEP:
        changes["email_templates"] = _templates(problems, email_templates or [])
    if policy_urls is not KEEP:
        changes["policy_urls"] = _policy_urls(problems, policy_urls or [])
    if main_establishment is not KEEP:
        changes["main_establishment"] = _establishment(problems, main_establishment)
    hosts = None if domains is KEEP else _domains(problems, domains or [])
    problems.raise_if_any()

    before = await domains_of(tenant=tenant)
    async with in_transaction():
        for field, value in changes.items():
            setattr(tenant, field, value)
        await tenant.save()
        if hosts is not None:
            await TenantDomain.filter(tenant_id=tenant.id).delete()
            await _claim_domains(tenant, hosts)
        await audit.record(
            tenant=tenant,
            actor=actor,
            action="tenant.update",
            target=f"tenant:{tenant.id}",
            details={"fields": sorted([*changes, *(["domains"] if hosts is not None else [])])},
        )
    # Public reads cache the site mapping and the tenant's locales: drop both.
    await cache.forget(*site_keys(tenant.slug, *before, *(hosts or [])))
    await cache.bump(tenant.id)
    return tenant


async def domains_of(*, tenant: Tenant, cache: Cache | None = None) -> list[str]:
    """The tenant's domains, sorted. Given the cache, remembered in memory while the
    tenant's cache generation stands (update_tenant bumps it)."""
    if cache is None:
        return list(await _domains_of(tenant))
    return list(await cache.remember(tenant.id, "domains", lambda: _domains_of(tenant)))


async def _domains_of(tenant: Tenant) -> tuple[str, ...]:
    return tuple(
        await TenantDomain.filter(tenant_id=tenant.id)
        .order_by("domain")
        .values_list("domain", flat=True)
    )


async def set_limits(*, tenant: Tenant, cache: Cache, plan: dict) -> Tenant:
    """The operator sets the tenant's plan (``Tenant.limits``: rates and query cost). The
    generation bump makes every server drop the tenant's keys it holds in memory, whose
    plan they carry (server.principals)."""
    tenant.limits = plan
    await tenant.save(update_fields=["limits"])
    await cache.bump(tenant.id)
    return tenant


async def tenant_by_slug(slug: str) -> Tenant | None:
    return await Tenant.get_or_none(slug=slug)


async def tenant_by_site(site: str) -> Tenant | None:
    """The tenant whose slug or one of whose domains is ``site``, however it is spelled
    (tenants.sites: ``www.``, IDNA, full-width and the like)."""
    name = sites.canonical(site)
    if name is None:
        return None
    tenant = await Tenant.get_or_none(slug=name)
    if tenant is None:
        row = (
            await TenantDomain.filter(domain__in=sites.spellings(name))
            .select_related("tenant")
            .first()
        )
        tenant = row.tenant if row else None
    return tenant


def _locales(
    problems: Problems,
    default_locale: str,
    locales: list[str] | None,
    keep: list[str] | None = None,
) -> tuple[str, list[str]]:
    """The default locale always comes first in the list; it is added when missing."""
    if default_locale is None:
        problems.add(ErrorCode.REQUIRED, "defaultLocale must not be null", "input", "defaultLocale")
        default = ""
    else:
        default = validation.locale(problems, default_locale, "input", "defaultLocale") or ""
    listed = locales if locales is not None else (keep or [])
    clean = [
        validation.locale(problems, tag, "input", "locales", str(i)) for i, tag in enumerate(listed)
    ]
    ordered = [default, *(tag for tag in clean if tag and tag != default)]
    validation.unique(problems, ordered, "input", "locales")
    return default, ordered


def _jurisdictions(problems: Problems, codes: list[str] | None) -> list[str]:
    codes = codes or []
    if not codes:
        problems.add(ErrorCode.REQUIRED, "name at least one jurisdiction", "input", "jurisdictions")
    clean = [code.strip().upper() for code in codes]
    for index, code in enumerate(clean):
        if code not in JURISDICTIONS:
            problems.add(
                ErrorCode.UNKNOWN_JURISDICTION,
                f"{code!r} is not one of {', '.join(JURISDICTIONS)}",
                "input",
                "jurisdictions",
                str(index),
            )
    validation.unique(problems, clean, "input", "jurisdictions")
    return clean


def _establishment(problems: Problems, code: str | None) -> str | None:
    """An EU member state (ISO 3166-1 alpha-2), whose calendar EU periods count in; None
    (or empty) for none. The list is the rule table's, `[EU.member_states]`."""
    clean = (code or "").strip().upper()
    if not clean:
        return None
    if not ALPHA2.match(clean):
        problems.add(
            ErrorCode.INVALID_COUNTRY,
            f"{code!r} is not an ISO 3166-1 alpha-2 code",
            "input",
            "mainEstablishment",
        )
    elif clean not in JURISDICTIONS["EU"].member_states:
        problems.add(
            ErrorCode.NOT_EU_MEMBER_STATE,
            f"{clean} is not an EU member state; give one of "
            f"{', '.join(sorted(JURISDICTIONS['EU'].member_states))}",
            "input",
            "mainEstablishment",
        )
    return clean


def _domains(problems: Problems, domains: list[str]) -> list[str]:
    if len(domains) > MAX_DOMAINS:
        problems.add(ErrorCode.TOO_MANY, f"at most {MAX_DOMAINS} domains", "input", "domains")
        return []
    clean = [
        validation.domain(problems, d, "input", "domains", str(i)) for i, d in enumerate(domains)
    ]
    hosts = [host for host in clean if host]
    validation.unique(problems, hosts, "input", "domains")
    return hosts


def _promises(problems: Problems, promises: list[Promise]) -> list[dict]:
    for index, promise in enumerate(promises):
        if not 1 <= promise.days <= MAX_PROMISE_DAYS:
            problems.add(
                ErrorCode.INVALID_PROMISE,
                f"days must be between 1 and {MAX_PROMISE_DAYS}",
                "input",
                "promises",
                str(index),
                "days",
            )
    validation.unique(problems, [p.request_type.value for p in promises], "input", "promises")
    return [
        {"request_type": p.request_type.value, "days": p.days, "working_days": p.working_days}
        for p in promises
    ]


async def _claim_domains(tenant: Tenant, hosts: list[str]) -> None:
    # A host and its "www." host are one site (tenants.sites): another tenant holding
    # either spelling holds the site.
    spellings = sorted({s for h in hosts for s in sites.spellings(sites.canonical(h) or h)})
    taken = (
        await TenantDomain.filter(domain__in=spellings)
        .exclude(tenant_id=tenant.id)
        .values_list("domain", flat=True)
    )
    if taken:
        raise DomainError.one(
            ErrorCode.DOMAIN_TAKEN,
            f"{', '.join(sorted(taken))} belongs to another tenant",
            "input",
            "domains",
        )
    try:
        await TenantDomain.bulk_create([TenantDomain(tenant_id=tenant.id, domain=h) for h in hosts])
    except IntegrityError as exc:  # a concurrent claim won the race
        raise DomainError.one(
            ErrorCode.DOMAIN_TAKEN, "a domain belongs to another tenant", "input", "domains"
        ) from exc


def _templates(problems: Problems, items: list[EmailTemplate]) -> dict:
    """{kind: {locale: {"subject", "text"}}}, each tried on a sample message first."""
    out: dict[str, dict[str, dict[str, str]]] = {}
    for index, item in enumerate(items):
        field = ("input", "emailTemplates", str(index))
        if item.kind not in templates.KINDS:
            problems.add(ErrorCode.INVALID, f"no e-mail of kind {item.kind!r}", *field, "kind")
            continue
        locale = validation.locale(problems, item.locale, *field, "locale")
        if locale:
            out.setdefault(item.kind, {})[locale] = {"subject": item.subject, "text": item.text}
    for kind, overrides in out.items():
        reason = templates.check_overrides(kind=kind, overrides=overrides)
        if reason:
            problems.add(ErrorCode.INVALID_TEMPLATE, reason, "input", "emailTemplates")
    return out


def _policy_urls(problems: Problems, given: list[PolicyUrl]) -> dict[str, str]:
    out: dict[str, str] = {}
    for index, item in enumerate(given):
        url = validation.http_url(problems, item.url, "input", "policyUrls", str(index), "url")
        if url:
            out[PolicyKind(item.kind).value] = url
    validation.unique(problems, [str(item.kind) for item in given], "input", "policyUrls")
    return out
