"""Checkpoints of a tenant's consent ledger: recorded as walks reach a sequence, and pruned.

A checkpoint is the head hash at sequence N, known intact when recorded. What a serious
deployment keeps, and why:

- the newest, which ``verifyConsentLedger`` walks on from;
- every full one (``full``: a walk from genesis reached it), few by nature, one per
  verification job: the audit trail of the ledger proven whole;
- the newest of each earlier UTC day, so a later full walk that finds an edit can say
  between which days' checkpoints it happened.

Every other checkpoint is dropped when the next is recorded: each ``verifyConsentLedger``
call that walks records one, so a site asking every minute would add 1,440 rows a day
for nothing. Exported heads need no row here: ``expect`` is checked against the event at
its sequence itself, so a third party's copy outlives any pruning.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tenants.consent.models import ConsentCheckpoint
from tenants.scoping import owned
from tenants.tenancy.models import Tenant

__all__ = ["latest_checkpoint", "record_checkpoint"]


async def latest_checkpoint(*, tenant: Tenant) -> ConsentCheckpoint | None:
    return await owned(ConsentCheckpoint, tenant=tenant).order_by("-sequence").first()


async def record_checkpoint(
    *, tenant: Tenant, sequence: int, hash: str, now: datetime, full: bool
) -> ConsentCheckpoint:
    """The checkpoint at ``sequence``; two walks reaching it at once record it once. The
    day's earlier partial checkpoints before it are dropped (the module says why)."""
    mine = ConsentCheckpoint(
        tenant_id=tenant.id, sequence=sequence, hash=hash, recorded_at=now, full=full
    )
    await ConsentCheckpoint.bulk_create([mine], ignore_conflicts=True)
    found = await owned(ConsentCheckpoint, tenant=tenant).filter(sequence=sequence).first()
    if found is None:
        # A walk that got further at the same time pruned it already (a partial one of
        # today's): what it says, the links intact through ``sequence``, still holds.
        # Reading it back with get() made that race a 500 of verifyConsentLedger.
        return mine
    if full and not found.full:
        found.full = True
        await found.save(update_fields=["full"])
    await _prune(tenant, sequence, now)
    return found


async def _prune(tenant: Tenant, sequence: int, now: datetime) -> None:
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    await (
        owned(ConsentCheckpoint, tenant=tenant)
        .filter(full=False, sequence__lt=sequence, recorded_at__gte=day)
        .delete()
    )
