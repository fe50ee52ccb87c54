"""Full verifications of a tenant's ledger as background jobs.

A request queues one (at most one active per tenant: asking again returns the job under
way, whatever it expects);
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
from tortoise.transactions import in_transaction

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
    """A full verification of the ledger as it stands now: the one already queued or
    running for the tenant (whatever its ``expect``: at most one is active per tenant, so
    repeated asking cannot queue unbounded walks from genesis), or a new one, queued.

    The caller compares the job's ``expect_*`` with its own (``expects``) to tell a job
    that checks its checkpoint from one that does not."""
    # The tenant's row, locked for the transaction, orders racing requests: the second
    # sees the first's job (SQLite's transactions are serial already).
    async with in_transaction():
        await Tenant.filter(id=tenant.id).select_for_update().first()
        active = await _oldest_active(tenant)
        if active is not None:
            return active
        head = await ConsentChainHead.get_or_none(tenant_id=tenant.id)
        wanted = expect or (None, None)
        return await ConsentVerification.create(
            tenant_id=tenant.id,
            status=JobStatus.QUEUED,
            through=head.sequence if head is not None else 0,
            expect_sequence=wanted[0],
            expect_hash=wanted[1],
            requested_at=now,
        )


async def _oldest_active(tenant: Tenant) -> ConsentVerification | None:
    return await (
        owned(ConsentVerification, tenant=tenant)
        .filter(status__in=ACTIVE)
        .order_by("requested_at", "id")
        .first()
    )


def expects(job: ConsentVerification, expect: tuple[int, str] | None) -> bool:
    """Whether ``job`` checks ``expect`` (no ``expect``: any full walk will do)."""
    return expect is None or (job.expect_sequence, job.expect_hash) == tuple(expect)


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
