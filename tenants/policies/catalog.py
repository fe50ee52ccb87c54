"""What other domains need to know of a tenant's published versions, in two queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from tenants.cache import Cache
from tenants.chunks import fetch_in
from tenants.policies.kinds import PolicyKind, VersionStatus
from tenants.policies.models import PolicyTranslation, PolicyVersion
from tenants.scoping import owned
from tenants.tenancy.models import Tenant


@dataclass(frozen=True)
class PublishedFacts:
    id: Any
    kind: PolicyKind
    number: int
    effective_at: datetime
    material: bool
    locales: frozenset[str]
    disclosures: dict[str, Any]

    @cached_property  # asked once per decision of a batch of up to a thousand events
    def purposes(self) -> dict[str, dict[str, Any]]:
        return {p["key"]: p for p in self.disclosures.get("purposes", [])}


class Catalog:
    """A tenant's published versions by kind and number, loaded once per request."""

    def __init__(self, versions: list[PublishedFacts]) -> None:
        self._by_key = {(v.kind, v.number): v for v in versions}
        self._last_in_force: tuple[tuple[PolicyKind, datetime], PublishedFacts | None] | None = None

    def get(self, kind: PolicyKind, number: int) -> PublishedFacts | None:
        """Any published version, scheduled ones included: for what was already recorded."""
        return self._by_key.get((kind, number))

    def effective(self, kind: PolicyKind, number: int, now: datetime) -> PublishedFacts | None:
        """The version if it has taken effect by ``now``; a scheduled one is nobody's to
        see (or consent to) before its effectiveAt."""
        found = self._by_key.get((kind, number))
        return found if found is not None and found.effective_at <= now else None

    def in_force(self, kind: PolicyKind, now: datetime) -> PublishedFacts | None:
        # The last answer is remembered: a batch asks the same question for each event.
        key = (kind, now)
        if self._last_in_force is not None and self._last_in_force[0] == key:
            return self._last_in_force[1]
        found = max(
            (v for (k, _), v in self._by_key.items() if k == kind and v.effective_at <= now),
            key=lambda v: v.number,
            default=None,
        )
        self._last_in_force = (key, found)
        return found

    def latest_material(self, kind: PolicyKind, now: datetime) -> int:
        """The highest material version in force (0 when none): consent given under an
        earlier version must be asked again."""
        numbers = [
            v.number
            for (k, _), v in self._by_key.items()
            if k == kind and v.material and v.effective_at <= now
        ]
        return max(numbers, default=0)


async def catalog(*, tenant: Tenant, cache: Cache | None = None) -> Catalog:
    """The tenant's published versions. Given the cache, remembered in memory while the
    tenant's cache generation stands (publishing bumps it; versions are frozen once
    published, and which one is in force is worked out at each use)."""
    if cache is None:
        return await _load(tenant)
    return await cache.remember(tenant.id, "catalog", lambda: _load(tenant))


async def _load(tenant: Tenant) -> Catalog:
    versions = await owned(PolicyVersion, tenant=tenant).filter(status=VersionStatus.PUBLISHED)
    locales: dict[Any, set[str]] = {}
    rows = await fetch_in(
        [v.id for v in versions],
        lambda part: (
            owned(PolicyTranslation, tenant=tenant)
            .filter(version_id__in=part)
            .values_list("version_id", "locale")
        ),
    )
    for version_id, locale in rows:
        locales.setdefault(version_id, set()).add(locale)
    return Catalog(
        [
            PublishedFacts(
                id=v.id,
                kind=PolicyKind(v.kind),
                number=v.number,
                effective_at=v.effective_at,
                material=v.material,
                locales=frozenset(locales.get(v.id, ())),
                disclosures=v.disclosures,
            )
            for v in versions
        ]
    )
