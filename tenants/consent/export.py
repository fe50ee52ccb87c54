"""The ledger as a stream of plain rows, a chunk at a time: memory stays flat."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from tenants.consent.models import ConsentEvent
from tenants.scoping import owned
from tenants.tenancy.models import Tenant

CHUNK = 1000
COLUMNS = (
    "sequence",
    "id",
    "subject_id",
    "policy_kind",
    "policy_version",
    "locale",
    "method",
    "decisions",
    "occurred_at",
    "recorded_at",
    "source_url",
    "ip",
    "user_agent",
    "client_event_id",
    "processing",
    "commitment",
    "previous_hash",
    "hash",
)


def _events(tenant: Tenant, since: datetime | None):
    query = owned(ConsentEvent, tenant=tenant)
    return query.filter(recorded_at__gte=since) if since else query


async def count(*, tenant: Tenant, since: datetime | None = None) -> int:
    return await _events(tenant, since).count()


async def rows(*, tenant: Tenant, since: datetime | None = None) -> AsyncIterator[dict[str, Any]]:
    """Every event in chain order as a dict of COLUMNS (times as ISO 8601)."""
    last = 0
    while True:
        chunk = (
            await _events(tenant, since)
            .filter(sequence__gt=last)
            .order_by("sequence")
            .limit(CHUNK)
            .values(*COLUMNS)
        )
        for row in chunk:
            row["id"] = str(row["id"])
            for name in ("occurred_at", "recorded_at"):
                row[name] = row[name].isoformat()
            yield row
        if len(chunk) < CHUNK:
            return
        last = chunk[-1]["sequence"]
