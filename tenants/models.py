"""Shared model pieces: UUID keys, timestamps, and the tenant column every owned table has."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


# Base for every tenant-owned table: the tenant_id column is never optional. Services
# reach these rows only through tenants.scoping.owned, which filters by the tenant they
# were handed: the one place tenant isolation is enforced.
class TenantOwned(Model):
    id = fields.UUIDField(primary_key=True)
    tenant = fields.ForeignKeyField(
        "charter.Tenant", related_name=False, on_delete=fields.CASCADE, db_index=True
    )

    class Meta:
        abstract = True
