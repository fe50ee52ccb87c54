"""What the worker announces when the clock says so, across every tenant: requests due
soon, breach clocks run out, scheduled policy versions taking effect, consent batches.

Each announcement is marked in the same transaction as its outbox message, so a run
that dies half way repeats nothing and loses nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from tenants.breaches.models import BreachClock
from tenants.consent.models import ConsentChainHead, ConsentEvent
from tenants.outbound import events, outbox
from tenants.policies.kinds import VersionStatus
from tenants.policies.models import PolicyVersion
from tenants.policies.notices import announce
from tenants.subject_requests.models import CLOSED, RequestStatus, SubjectRequest

DUE_SOON = timedelta(days=3)
BATCH = 200  # rows per kind per run: a backlog drains over runs, not in one long one
CONSENT_BATCH = 1000


async def due_soon(*, now: datetime) -> int:
    # Received requests only: the tenant hears of a request when it is received
    # (subject_request.created), and an unverified one has no clock running yet.
    rows = (
        await SubjectRequest.filter(due_soon_at__isnull=True, due_at__lte=now + DUE_SOON)
        .exclude(status__in=[*CLOSED, RequestStatus.UNVERIFIED])
        .select_related("tenant")
        .limit(BATCH)
    )
    for request in rows:
        async with in_transaction():
            await outbox.announce(
                tenant=request.tenant,
                kind=events.REQUEST_DUE_SOON,
                payload={
                    "id": str(request.id),
                    "type": request.type,
                    "status": request.status,
                    "due_at": request.due_at.isoformat(),
                },
            )
            await SubjectRequest.filter(id=request.id).update(due_soon_at=now)
    return len(rows)


async def overdue_clocks(*, now: datetime) -> int:
    rows = (
        await BreachClock.filter(overdue_at__isnull=True, satisfied_at__isnull=True, due_at__lt=now)
        .select_related("tenant")
        .limit(BATCH)
    )
    for clock in rows:
        async with in_transaction():
            await outbox.announce(
                tenant=clock.tenant,
                kind=events.BREACH_CLOCK_OVERDUE,
                payload={
                    "breach_id": str(clock.breach_id),
                    "jurisdiction": clock.jurisdiction,
                    "kind": clock.kind,
                    "due_at": clock.due_at.isoformat(),
                },
            )
            await BreachClock.filter(id=clock.id).update(overdue_at=now)
    return len(rows)


async def effective_policies(*, now: datetime) -> list[PolicyVersion]:
    """Versions that took effect since the last run: announced, and their material-change
    notices queued. Returns them so the caller can tell live subscribers."""
    rows = (
        await PolicyVersion.filter(
            status=VersionStatus.PUBLISHED, announced_at__isnull=True, effective_at__lte=now
        )
        .select_related("tenant")
        .order_by("effective_at")
        .limit(BATCH)
    )
    for version in rows:
        async with in_transaction():
            await announce(tenant=version.tenant, version=version, now=now)
    return rows


async def consent_batches() -> int:
    """One consent.recorded event per tenant and run, for the events since the last."""
    heads = await ConsentChainHead.all().select_related("tenant")
    sent = 0
    for head in heads:
        if head.sequence <= head.announced:
            continue
        targets = await outbox.subscribers(tenant=head.tenant, kind=events.CONSENT_RECORDED)
        upto = min(head.sequence, head.announced + CONSENT_BATCH)
        async with in_transaction():
            if targets:
                rows = (
                    await ConsentEvent.filter(
                        tenant_id=head.tenant_id, sequence__gt=head.announced, sequence__lte=upto
                    )
                    .order_by("sequence")
                    # processing: a restriction, its lifting or an objection, which the
                    # tenant's systems must act on as much as on a decision.
                    .values(
                        "id", "sequence", "subject_id", "decisions", "processing", "recorded_at"
                    )
                )
                payload = {
                    "from_sequence": head.announced + 1,
                    "to_sequence": upto,
                    "events": [
                        {**row, "id": str(row["id"]), "recorded_at": row["recorded_at"].isoformat()}
                        for row in rows
                    ],
                }
                await outbox.enqueue(
                    *outbox.events(
                        tenant=head.tenant,
                        kind=events.CONSENT_RECORDED,
                        payload=payload,
                        endpoints=targets,
                    )
                )
                sent += 1
            await ConsentChainHead.filter(id=head.id, announced=head.announced).update(
                announced=upto
            )
    return sent
