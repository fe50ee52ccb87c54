"""A policy's public history: every version that has taken effect, with its change summary.

Public like the version in force, and for the same reason (people read what they agreed
to, and what changed since). A version scheduled for later is not history yet: it stays
private until it takes effect. Kept in memory under the tenant's cache generation, which
every publish bumps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tenants.cache import Cache
from tenants.policies.kinds import PolicyKind, VersionStatus
from tenants.policies.models import PolicyVersion


@dataclass(frozen=True)
class Change:
    version: int
    effective_at: datetime
    material: bool
    change_summary: str | None


async def history(
    *, tenant_id: str, kind: PolicyKind, now: datetime, cache: Cache | None = None
) -> list[Change]:
    """Versions in effect by ``now``, newest first."""

    async def load() -> tuple[Change, ...]:
        rows = (
            await PolicyVersion.filter(
                tenant_id=tenant_id, kind=kind, status=VersionStatus.PUBLISHED
            )
            .order_by("-number")
            .values_list("number", "effective_at", "material", "change_summary")
        )
        return tuple(Change(*row) for row in rows)

    changes = await (cache.remember(tenant_id, f"history:{kind}", load) if cache else load())
    return [change for change in changes if change.effective_at <= now]
