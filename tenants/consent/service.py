"""Recording consent and reading it back. The tenant is always explicit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.transactions import in_transaction

from tenants.cache import Cache
from tenants.consent import grouping, ledger, writes
from tenants.consent.intake import ConsentInput, Evidence, check
from tenants.consent.methods import NOT_EXPLICIT, ConsentMethod
from tenants.consent.models import ConsentEvent, ConsentState
from tenants.errors import DomainError, ErrorCode, Problem, Problems
from tenants.paging import Page, keyset_page
from tenants.policies.catalog import Catalog, catalog
from tenants.policies.kinds import PolicyKind
from tenants.scoping import owned
from tenants.subjects.contacts import save_contacts, sealed_contact
from tenants.subjects.models import SubjectFlags
from tenants.tenancy import audit
from tenants.tenancy.models import Tenant

MAX_BATCH = 1000


@dataclass(frozen=True)
class Decision:
    purpose: str
    granted: bool
    decided_at: datetime
    policy_kind: PolicyKind
    policy_version: int
    method: ConsentMethod
    stale: bool
    restricted: bool = False  # a completed RESTRICTION request limits all processing

    @property
    def explicit(self) -> bool:
        return self.method not in NOT_EXPLICIT


@dataclass(frozen=True)
class BatchResult:
    recorded: int
    duplicates: int
    problems: tuple[Problem, ...]


async def record_consent(
    *,
    tenant: Tenant,
    actor: str,
    item: ConsentInput,
    evidence: Evidence,
    cache: Cache | None,
    trusted: bool = False,
) -> tuple[ConsentEvent, Catalog]:
    """Record one decision set; the same clientEventId again returns the first event.
    ``trusted``: a secret key, whose e-mail addresses are verified contacts."""
    now = datetime.now(UTC)
    versions = await catalog(tenant=tenant, cache=cache)
    problems = Problems()
    entry, email = check(
        problems, item, "input", tenant=tenant, catalog=versions, evidence=evidence, now=now
    )
    problems.raise_if_any()

    async def write(items: list) -> list[ConsentEvent]:
        events, _ = await append(
            tenant=tenant, items=items, now=datetime.now(UTC), actor=actor, trusted=trusted
        )
        return events

    event = await grouping.submit((tenant.id, actor), (entry, email), write)
    return event, versions


async def record_consents(
    *,
    tenant: Tenant,
    actor: str,
    items: list[ConsentInput],
    evidence: Evidence,
    cache: Cache | None,
    trusted: bool = False,
) -> BatchResult:
    """Record up to MAX_BATCH decision sets in one transaction; bad ones are named by index
    and skipped, good ones land."""
    if len(items) > MAX_BATCH:
        raise DomainError.one(ErrorCode.TOO_MANY, f"at most {MAX_BATCH} events per call", "inputs")
    now = datetime.now(UTC)
    versions = await catalog(tenant=tenant, cache=cache)
    problems = Problems()
    valid = []
    for index, item in enumerate(items):
        entry, email = check(
            problems,
            item,
            "inputs",
            str(index),
            tenant=tenant,
            catalog=versions,
            evidence=evidence,
            now=now,
        )
        if entry is not None:
            valid.append((entry, email))
    events, duplicates = (
        await append(tenant=tenant, items=valid, now=now, actor=actor, trusted=trusted)
        if valid
        else ([], 0)
    )
    return BatchResult(
        recorded=len(events) - duplicates, duplicates=duplicates, problems=tuple(problems.items)
    )


async def append(
    *,
    tenant: Tenant,
    items: list[tuple[ledger.Entry, str | None]],
    now: datetime,
    actor: str,
    trusted: bool = False,
) -> tuple[list[ConsentEvent], int]:
    """Chain, insert and fold into state, all in one transaction; returns each item's event
    (the earlier one for a repeated clientEventId) and how many were repeats."""
    async with in_transaction():
        head = await ledger.locked_head(tenant=tenant)
        ids = [entry.client_event_id for entry, _ in items if entry.client_event_id]
        seen = (
            {
                event.client_event_id: event
                for event in await owned(ConsentEvent, tenant=tenant).filter(
                    client_event_id__in=ids
                )
            }
            if ids
            else {}
        )
        linker = ledger.Linker(tenant=tenant, head=head, now=now, count=len(items))
        events, fresh, contacts, duplicates = [], [], {}, 0
        for entry, email in items:
            if entry.client_event_id in seen:
                events.append(seen[entry.client_event_id])
                duplicates += 1
                continue
            event = linker.link(entry)
            if entry.client_event_id:
                seen[entry.client_event_id] = event
            events.append(event)
            fresh.append(event)
            if email:
                contacts[entry.subject_id] = sealed_contact(
                    tenant=tenant,
                    subject_id=entry.subject_id,
                    email=email,
                    locale=entry.locale,
                    verified=trusted,
                )
        if fresh:
            await writes.insert_events(fresh)
            await writes.fold_into_state(tenant_id=tenant.id, events=fresh)
            await head.save(update_fields=["sequence", "hash"])
            await save_contacts(list(contacts.values()))
            # One entry per call, not per event: the ledger itself is the per-event record,
            # and subject ids stay out of the audit log (erasure does not reach it).
            await audit.record(
                tenant=tenant,
                actor=actor,
                action="consent.record",
                target=f"consent_event:{fresh[0].id}" if len(fresh) == 1 else None,
                details={"events": len(fresh), "first_sequence": fresh[0].sequence},
            )
    return events, duplicates


async def consent_state(
    *, tenant: Tenant, subject_id: str, cache: Cache | None = None
) -> list[Decision]:
    rows = (
        await owned(ConsentState, tenant=tenant).filter(subject_id=subject_id).order_by("purpose")
    )
    versions = await catalog(tenant=tenant, cache=cache) if rows else None
    flags = (
        await owned(SubjectFlags, tenant=tenant).get_or_none(subject_id=subject_id)
        if rows
        else None
    )
    restricted = bool(flags and flags.restricted)
    now = datetime.now(UTC)
    return [
        Decision(
            purpose=row.purpose,
            granted=row.granted,
            decided_at=row.decided_at,
            policy_kind=PolicyKind(row.policy_kind),
            policy_version=row.policy_version,
            method=ConsentMethod(row.method),
            stale=row.policy_version < versions.latest_material(PolicyKind(row.policy_kind), now),
            restricted=restricted,
        )
        for row in rows
    ]


async def consent_history(
    *, tenant: Tenant, subject_id: str, first: int | None, after: str | None
) -> Page[ConsentEvent]:
    query = owned(ConsentEvent, tenant=tenant).filter(subject_id=subject_id)
    return await keyset_page(query, order="sequence", first=first, after=after)


def decisions_of(event: ConsentEvent, versions: Catalog) -> list[Decision]:
    """An event's decisions as read now (stale if a later material version is in force)."""
    latest = versions.latest_material(PolicyKind(event.policy_kind), datetime.now(UTC))
    return [
        Decision(
            purpose=d["purpose"],
            granted=d["granted"],
            decided_at=event.occurred_at,
            policy_kind=PolicyKind(event.policy_kind),
            policy_version=event.policy_version,
            method=ConsentMethod(d.get("method", event.method)),
            stale=event.policy_version < latest,
        )
        for d in event.decisions
    ]
