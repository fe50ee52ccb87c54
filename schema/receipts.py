"""Decisions and receipts as GraphQL shows them: consentState, recordConsent and
consentHistory all build them here, from the same rule (tenants/consent/decisions.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from schema.enums import ConsentMethod, PolicyKind
from schema.node import Node
from schema.pagination import PageInfo
from tenants.consent import decisions, receipts, state
from tenants.consent.history import Lookups
from tenants.consent.models import ConsentEvent
from tenants.consent.processing import ProcessingChange as _ProcessingChange
from tenants.policies.catalog import Catalog
from tenants.tenancy.models import Tenant

ProcessingChange = strawberry.enum(
    _ProcessingChange,
    name="ProcessingChange",
    description="What an event changed in how the subject's data may be processed.",
)


@strawberry.type
class ConsentDecision:
    purpose: str
    granted: bool
    decided_at: datetime
    policy_version: int
    method: ConsentMethod
    stale: bool = strawberry.field(
        description="Granted consent under a version a later MATERIAL version superseded: "
        "ask again. Never set on a refusal, nor on a purpose that needs no consent."
    )
    explicit: bool = strawberry.field(description="False for IMPLIED consent and GPC signals.")
    restricted: bool = strawberry.field(
        description="Processing of this subject is restricted (GDPR Art. 18): storage only, "
        "whatever `granted` says, until liftRestriction."
    )
    objected: bool = strawberry.field(
        description="The subject objected (GDPR Art. 21): no direct marketing, no processing "
        "on legitimate interests."
    )

    @classmethod
    def of(cls, decision: decisions.Decision) -> ConsentDecision:
        return cls(
            purpose=decision.purpose,
            granted=decision.granted,
            decided_at=decision.decided_at,
            policy_version=decision.policy_version,
            method=decision.method,
            stale=decision.stale,
            explicit=decision.explicit,
            restricted=decision.restricted,
            objected=decision.objected,
        )


@dataclass
class ReceiptContext:
    """What every receipt of one request shares, read once."""

    tenant: Tenant
    versions: Catalog
    standing: dict[str, decisions.Standing]
    lookups: Lookups


@strawberry.type
class ConsentReceipt(Node):
    id: strawberry.ID
    subject_id: str
    decisions: list[ConsentDecision]
    policy_kind: PolicyKind
    policy_version: int
    locale: str | None
    method: ConsentMethod
    occurred_at: datetime
    recorded_at: datetime
    sequence: int
    hash: str
    previous_hash: str | None
    processing: ProcessingChange | None = strawberry.field(
        description="Set on an event that changed the processing rather than decided a "
        "purpose: a restriction, its lifting, an objection."
    )
    event: strawberry.Private[ConsentEvent]
    context: strawberry.Private[ReceiptContext]

    @strawberry.field(description="Kantara Consent Receipt v1.1 document.")
    async def kantara(self) -> JSON:
        return receipts.kantara(
            event=self.event,
            tenant=self.context.tenant,
            versions=self.context.versions,
            domains=await self.context.lookups.domains(),
        )

    @strawberry.field(
        description="ISO/IEC TS 27560 consent record: lawful basis and state (given, refused, "
        "withdrawn) per purpose, the notice shown, retention, controller and authority."
    )
    async def iso27560(self, info: Info) -> JSON:
        context = self.context
        return receipts.iso_record(
            event=self.event,
            tenant=context.tenant,
            versions=context.versions,
            domains=await context.lookups.domains(),
            earlier=receipts.earlier_decisions(
                self.event, await context.lookups.earlier(self.event)
            ),
            content_hash=await context.lookups.content_hash(self.event, context.versions),
        )

    @classmethod
    def of(cls, event: ConsentEvent, context: ReceiptContext) -> ConsentReceipt:
        standing = context.standing.get(event.subject_id) or decisions.Standing()
        return cls(
            id=strawberry.ID(str(event.id)),
            subject_id=event.subject_id,
            decisions=[
                ConsentDecision.of(d) for d in state.decisions_of(event, context.versions, standing)
            ],
            policy_kind=event.policy_kind,
            policy_version=event.policy_version,
            locale=event.locale,
            method=event.method,
            occurred_at=event.occurred_at,
            recorded_at=event.recorded_at,
            sequence=event.sequence,
            hash=event.hash,
            previous_hash=event.previous_hash,
            processing=_ProcessingChange(event.processing) if event.processing else None,
            event=event,
            context=context,
        )


# The contract names the history's connection after events, not receipts.
@strawberry.type
class ConsentEventEdge:
    cursor: str
    node: ConsentReceipt


@strawberry.type
class ConsentEventConnection:
    edges: list[ConsentEventEdge]
    page_info: PageInfo
