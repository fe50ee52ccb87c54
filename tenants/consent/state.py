"""Reading consent back: a subject's decisions as they hold now, their history, and an
event's decisions read by the same rule (what a receipt shows). The tenant is always
explicit."""

from __future__ import annotations

from datetime import UTC, datetime

from tenants import validation
from tenants.cache import Cache
from tenants.consent import decisions, lookup
from tenants.consent.decisions import Decision
from tenants.consent.methods import ConsentMethod
from tenants.consent.models import ConsentEvent
from tenants.paging import Page, Window, keyset_page
from tenants.policies.catalog import Catalog, catalog
from tenants.policies.kinds import PolicyKind
from tenants.scoping import owned
from tenants.tenancy.models import Tenant


async def consent_state(
    *, tenant: Tenant, subject_id: str, cache: Cache | None = None
) -> list[Decision]:
    """The subject's latest decision per purpose, as read now (``decisions``). DomainError
    (REQUIRED, TOO_LONG) for an id no subject can have (``validation.subject_key``)."""
    subject_id = validation.subject_key(subject_id, "subjectId")
    rows, (restricted, objected) = await lookup.state_of(tenant=tenant, subject_id=subject_id)
    if not rows:  # a restriction or objection still shows (decisions.standing_only)
        return await decisions.standing_only(tenant=tenant, subject_id=subject_id)
    versions = await catalog(tenant=tenant, cache=cache)
    found = decisions.Standing(restricted=restricted, objected=objected)
    now = datetime.now(UTC)
    return [
        decisions.read(
            purpose=row.purpose,
            granted=row.granted,
            decided_at=row.decided_at,
            kind=PolicyKind(row.policy_kind),
            version=row.policy_version,
            method=ConsentMethod(row.method),
            standing=found,
            versions=versions,
            now=now,
        )
        for row in rows
    ]


async def consent_history(*, tenant: Tenant, subject_id: str, window: Window) -> Page[ConsentEvent]:
    """The subject's events, oldest first, a page at a time; DomainError as consent_state."""
    subject_id = validation.subject_key(subject_id, "subjectId")
    query = owned(ConsentEvent, tenant=tenant).filter(subject_id=subject_id)
    return await keyset_page(query, order="sequence", window=window)


def decisions_of(
    event: ConsentEvent, versions: Catalog, standing: decisions.Standing
) -> list[Decision]:
    """An event's decisions as read now, by the same rule as consent_state (``decisions``):
    the receipt and the state always agree."""
    now = datetime.now(UTC)
    return [
        decisions.read(
            purpose=d["purpose"],
            granted=d["granted"],
            decided_at=event.occurred_at,
            kind=PolicyKind(event.policy_kind),
            version=event.policy_version,
            method=ConsentMethod(d.get("method", event.method)),
            standing=standing,
            versions=versions,
            now=now,
        )
        for d in event.decisions
    ]
