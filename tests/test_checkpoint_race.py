"""Two verifyConsentLedger calls at once: the one that got further prunes the other's
checkpoint (a partial one of today's) between its insert and its read back. That read
was a get(): a 500 for the slower caller (seen with serve and worker side by side)."""

from __future__ import annotations

from datetime import UTC, datetime

from tenants.consent import checkpoints
from tenants.consent.models import ConsentCheckpoint
from tenants.tenancy.models import Tenant
from tests.factories import create_tenant


async def test_a_checkpoint_pruned_by_a_further_walk_at_once_is_still_answered(api, monkeypatch):
    await create_tenant(api, slug="acme")
    tenant = await Tenant.get(slug="acme")
    now = datetime.now(UTC)
    insert = ConsentCheckpoint.bulk_create

    async def then_a_further_walk(objects, **options):
        await insert(objects, **options)
        if objects[0].sequence == 100:  # the slower walk's row is in; the faster one ends
            await checkpoints.record_checkpoint(
                tenant=tenant, sequence=120, hash="b" * 64, now=now, full=False
            )

    monkeypatch.setattr(ConsentCheckpoint, "bulk_create", then_a_further_walk)
    slower = await checkpoints.record_checkpoint(
        tenant=tenant, sequence=100, hash="a" * 64, now=now, full=False
    )
    assert (slower.sequence, slower.hash) == (100, "a" * 64)
    latest = await checkpoints.latest_checkpoint(tenant=tenant)
    assert (latest.sequence, latest.hash) == (120, "b" * 64)
