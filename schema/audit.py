"""The audit log, read by OWNER, ADMIN and AUDITOR keys."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from schema.errors import query
from schema.node import Node
from schema.pagination import Connection, connection, window
from schema.permissions import require
from tenants.tenancy import audit
from tenants.tenancy.models import AuditEntry as AuditEntryRow
from tenants.tenancy.roles import Capability


@strawberry.type
class AuditEntry(Node):
    id: strawberry.ID
    at: datetime
    actor: str
    action: str
    target: str | None
    details: JSON | None

    @classmethod
    def of(cls, row: AuditEntryRow) -> AuditEntry:
        return cls(
            id=strawberry.ID(str(row.id)),
            at=row.at,
            actor=row.actor,
            action=row.action,
            target=row.target,
            details=row.details,
        )


@strawberry.type
class AuditQuery:
    @strawberry.field
    async def audit_log(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[AuditEntry]:
        tenant, _ = require(info, Capability.READ_ADMIN)
        page = await query(audit.entries(tenant=tenant, window=window(first, after, last, before)))
        return connection(page, AuditEntry.of)
