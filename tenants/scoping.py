"""The one place that turns "this tenant" into a query: every tenant-owned read goes here."""

from __future__ import annotations

import uuid
from typing import TypeVar

from tortoise.queryset import QuerySet

from tenants.models import TenantOwned
from tenants.tenancy.models import Tenant

M = TypeVar("M", bound=TenantOwned)


def owned(model: type[M], *, tenant: Tenant) -> QuerySet[M]:
    """Rows of ``model`` that belong to ``tenant``; no other tenant's row can come back."""
    return model.filter(tenant_id=tenant.id)


async def owned_one(model: type[M], *, tenant: Tenant, id: object, lock: bool = False) -> M | None:
    """The tenant's row with this id; None when the id is not a UUID, so garbage finds nothing."""
    try:
        parsed = uuid.UUID(str(id))
    except ValueError:
        return None
    query = owned(model, tenant=tenant)
    if lock:
        query = query.select_for_update()
    return await query.get_or_none(id=parsed)
