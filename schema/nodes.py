"""``node(id:)`` and ``nodes(ids:)``: any Node by its id (Relay Global Object Identification).

A lookup is the caller's tenant's and the caller's key's: an id of another tenant, of a
kind the key may not read, or of nothing at all reads as null, alike, so an answer never
tells whether an id exists elsewhere. Each kind of node is read the way its own query
reads it (same capability, same details loaded); one query per kind whatever the number
of ids, at most ``MAX_IDS`` of them (priced as a list of that many in ``schema.costs``).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import strawberry
from strawberry.types import Info

from schema.audit import AuditEntry
from schema.breaches import Breach
from schema.consent import receipt_context
from schema.errors import BadUserInput
from schema.node import Node
from schema.outbound import OutboxMessage
from schema.permissions import require
from schema.policies import PolicyVersion
from schema.receipts import ConsentReceipt
from schema.subject_requests import SubjectRequest
from tenants.breaches import service as breaches
from tenants.breaches.models import Breach as BreachRow
from tenants.consent.models import ConsentEvent
from tenants.outbound.models import OutboxMessage as MessageRow
from tenants.policies import service as policies
from tenants.policies.models import PolicyVersion as VersionRow
from tenants.scoping import owned
from tenants.subject_requests import service as subject_requests
from tenants.subject_requests.models import SubjectRequest as RequestRow
from tenants.tenancy.models import AuditEntry as AuditRow
from tenants.tenancy.models import Tenant
from tenants.tenancy.roles import Capability

MAX_IDS = 20

Shown = Callable[[Info, Tenant, list], Awaitable[list[Node]]]


@dataclass(frozen=True)
class Kind:
    model: type
    capability: Capability  # what the kind's own query asks of a key
    shown: Shown


async def _breaches(info: Info, tenant: Tenant, rows: list) -> list[Node]:
    await breaches.details(tenant=tenant, breaches=rows)
    return [Breach.of(row) for row in rows]


async def _requests(info: Info, tenant: Tenant, rows: list) -> list[Node]:
    await subject_requests.with_timelines(tenant=tenant, requests=rows)
    return [SubjectRequest.of(row) for row in rows]


async def _versions(info: Info, tenant: Tenant, rows: list) -> list[Node]:
    found = [await policies.find_version(tenant=tenant, version_id=str(r.id)) for r in rows]
    return [PolicyVersion.of(row) for row in found if row is not None]


async def _receipts(info: Info, tenant: Tenant, rows: list) -> list[Node]:
    context = await receipt_context(info, tenant, sorted({row.subject_id for row in rows}))
    return [ConsentReceipt.of(row, context) for row in rows]


async def _messages(info: Info, tenant: Tenant, rows: list) -> list[Node]:
    return [OutboxMessage.of(row) for row in rows]


async def _audit(info: Info, tenant: Tenant, rows: list) -> list[Node]:
    return [AuditEntry.of(row) for row in rows]


# Every type that implements Node, and how to read it (tests/test_clients_relay.py
# checks that none is missing).
KINDS: dict[str, Kind] = {
    "Breach": Kind(BreachRow, Capability.READ, _breaches),
    "SubjectRequest": Kind(RequestRow, Capability.READ, _requests),
    "PolicyVersion": Kind(VersionRow, Capability.READ, _versions),
    "ConsentReceipt": Kind(ConsentEvent, Capability.READ, _receipts),
    "OutboxMessage": Kind(MessageRow, Capability.MANAGE, _messages),
    "AuditEntry": Kind(AuditRow, Capability.READ_ADMIN, _audit),
}


async def find(info: Info, ids: Sequence[str]) -> list[Node | None]:
    """The nodes for ``ids``, in order; null where the caller's tenant has none it may read."""
    tenant, principal = require(info, Capability.READ)
    # An id that is no UUID is none of ours: null, like any other unknown id.
    wanted: dict[uuid.UUID, Node | None] = {u: None for u in map(_uuid, ids) if u is not None}
    missing = set(wanted)
    for kind in KINDS.values():
        if not missing or not principal.can(kind.capability):
            continue
        rows = await owned(kind.model, tenant=tenant).filter(id__in=list(missing))
        for node in await kind.shown(info, tenant, rows) if rows else []:
            wanted[uuid.UUID(str(node.id))] = node
        missing -= {row.id for row in rows}
    return [wanted.get(_uuid(given)) for given in ids]


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


@strawberry.type
class NodeQuery:
    @strawberry.field(description="The object with this id, or null (Relay).")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return (await find(info, [id]))[0]

    @strawberry.field(
        description=f"The objects with these ids, in order, null where none; at most {MAX_IDS} ids."
    )
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        if len(ids) > MAX_IDS:
            raise BadUserInput(f"at most {MAX_IDS} ids at once")
        return await find(info, ids)
