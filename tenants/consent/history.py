"""What a consent record needs beyond its own event, read once per request and only when
asked for: the subject's earlier decisions (a "no" after a "yes" is a withdrawal, not a
refusal), the hash of the exact notice text shown, the tenant's domains."""

from __future__ import annotations

from datetime import datetime

from tenants.cache import Cache
from tenants.consent.models import ConsentEvent
from tenants.policies.catalog import Catalog
from tenants.policies.kinds import PolicyKind
from tenants.policies.published import version_content
from tenants.scoping import owned
from tenants.tenancy import service as tenancy
from tenants.tenancy.models import Tenant

Earlier = list[tuple[int, datetime, list]]


class Lookups:
    """Memoised per request; a page of history asks for the same subject many times."""

    def __init__(self, *, tenant: Tenant, cache: Cache | None) -> None:
        self._tenant = tenant
        self._cache = cache
        self._events: dict[str, tuple[int, Earlier]] = {}
        self._contents: dict[str, dict] = {}
        self._domains: list[str] | None = None

    async def domains(self) -> list[str]:
        """The tenant's domains, sorted (the receipts' "collected on" sites). A receipt
        that shows neither document (a banner asks for its id) never reads them."""
        if self._domains is None:
            self._domains = await tenancy.domains_of(tenant=self._tenant, cache=self._cache)
        return self._domains

    async def earlier(self, event: ConsentEvent) -> Earlier:
        """The subject's events before ``event`` (sequence, occurred_at, decisions)."""
        held = self._events.get(event.subject_id)
        if held is None or held[0] < event.sequence:
            rows = (
                await owned(ConsentEvent, tenant=self._tenant)
                .filter(subject_id=event.subject_id, sequence__lt=event.sequence)
                .order_by("sequence")
                .values_list("sequence", "occurred_at", "decisions")
            )
            held = (event.sequence, list(rows))
            self._events[event.subject_id] = held
        return [row for row in held[1] if row[0] < event.sequence]

    async def content_hash(self, event: ConsentEvent, versions: Catalog) -> str | None:
        """SHA-256 of the text the person was shown: that version, in that locale."""
        version = versions.get(PolicyKind(event.policy_kind), event.policy_version)
        if version is None or event.locale is None:
            return None
        key = str(version.id)
        if key not in self._contents:
            self._contents[key] = await version_content(cache=self._cache, version_id=key)
        text = self._contents[key]["translations"].get(event.locale)
        return text["content_hash"] if text else None
