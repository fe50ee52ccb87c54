"""What every change to a request shares: loading it for the change, its timeline entry,
the webhook event for the tenant's systems, and its sealed address."""

from __future__ import annotations

from datetime import datetime

from tenants import crypto
from tenants.errors import DomainError, ErrorCode
from tenants.outbound import outbox
from tenants.scoping import owned_one
from tenants.subject_requests.models import RequestEvent, SubjectRequest
from tenants.tenancy.models import Tenant

EMAIL_PURPOSE = "request-email"


def email_of(request: SubjectRequest) -> str | None:
    return request.email and crypto.decrypt(
        request.email, purpose=EMAIL_PURPOSE, tenant_id=request.tenant_id, row_id=request.id
    )


async def load(*, tenant: Tenant, request_id: str, lock: bool = False) -> SubjectRequest:
    request = await owned_one(SubjectRequest, tenant=tenant, id=request_id, lock=lock)
    if request is None:
        raise DomainError.one(ErrorCode.NOT_FOUND, "no such subject request", "id")
    return request


async def log(request: SubjectRequest, *, actor: str, note: str | None, at: datetime) -> None:
    await RequestEvent.create(
        tenant_id=request.tenant_id,
        request_id=request.id,
        at=at,
        status=request.status,
        note=note,
        actor=actor,
    )


async def announce(tenant: Tenant, request: SubjectRequest, kind: str) -> None:
    """The tenant's systems hear of it; no personal data beyond the tenant's own subject id
    (and whether the request proved it is the requester's)."""
    await outbox.announce(
        tenant=tenant,
        kind=kind,
        payload={
            "id": str(request.id),
            "type": request.type,
            "status": request.status,
            "subject_id": request.subject_id,
            "identity_proof": request.identity_proof,
            "due_at": request.due_at.isoformat(),
        },
        subject_id=request.subject_id,
    )
