"""The audit log: one entry per successful change, written in the change's own transaction."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from tenants.paging import Page, Window, keyset_page
from tenants.scoping import owned
from tenants.tenancy.models import AuditEntry, Tenant


async def record(
    *,
    tenant: Tenant,
    actor: str,
    action: str,
    target: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Call inside the transaction that makes the change, so both land or neither does.

    ``details`` must never carry secrets: callers pass names and ids, not keys or tokens.
    """
    return await AuditEntry.create(
        tenant_id=tenant.id, actor=actor, action=action, target=target, details=details or {}
    )


# An entry as the columns of a statement that writes it with other rows (the consent
# ledger's one-statement write on PostgreSQL, ``writes.append_rows``): what ``record``
# leaves to the ORM (the id, the time, the JSON of the details) is done by ``values``.
COLUMNS = ("id", "tenant_id", "at", "actor", "action", "target", "details")
TYPES = ("uuid", "uuid", "timestamptz", "text", "text", "text", "jsonb")


def values(
    *,
    tenant: Tenant,
    actor: str,
    action: str,
    target: str | None = None,
    details: dict[str, Any] | None = None,
) -> tuple[UUID, UUID, datetime, str, str, str | None, str]:
    """``record``'s entry as values in COLUMNS order (details as JSON text), for a caller
    that writes it in its own statement of the change's transaction."""
    text = json.dumps(details or {}, separators=(",", ":"))
    return (uuid4(), tenant.id, datetime.now(UTC), actor, action, target, text)


async def entries(*, tenant: Tenant, window: Window) -> Page[AuditEntry]:
    """Newest first."""
    return await keyset_page(owned(AuditEntry, tenant=tenant), order="at", window=window)
