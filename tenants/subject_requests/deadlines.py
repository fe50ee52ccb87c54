"""A request's due date: the statute's or the tenant's promise, whichever comes first."""

from __future__ import annotations

from datetime import datetime

from tenants.rights import RequestType
from tenants.rules import JURISDICTIONS
from tenants.rules.deadlines import deadline_for, due_for_request, extend
from tenants.tenancy.models import Tenant


def promise_of(tenant: Tenant, request_type: RequestType) -> tuple[int, bool] | None:
    for promise in tenant.promises:
        if promise["request_type"] == request_type.value:
            return promise["days"], promise["working_days"]
    return None


def due(
    *, tenant: Tenant, request_type: RequestType, jurisdiction: str, received_at: datetime
) -> datetime:
    rules = JURISDICTIONS[jurisdiction]
    result = due_for_request(
        received_at=received_at,
        request_type=request_type,
        jurisdiction=rules,
        promise=promise_of(tenant, request_type),
    )
    if result is None:  # the table gives every request type a figure; keep it that way
        raise LookupError(f"{jurisdiction} has no deadline for {request_type}")
    return result


def extended(*, request_type: RequestType, jurisdiction: str, due_at: datetime) -> datetime | None:
    """The due date moved by the law's extension, or None where the law allows none."""
    rules = JURISDICTIONS[jurisdiction]
    deadline = deadline_for(request_type=request_type, jurisdiction=rules)
    if deadline is None or deadline.extension is None:
        return None
    return extend(due=due_at, deadline=deadline, jurisdiction=rules)
