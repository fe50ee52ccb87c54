"""Breaches: report, update, clocks per jurisdiction, notices to people."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry
from strawberry.types import Info

from schema.enums import BreachStatus, ClockKind, RiskLevel
from schema.errors import UserError, mutate, query
from schema.node import Node
from schema.pagination import Connection, connection, window
from schema.permissions import require
from schema.policies import TranslationInput
from schema.tell import tell
from tenants import live
from tenants.breaches import notices, service
from tenants.breaches.models import Breach as BreachRow
from tenants.tenancy.models import Tenant
from tenants.tenancy.roles import Capability


@strawberry.type
class BreachClock:
    jurisdiction: str
    kind: ClockKind
    started_at: datetime
    due_at: datetime | None
    satisfied_at: datetime | None
    reference: str | None
    overdue: bool


@strawberry.type
class BreachUpdate:
    at: datetime
    note: str
    actor: str | None


@strawberry.type
class Breach(Node):
    id: strawberry.ID
    title: str
    status: BreachStatus
    risk: RiskLevel
    detected_at: datetime
    aware_at: datetime
    nature: str | None
    data_categories: list[str]
    approx_subjects: int | None
    approx_records: int | None
    consequences: str | None
    measures: str | None
    jurisdictions: list[str]
    clocks: list[BreachClock]
    updates: list[BreachUpdate]
    notices_sent: int

    @classmethod
    def of(cls, row: BreachRow) -> Breach:
        now = datetime.now(UTC)
        return cls(
            id=strawberry.ID(str(row.id)),
            title=row.title,
            status=row.status,
            risk=row.risk,
            detected_at=row.detected_at,
            aware_at=row.aware_at,
            nature=row.nature,
            data_categories=list(row.data_categories),
            approx_subjects=row.approx_subjects,
            approx_records=row.approx_records,
            consequences=row.consequences,
            measures=row.measures,
            jurisdictions=list(row.jurisdictions),
            clocks=[
                BreachClock(
                    jurisdiction=c.jurisdiction,
                    kind=c.kind,
                    started_at=c.started_at,
                    due_at=c.due_at,
                    satisfied_at=c.satisfied_at,
                    reference=c.reference,
                    overdue=c.satisfied_at is None and c.due_at is not None and c.due_at < now,
                )
                for c in row.loaded_clocks
            ],
            updates=[BreachUpdate(at=u.at, note=u.note, actor=u.actor) for u in row.loaded_updates],
            notices_sent=row.notices_sent,
        )


async def shown(tenant: Tenant, row: BreachRow) -> Breach:
    await service.details(tenant=tenant, breaches=[row])
    return Breach.of(row)


@strawberry.input
class BreachInput:
    title: str
    risk: RiskLevel
    detected_at: datetime
    aware_at: datetime | None = strawberry.UNSET
    nature: str | None = strawberry.UNSET
    data_categories: list[str] | None = strawberry.UNSET
    approx_subjects: int | None = strawberry.UNSET
    approx_records: int | None = strawberry.UNSET
    consequences: str | None = strawberry.UNSET
    measures: str | None = strawberry.UNSET
    jurisdictions: list[str] | None = strawberry.UNSET


@strawberry.input
class BreachUpdateInput:
    status: BreachStatus | None = strawberry.UNSET
    risk: RiskLevel | None = strawberry.UNSET
    note: str | None = strawberry.UNSET
    measures: str | None = strawberry.UNSET
    approx_subjects: int | None = strawberry.UNSET
    approx_records: int | None = strawberry.UNSET


@strawberry.input
class BreachNoticeInput:
    subject_ids: list[str] | None = strawberry.UNSET
    all_affected: bool | None = strawberry.UNSET
    message: list[TranslationInput]


@strawberry.type
class BreachPayload:
    breach: Breach | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class BreachNoticePayload:
    breach: Breach | None = None
    queued: int = 0
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _given(value):
    return None if value is strawberry.UNSET else value


@strawberry.type
class BreachesQuery:
    @strawberry.field(description="Breaches with the soonest-due (so overdue) clocks first.")
    async def breaches(
        self,
        info: Info,
        status: BreachStatus | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Breach]:
        tenant, _ = require(info, Capability.READ)
        page = await query(
            service.page(tenant=tenant, status=status, window=window(first, after, last, before))
        )
        await service.details(tenant=tenant, breaches=[row for _, row in page.items])
        return connection(page, Breach.of)

    @strawberry.field
    async def breach(self, info: Info, id: strawberry.ID) -> Breach | None:
        tenant, _ = require(info, Capability.READ)
        row = await service.find(tenant=tenant, breach_id=id)
        return await shown(tenant, row) if row else None


@strawberry.type
class BreachesMutation:
    @strawberry.mutation
    async def report_breach(self, info: Info, input: BreachInput) -> BreachPayload:
        tenant, principal = require(info, Capability.EDIT)

        async def report() -> BreachPayload:
            row = await service.report(
                tenant=tenant,
                actor=principal.actor,
                report=service.Report(
                    title=input.title,
                    risk=input.risk,
                    detected_at=input.detected_at,
                    aware_at=_given(input.aware_at),
                    nature=_given(input.nature),
                    data_categories=_given(input.data_categories) or [],
                    approx_subjects=_given(input.approx_subjects),
                    approx_records=_given(input.approx_records),
                    consequences=_given(input.consequences),
                    measures=_given(input.measures),
                    jurisdictions=_given(input.jurisdictions),
                ),
            )
            await tell(info, tenant.id, live.BREACH, row.id)
            return BreachPayload(breach=await shown(tenant, row))

        return await mutate(BreachPayload, report)

    @strawberry.mutation
    async def update_breach(
        self, info: Info, id: strawberry.ID, input: BreachUpdateInput
    ) -> BreachPayload:
        tenant, principal = require(info, Capability.EDIT)

        async def update() -> BreachPayload:
            row = await service.update(
                tenant=tenant,
                actor=principal.actor,
                breach_id=id,
                change=service.Change(
                    status=_given(input.status),
                    risk=_given(input.risk),
                    note=_given(input.note),
                    measures=_given(input.measures),
                    approx_subjects=_given(input.approx_subjects),
                    approx_records=_given(input.approx_records),
                ),
            )
            await tell(info, tenant.id, live.BREACH, row.id)
            return BreachPayload(breach=await shown(tenant, row))

        return await mutate(BreachPayload, update)

    @strawberry.mutation
    async def record_authority_notification(
        self,
        info: Info,
        breach_id: strawberry.ID,
        jurisdiction: str,
        kind: ClockKind,
        notified_at: datetime,
        reference: str | None = None,
    ) -> BreachPayload:
        tenant, principal = require(info, Capability.EDIT)

        async def record() -> BreachPayload:
            row = await service.record_authority_notification(
                tenant=tenant,
                actor=principal.actor,
                breach_id=breach_id,
                jurisdiction=jurisdiction,
                kind=kind,
                notified_at=notified_at,
                reference=reference,
            )
            await tell(info, tenant.id, live.BREACH, row.id)
            return BreachPayload(breach=await shown(tenant, row))

        return await mutate(BreachPayload, record)

    @strawberry.mutation
    async def notify_breach_subjects(
        self, info: Info, breach_id: strawberry.ID, input: BreachNoticeInput
    ) -> BreachNoticePayload:
        tenant, principal = require(info, Capability.EDIT)

        async def notify() -> BreachNoticePayload:
            row, queued = await notices.notify(
                tenant=tenant,
                actor=principal.actor,
                breach_id=breach_id,
                messages=[
                    notices.Message(locale=m.locale, title=m.title, body=m.body)
                    for m in input.message
                ],
                subject_ids=_given(input.subject_ids),
                all_affected=bool(_given(input.all_affected)),
            )
            await tell(info, tenant.id, live.BREACH, row.id)
            return BreachNoticePayload(breach=await shown(tenant, row), queued=queued)

        return await mutate(BreachNoticePayload, notify)
