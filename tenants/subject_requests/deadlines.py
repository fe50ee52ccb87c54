"""A request's due date: the statute's or the tenant's promise, whichever comes first;
and when an extension is still allowed, and to when."""

from __future__ import annotations

from datetime import datetime

from tenants.errors import DomainError, ErrorCode
from tenants.rights import RequestType
from tenants.rules import JURISDICTIONS
from tenants.rules.deadlines import deadline_for, due_for_request, extend, period_end
from tenants.subject_requests.models import SubjectRequest
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
        establishment=tenant.main_establishment,
    )
    if result is None:  # the table gives every request type a figure; keep it that way
        raise LookupError(f"{jurisdiction} has no deadline for {request_type}")
    return result


def extended(*, tenant: Tenant, request: SubjectRequest, now: datetime) -> datetime:
    """The due date after an EXTEND decided at `now`, or a DomainError saying why not.

    GDPR Art. 12(3), UK GDPR Art. 12(3), 152-FZ Art. 20 and Cal. Civ. Code 1798.130(a)(2)
    let the period be extended only if the person is told within the first one, so an
    extension decided after the request fell due is refused (`EXTENSION_TOO_LATE`), and
    where the law allows none, `EXTENSION_NOT_ALLOWED`. The extended period counts from
    the statutory first period's own end, before rolling, and then rolls itself
    (shared/jurisdictions.md, "Extensions").
    """
    rules = JURISDICTIONS[request.jurisdiction]
    deadline = deadline_for(request_type=request.type, jurisdiction=rules)
    if deadline is None or deadline.extension is None or deadline.unit is None:
        raise DomainError.one(
            ErrorCode.EXTENSION_NOT_ALLOWED,
            f"{request.jurisdiction} law allows no extension",
            "action",
        )
    # `due_at` is the first period as this request runs it: the statute's end, rolled, or
    # the tenant's promise when shorter. Past it, the person can no longer be told in time.
    if now > request.due_at:
        raise DomainError.one(
            ErrorCode.EXTENSION_TOO_LATE,
            f"the first period ended {request.due_at.isoformat()}; an extension must be "
            f"decided and the person told within it ({deadline.source})",
            "action",
        )
    establishment = tenant.main_establishment
    end = period_end(
        start=request.received_at,
        deadline=deadline,
        jurisdiction=rules,
        establishment=establishment,
    )
    return extend(end=end, deadline=deadline, jurisdiction=rules, establishment=establishment)
