"""Drafting and publishing policy versions. The tenant is always explicit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.transactions import in_transaction

from tenants import offload, validation
from tenants.cache import Cache
from tenants.errors import DomainError, ErrorCode, Problems
from tenants.paging import Page, Window, keyset_page
from tenants.policies import disclosures as disclosure_rules
from tenants.policies import notices
from tenants.policies.controller import check_publishable
from tenants.policies.kinds import PolicyKind, VersionStatus
from tenants.policies.models import Policy, PolicyTranslation, PolicyVersion
from tenants.policies.render import content_hash, render_html
from tenants.scoping import owned, owned_one
from tenants.tenancy import audit
from tenants.tenancy.models import Tenant

MAX_BODY = 1_000_000  # characters: the longest real policies are a few tens of thousands
MAX_TITLE = 300
MAX_TRANSLATIONS = 100  # locales per version: the EU has 24 languages


@dataclass(frozen=True)
class Translation:
    locale: str
    title: str
    body: str


async def create_draft(
    *,
    tenant: Tenant,
    actor: str,
    kind: PolicyKind,
    translations: list[Translation],
    disclosures: dict[str, Any] | None = None,
    material: bool = False,
    change_summary: str | None = None,
) -> PolicyVersion:
    """A new DRAFT; without disclosures it starts from the version in force."""
    problems = Problems()
    texts = _translations(problems, translations)
    facts = (
        None
        if disclosures is None
        else disclosure_rules.clean(problems, disclosures, "input", "disclosures")
    )
    problems.raise_if_any()
    htmls = await _rendered(tenant, texts)
    async with in_transaction():
        policy, _ = await Policy.get_or_create(tenant_id=tenant.id, kind=kind)
        if facts is None:
            base = await current_version(tenant=tenant, kind=kind, now=datetime.now(UTC))
            facts = dict(base.disclosures) if base else dict(disclosure_rules.EMPTY)
        version = await PolicyVersion.create(
            tenant_id=tenant.id,
            policy_id=policy.id,
            kind=kind,
            material=material,
            change_summary=_summary(change_summary),
            disclosures=facts,
        )
        await _write_translations(tenant, version, texts, htmls)
        await audit.record(
            tenant=tenant,
            actor=actor,
            action="policy.draft.create",
            target=f"policy_version:{version.id}",
            details={"kind": kind.value, "locales": [t.locale for t in texts]},
        )
    return await _annotated(tenant, version)


async def update_draft(
    *,
    tenant: Tenant,
    actor: str,
    version_id: str,
    kind: PolicyKind,
    translations: list[Translation],
    disclosures: dict[str, Any] | None = None,
    material: bool = False,
    change_summary: str | None = None,
) -> PolicyVersion:
    """Replace a draft's content; disclosures left out stay as they were."""
    version = await _draft(tenant=tenant, version_id=version_id)
    problems = Problems()
    if kind != version.kind:
        problems.add(
            ErrorCode.KIND_MISMATCH, f"this draft is a {version.kind} policy", "input", "kind"
        )
    texts = _translations(problems, translations)
    facts = (
        None
        if disclosures is None
        else disclosure_rules.clean(problems, disclosures, "input", "disclosures")
    )
    problems.raise_if_any()
    htmls = await _rendered(tenant, texts)
    async with in_transaction():
        version.material = material
        version.change_summary = _summary(change_summary)
        if facts is not None:
            version.disclosures = facts
        await version.save()
        await owned(PolicyTranslation, tenant=tenant).filter(version_id=version.id).delete()
        await _write_translations(tenant, version, texts, htmls)
        await audit.record(
            tenant=tenant,
            actor=actor,
            action="policy.draft.update",
            target=f"policy_version:{version.id}",
            details={"locales": [t.locale for t in texts]},
        )
    return await _annotated(tenant, version)


async def publish(
    *,
    tenant: Tenant,
    actor: str,
    cache: Cache,
    version_id: str,
    effective_at: datetime | None = None,
) -> PolicyVersion:
    """Number and freeze a draft; it takes effect at ``effective_at`` (default: now)."""
    now = datetime.now(UTC)
    effective = now if effective_at is None else effective_at.astimezone(UTC)
    async with in_transaction():
        version = await _draft(tenant=tenant, version_id=version_id, lock=True)
        locales = (
            await owned(PolicyTranslation, tenant=tenant)
            .filter(version_id=version.id)
            .values_list("locale", flat=True)
        )
        if tenant.default_locale not in locales:
            raise DomainError.one(
                ErrorCode.MISSING_DEFAULT_TRANSLATION,
                f"publishing needs a translation in the default locale {tenant.default_locale!r}",
                "id",
            )
        check_publishable(version.disclosures, tenant)
        published = await _timeline(tenant=tenant, policy_id=version.policy_id)
        if published and effective < published[-1][1]:
            raise DomainError.one(
                ErrorCode.INVALID_EFFECTIVE_AT,
                f"version {published[-1][0]} takes effect at {published[-1][1].isoformat()}; "
                "a later version cannot take effect before it",
                "effectiveAt",
            )
        version.number = (published[-1][0] if published else 0) + 1
        version.status = VersionStatus.PUBLISHED
        version.published_at = now
        version.effective_at = effective
        await version.save()
        await audit.record(
            tenant=tenant,
            actor=actor,
            action="policy.publish",
            target=f"policy_version:{version.id}",
            details={
                "kind": version.kind,
                "version": version.number,
                "effective_at": effective.isoformat(),
            },
        )
        if effective <= now:  # a scheduled version is announced by the worker, on time
            await notices.announce(tenant=tenant, version=version, now=now)
    await cache.bump(tenant.id)
    return await _annotated(tenant, version)


async def find_version(*, tenant: Tenant, version_id: str) -> PolicyVersion | None:
    version = await owned_one(PolicyVersion, tenant=tenant, id=version_id)
    return await _annotated(tenant, version) if version else None


async def current_version(
    *, tenant: Tenant, kind: PolicyKind, now: datetime
) -> PolicyVersion | None:
    """The published version in force at ``now``: the highest number already effective."""
    versions = (
        await owned(PolicyVersion, tenant=tenant)
        .filter(kind=kind, status=VersionStatus.PUBLISHED)
        .order_by("-number")
    )
    for version in versions:
        if version.effective_at <= now:
            return await _annotated(tenant, version)
    return None


async def versions_page(*, tenant: Tenant, kind: PolicyKind, window: Window) -> Page[PolicyVersion]:
    """All versions of a kind, drafts included, newest first, translations loaded."""
    page = await keyset_page(
        owned(PolicyVersion, tenant=tenant).filter(kind=kind),
        order="created_at",
        window=window,
    )
    await annotate(tenant=tenant, versions=[version for _, version in page.items])
    return page


async def kind_exists(*, tenant: Tenant, kind: PolicyKind) -> bool:
    return await owned(Policy, tenant=tenant).filter(kind=kind).exists()


async def published_body(
    *, tenant: Tenant, kind: PolicyKind, number: int, locale: str
) -> str | None:
    row = (
        await owned(PolicyTranslation, tenant=tenant)
        .filter(version__kind=kind, version__number=number, locale=locale)
        .first()
    )
    return row.body if row else None


async def _timeline(*, tenant: Tenant, policy_id: uuid.UUID) -> list[tuple[int, datetime]]:
    rows = (
        await owned(PolicyVersion, tenant=tenant)
        .filter(policy_id=policy_id, status=VersionStatus.PUBLISHED)
        .order_by("number")
        .values_list("number", "effective_at")
    )
    return [(number, effective) for number, effective in rows]


async def _draft(*, tenant: Tenant, version_id: str, lock: bool = False) -> PolicyVersion:
    version = await owned_one(PolicyVersion, tenant=tenant, id=version_id, lock=lock)
    if version is None:
        raise DomainError.one(ErrorCode.NOT_FOUND, "no such policy version", "id")
    if version.status != VersionStatus.DRAFT:
        raise DomainError.one(
            ErrorCode.VERSION_FROZEN,
            f"version {version.number} is published and cannot change",
            "id",
        )
    return version


def _summary(value: str | None) -> str | None:
    cleaned = (value or "").strip()
    return cleaned[:5000] or None


def _translations(problems: Problems, translations: list[Translation]) -> list[Translation]:
    if not translations:
        problems.add(ErrorCode.REQUIRED, "give at least one translation", "input", "translations")
    if len(translations) > MAX_TRANSLATIONS:
        problems.add(
            ErrorCode.TOO_MANY,
            f"at most {MAX_TRANSLATIONS} translations",
            "input",
            "translations",
        )
        return []
    out = []
    for index, item in enumerate(translations):
        field = ("input", "translations", str(index))
        locale = validation.locale(problems, item.locale, *field, "locale")
        title = validation.text(problems, item.title, *field, "title", max_length=MAX_TITLE)
        if not item.body.strip():
            problems.add(ErrorCode.REQUIRED, "body must not be empty", *field, "body")
        elif len(item.body) > MAX_BODY:
            problems.add(ErrorCode.TOO_LONG, f"body is longer than {MAX_BODY}", *field, "body")
        # The body is kept byte for byte: it is the text people agreed to.
        out.append(Translation(locale=locale or item.locale, title=title or "", body=item.body))
    validation.unique(problems, [t.locale for t in out], "input", "translations")
    return out


async def _rendered(tenant: Tenant, texts: list[Translation]) -> list[str]:
    """Each body's HTML, rendered off the event loop (``tenants.offload``): Markdown of a
    hostile body (600 KB of ``![``) takes seconds. All of a draft's bodies together get
    ``offload.BUDGET`` CPU seconds; the body that runs out of it is TOO_COMPLEX."""
    remaining = offload.BUDGET
    htmls = []
    for index, text in enumerate(texts):
        try:
            html, spent = await offload.run_measured(
                render_html, text.body, lane=tenant.id, budget=remaining
            )
        except offload.TooSlow as error:
            raise DomainError.one(
                ErrorCode.TOO_COMPLEX,
                f"rendering this body as Markdown {error}; long runs of unclosed links, "
                "images or emphasis are the usual cause",
                "input",
                "translations",
                str(index),
                "body",
            ) from error
        remaining -= spent
        htmls.append(html)
    return htmls


async def _write_translations(
    tenant: Tenant, version: PolicyVersion, texts: list[Translation], htmls: list[str]
) -> None:
    await PolicyTranslation.bulk_create(
        [
            PolicyTranslation(
                tenant_id=tenant.id,
                version_id=version.id,
                locale=text.locale,
                title=text.title,
                body=text.body,
                html=html,
                content_hash=content_hash(text.body),
            )
            for text, html in zip(texts, htmls, strict=True)
        ]
    )


async def _annotated(tenant: Tenant, version: PolicyVersion) -> PolicyVersion:
    await annotate(tenant=tenant, versions=[version])
    return version


async def annotate(*, tenant: Tenant, versions: list[PolicyVersion]) -> None:
    """Attach ``loaded_translations`` and ``superseded_at`` in two queries, however many.

    ``superseded_at`` is when the next published version takes effect (None: not yet
    scheduled); readers compare it with the clock, so a scheduled switch needs no write.
    """
    if not versions:
        return
    rows = (
        await owned(PolicyTranslation, tenant=tenant)
        .filter(version_id__in=[v.id for v in versions])
        .order_by("locale")
    )
    by_version: dict[uuid.UUID, list[PolicyTranslation]] = {}
    for row in rows:
        by_version.setdefault(row.version_id, []).append(row)
    timeline = (
        await owned(PolicyVersion, tenant=tenant)
        .filter(policy_id__in={v.policy_id for v in versions}, status=VersionStatus.PUBLISHED)
        .values_list("policy_id", "number", "effective_at")
    )
    starts = {(policy_id, number): effective for policy_id, number, effective in timeline}
    for version in versions:
        version.loaded_translations = by_version.get(version.id, [])
        next_key = (version.policy_id, (version.number or 0) + 1)
        version.superseded_at = starts.get(next_key) if version.number else None
