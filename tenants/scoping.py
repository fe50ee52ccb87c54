"""The one place that turns "this tenant" into a query: every tenant-owned read goes here."""

from __future__ import annotations

from typing import TypeVar

from tortoise.queryset import QuerySet

from tenants.models import TenantOwned
from tenants.tenancy.models import Tenant

M = TypeVar("M", bound=TenantOwned)


def owned(model: type[M], *, tenant: Tenant) -> QuerySet[M]:
    """Rows of ``model`` that belong to ``tenant``; no other tenant's row can come back."""
    return model.filter(tenant_id=tenant.id)
