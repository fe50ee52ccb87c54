"""The audit log: one entry per successful change, written in the change's own transaction."""

from __future__ import annotations

from typing import Any

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


async def entries(*, tenant: Tenant, window: Window) -> Page[AuditEntry]:
    """Newest first."""
    return await keyset_page(owned(AuditEntry, tenant=tenant), order="at", window=window)
