"""Reporting and working breaches. The tenant is always explicit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from tenants import taxonomy, validation
from tenants.breaches import clocks as rules
from tenants.breaches.kinds import NEXT_STATUSES, RISK_ORDER, BreachStatus, ClockKind, RiskLevel
from tenants.breaches.models import NO_CLOCK, Breach, BreachClock, BreachNotice, BreachUpdate
from tenants.errors import DomainError, ErrorCode, Problems
from tenants.outbound import events, outbox
from tenants.paging import Page, Window, keyset_page
from tenants.rules import JURISDICTIONS
from tenants.scoping import owned, owned_one
from tenants.tenancy import audit
from tenants.tenancy.models import Tenant

MAX_TEXT = 20_000
MAX_REFERENCE = 200  # an authority's case number, not a letter
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Report:
    title: str
    risk: RiskLevel
    detected_at: datetime
    aware_at: datetime | None = None
    nature: str | None = None
    data_categories: list[str] = field(default_factory=list)
    approx_subjects: int | None = None
    approx_records: int | None = None
    consequences: str | None = None
    measures: str | None = None
    jurisdictions: list[str] | None = None


async def report(*, tenant: Tenant, actor: str, report: Report) -> Breach:
    now = datetime.now(UTC)
    problems = Problems()
    title = validation.text(problems, report.title, "input", "title", max_length=300)
    aware = report.aware_at or report.detected_at
    if report.detected_at > now + CLOCK_SKEW:
        problems.add(ErrorCode.INVALID, "detectedAt is in the future", "input", "detectedAt")
    if report.aware_at is not None and not report.detected_at <= aware <= now + CLOCK_SKEW:
        problems.add(
            ErrorCode.INVALID, "awareAt must be between detectedAt and now", "input", "awareAt"
        )
    for key in taxonomy.unknown_categories(report.data_categories):
        index = report.data_categories.index(key)
        problems.add(
            ErrorCode.UNKNOWN_TAXONOMY_KEY,
            f"{key!r} is not a fideslang data category",
            "input",
            "dataCategories",
            str(index),
        )
    _counts(problems, report.approx_subjects, report.approx_records)
    codes = _jurisdictions(problems, report.jurisdictions, tenant)
    problems.raise_if_any()

    async with in_transaction():
        breach = await Breach.create(
            tenant_id=tenant.id,
            title=title,
            risk=report.risk,
            detected_at=report.detected_at,
            aware_at=aware,
            nature=_text(report.nature),
            data_categories=list(report.data_categories),
            approx_subjects=report.approx_subjects,
            approx_records=report.approx_records,
            consequences=_text(report.consequences),
            measures=_text(report.measures),
            jurisdictions=codes,
            next_due_at=NO_CLOCK,
        )
        await note(
            breach, actor=actor, at=now, text="breach reported", changes={"risk": report.risk}
        )
        await open_clocks(breach, tenant=tenant, actor=actor, now=now)
        await announce(tenant, breach, events.BREACH_REPORTED)
        await audit.record(
            tenant=tenant,
            actor=actor,
            action="breach.report",
            target=f"breach:{breach.id}",
            details={"risk": breach.risk, "jurisdictions": codes},
        )
    return breach


@dataclass(frozen=True)
class Change:
    status: BreachStatus | None = None
    risk: RiskLevel | None = None
    note: str | None = None
    measures: str | None = None
    approx_subjects: int | None = None
    approx_records: int | None = None


async def update(*, tenant: Tenant, actor: str, breach_id: str, change: Change) -> Breach:
    """Append an update; raising the risk opens the clocks it now needs, from awareness."""
    now = datetime.now(UTC)
    problems = Problems()
    _counts(problems, change.approx_subjects, change.approx_records)
    problems.raise_if_any()
    async with in_transaction():
        breach = await get(tenant=tenant, breach_id=breach_id, lock=True)
        changes: dict[str, Any] = {}
        if change.status is not None and change.status != breach.status:
            if change.status not in NEXT_STATUSES[BreachStatus(breach.status)]:
                raise DomainError.one(
                    ErrorCode.INVALID_TRANSITION,
                    f"a {breach.status} breach cannot become {change.status}",
                    "input",
                    "status",
                )
            changes["status"] = [breach.status, change.status]
            breach.status = change.status
        if change.risk is not None and change.risk != breach.risk:
            changes["risk"] = [breach.risk, change.risk]
            breach.risk = change.risk
        for name in ("measures", "approx_subjects", "approx_records"):
            value = getattr(change, name)
            if value is not None and value != getattr(breach, name):
                changes[name] = [getattr(breach, name), value]
                setattr(breach, name, _text(value) if isinstance(value, str) else value)
        remark = _text(change.note)
        if not changes and remark is None:
            raise DomainError.one(ErrorCode.REQUIRED, "say what changed, or add a note", "input")
        await breach.save()
        await note(breach, actor=actor, at=now, text=remark or "updated", changes=changes)
        if "risk" in changes or "approx_subjects" in changes:
            await open_clocks(breach, tenant=tenant, actor=actor, now=now)
        await announce(tenant, breach, events.BREACH_UPDATED)
        await audit.record(
            tenant=tenant,
            actor=actor,
            action="breach.update",
            target=f"breach:{breach.id}",
            details={"fields": sorted(changes)},
        )
    return breach


async def record_authority_notification(
    *,
    tenant: Tenant,
    actor: str,
    breach_id: str,
    jurisdiction: str,
    kind: ClockKind,
    notified_at: datetime,
    reference: str | None,
) -> Breach:
    now = datetime.now(UTC)
    if notified_at > now + CLOCK_SKEW:
        raise DomainError.one(ErrorCode.INVALID, "notifiedAt is in the future", "notifiedAt")
    if reference is not None and len(reference.strip()) > MAX_REFERENCE:
        raise DomainError.one(
            ErrorCode.TOO_LONG, f"reference is longer than {MAX_REFERENCE}", "reference"
        )
    code = jurisdiction.strip().upper()
    if code not in JURISDICTIONS:
        raise DomainError.one(
            ErrorCode.UNKNOWN_JURISDICTION,
            f"{jurisdiction[:20]!r} is not a known jurisdiction",
            "jurisdiction",
        )
    async with in_transaction():
        breach = await get(tenant=tenant, breach_id=breach_id, lock=True)
        clock = await owned(BreachClock, tenant=tenant).get_or_none(
            breach_id=breach.id, jurisdiction=code, kind=kind
        )
        if clock is None:
            raise DomainError.one(
                ErrorCode.NOT_FOUND, f"no {kind} clock runs under {jurisdiction}", "kind"
            )
        if clock.satisfied_at is not None:
            raise DomainError.one(
                ErrorCode.ALREADY_SATISFIED, "that notification is already recorded", "kind"
            )
        clock.satisfied_at = notified_at
        clock.reference = _text(reference)
        await clock.save()
        await note(
            breach,
            actor=actor,
            at=now,
            text=f"{jurisdiction} {kind} notification recorded",
            changes={"reference": clock.reference, "notified_at": notified_at.isoformat()},
        )
        await refresh_next_due(breach)
        await announce(tenant, breach, events.BREACH_UPDATED)
        await audit.record(
            tenant=tenant,
            actor=actor,
            action="breach.notify_authority",
            target=f"breach:{breach.id}",
            details={"jurisdiction": clock.jurisdiction, "kind": kind},
        )
    return breach


async def find(*, tenant: Tenant, breach_id: str) -> Breach | None:
    return await owned_one(Breach, tenant=tenant, id=breach_id)


async def page(*, tenant: Tenant, status: BreachStatus | None, window: Window) -> Page[Breach]:
    """Soonest-due clock first, so overdue breaches lead the list."""
    query = owned(Breach, tenant=tenant)
    if status is not None:
        query = query.filter(status=status)
    return await keyset_page(query, order="next_due_at", window=window, descending=False)


async def details(*, tenant: Tenant, breaches: list[Breach]) -> None:
    """Attach ``loaded_clocks`` and ``loaded_updates`` to each breach: two queries in all."""
    ids = [b.id for b in breaches]
    clocks = await owned(BreachClock, tenant=tenant).filter(breach_id__in=ids).order_by("due_at")
    updates = await owned(BreachUpdate, tenant=tenant).filter(breach_id__in=ids).order_by("seq")
    for breach in breaches:
        breach.loaded_clocks = [c for c in clocks if c.breach_id == breach.id]
        breach.loaded_updates = [u for u in updates if u.breach_id == breach.id]


async def running_clocks() -> list[BreachClock]:
    """Every open clock of every tenant, soonest first (the CLI's report)."""
    return (
        await BreachClock.filter(satisfied_at__isnull=True, due_at__isnull=False)
        .order_by("due_at")
        .select_related("breach", "tenant")
    )


async def refresh_next_due(breach: Breach) -> None:
    dues = await BreachClock.filter(
        breach_id=breach.id, satisfied_at__isnull=True, due_at__isnull=False
    ).values_list("due_at", flat=True)
    breach.next_due_at = min(dues, default=NO_CLOCK)
    await breach.save(update_fields=["next_due_at"])


async def open_clocks(breach: Breach, *, tenant: Tenant, actor: str, now: datetime) -> None:
    """Open every clock the breach needs now and has not opened; say why others stay shut.

    Called again when something a clock waits for happens: a higher risk, more people,
    the first notice to them (California's Attorney General: 15 days after residents are
    told, Cal. Civ. Code 1798.82(f))."""
    existing = {
        (c.jurisdiction, c.kind)
        for c in await BreachClock.filter(breach_id=breach.id).only("jurisdiction", "kind")
    }
    first_notice = (
        await BreachNotice.filter(breach_id=breach.id)
        .order_by("created_at")
        .first()
        .values_list("created_at", flat=True)
    )
    moments = rules.Moments(
        detected_at=breach.detected_at,
        aware_at=breach.aware_at,
        subjects_notified_at=first_notice,
    )
    for code in breach.jurisdictions:
        for plan in rules.plans(
            code=code,
            risk=RiskLevel(breach.risk),
            moments=moments,
            approx_subjects=breach.approx_subjects,
            establishment=tenant.main_establishment,
        ):
            if (plan.jurisdiction, plan.kind) in existing:
                continue
            if plan.opens:
                await BreachClock.create(
                    tenant_id=breach.tenant_id,
                    breach_id=breach.id,
                    jurisdiction=plan.jurisdiction,
                    kind=plan.kind,
                    started_at=plan.started_at,
                    due_at=plan.due_at,
                )
                due = plan.due_at.isoformat() if plan.due_at else "without undue delay"
                await note(
                    breach, actor=actor, at=now, text=f"{code} {plan.kind} clock opened, due {due}"
                )
            elif plan.started_at is not None and RISK_ORDER[RiskLevel(breach.risk)] < 2:
                # The decision not to notify is itself recorded, as GDPR Art. 33(5) asks.
                await note(breach, actor=actor, at=now, text=f"no clock: {plan.reason}")
    await refresh_next_due(breach)


async def note(
    breach: Breach, *, actor: str, at: datetime, text: str, changes: dict | None = None
) -> None:
    """Append to the breach's timeline (never edited, never deleted). Callers hold the
    breach's row lock, so the sequence cannot race."""
    last = await BreachUpdate.filter(breach_id=breach.id).order_by("-seq").first()
    await BreachUpdate.create(
        tenant_id=breach.tenant_id,
        breach_id=breach.id,
        seq=(last.seq if last else 0) + 1,
        at=at,
        note=text,
        actor=actor,
        changes=changes or {},
    )


async def get(*, tenant: Tenant, breach_id: str, lock: bool = False) -> Breach:
    breach = await owned_one(Breach, tenant=tenant, id=breach_id, lock=lock)
    if breach is None:
        raise DomainError.one(ErrorCode.NOT_FOUND, "no such breach", "id")
    return breach


def _text(value: str | None) -> str | None:
    cleaned = (value or "").strip()
    return cleaned[:MAX_TEXT] or None


def _counts(problems: Problems, subjects: int | None, records: int | None) -> None:
    for name, value in (("approxSubjects", subjects), ("approxRecords", records)):
        if value is not None and value < 0:
            problems.add(ErrorCode.INVALID, f"{name} cannot be negative", "input", name)


def _jurisdictions(problems: Problems, given: list[str] | None, tenant: Tenant) -> list[str]:
    codes = [code.strip().upper() for code in (given or tenant.jurisdictions)]
    for index, code in enumerate(codes):
        if code not in JURISDICTIONS:
            problems.add(
                ErrorCode.UNKNOWN_JURISDICTION,
                f"{code!r} is not a known jurisdiction",
                "input",
                "jurisdictions",
                str(index),
            )
    validation.unique(problems, codes, "input", "jurisdictions")
    return codes


async def announce(tenant: Tenant, breach: Breach, kind: str) -> None:
    await outbox.announce(
        tenant=tenant,
        kind=kind,
        payload={
            "id": str(breach.id),
            "title": breach.title,
            "status": breach.status,
            "risk": breach.risk,
            "next_due_at": None
            if breach.next_due_at == NO_CLOCK
            else breach.next_due_at.isoformat(),
        },
    )
