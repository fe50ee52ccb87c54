"""Full verifications of a tenant's ledger as background jobs.

A request queues one (one at a time per tenant: asking again returns the job under way);
`charter worker` claims queued jobs with a lease and walks the chain from genesis
(``verification.walk_full``), saving its progress every second, so verifyConsentLedger's
caller can watch it through GraphQL. A worker that dies mid-walk stops renewing its
lease, and the next sweep of any worker takes the job up again from the start.
`charter consent verify` runs a job in its own process, with a progress bar.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from enum import StrEnum

from tortoise.expressions import Q

from tenants.consent import verification
from tenants.consent.models import ConsentChainHead, ConsentVerification
from tenants.scoping import owned, owned_one
from tenants.tenancy.models import Tenant

LEASE = timedelta(seconds=60)
SAVE_EVERY = 1.0  # seconds between two saves of a job's progress


class JobStatus(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    PASSED = "PASSED"
    FAILED = "FAILED"


ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)


async def request(
    *, tenant: Tenant, now: datetime, expect: tuple[int, str] | None = None
) -> ConsentVerification:
    """A full verification of the ledger as it stands now: the one already under way with
    the same ``expect``, or a new one, queued."""
    active = await (
        owned(ConsentVerification, tenant=tenant)
        .filter(status__in=ACTIVE)
        .order_by("requested_at")
        .first()
    )
    wanted = expect or (None, None)
    if active is not None and (active.expect_sequence, active.expect_hash) == wanted:
        return active
    head = await ConsentChainHead.get_or_none(tenant_id=tenant.id)
    return await ConsentVerification.create(
        tenant_id=tenant.id,
        status=JobStatus.QUEUED,
        through=head.sequence if head is not None else 0,
        expect_sequence=wanted[0],
        expect_hash=wanted[1],
        requested_at=now,
    )


async def claim(job: ConsentVerification, *, now: datetime) -> bool:
    """Take ``job`` for this process, unless another holds a live lease on it."""
    free = Q(status=JobStatus.QUEUED) | Q(status=JobStatus.RUNNING, claimed_until__lt=now)
    taken = await ConsentVerification.filter(free, id=job.id).update(
        status=JobStatus.RUNNING, claimed_until=now + LEASE, started_at=now, checked=0
    )
    return taken == 1


async def claim_next(*, now: datetime) -> ConsentVerification | None:
    """The oldest job waiting (or abandoned by a dead worker), claimed; None if none."""
    waiting = Q(status=JobStatus.QUEUED) | Q(status=JobStatus.RUNNING, claimed_until__lt=now)
    for job in await ConsentVerification.filter(waiting).order_by("requested_at").limit(5):
        if await claim(job, now=now):
            return await ConsentVerification.get(id=job.id)
    return None


async def run(job: ConsentVerification, *, clock, on_progress=None) -> ConsentVerification:
    """Walk the chain for a claimed ``job`` and record how it ended. ``clock()`` gives the
    time now; ``on_progress(sequence)`` is called after every chunk (a progress bar)."""
    tenant = await Tenant.get(id=job.tenant_id)
    saved_at = time.monotonic()

    async def progress(sequence: int) -> None:
        nonlocal saved_at
        if on_progress is not None:
            on_progress(sequence)
        if time.monotonic() - saved_at >= SAVE_EVERY:
            saved_at = time.monotonic()
            job.checked, job.claimed_until = sequence, clock() + LEASE
            await job.save(update_fields=["checked", "claimed_until"])

    expect = (job.expect_sequence, job.expect_hash) if job.expect_hash else None
    outcome = await verification.walk_full(
        tenant=tenant, through=job.through, now=clock(), expect=expect, progress=progress
    )
    job.status = JobStatus.PASSED if outcome.ok else JobStatus.FAILED
    job.checked = outcome.through
    job.first_broken_id = outcome.first_broken_id
    job.reason = outcome.reason
    job.finished_at = clock()
    job.claimed_until = None
    await job.save()
    return job


async def find(*, tenant: Tenant, id: object) -> ConsentVerification | None:
    return await owned_one(ConsentVerification, tenant=tenant, id=id)
