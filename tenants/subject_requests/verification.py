"""Proving a request: the e-mail code that makes it received (the statutory clock starts),
and staff vouching for the requester's identity (tenants.subject_requests.identity)."""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.transactions import in_transaction

from tenants.errors import DomainError, ErrorCode
from tenants.outbound import events
from tenants.subject_requests import blocking, deadlines, identity, tokens
from tenants.subject_requests.models import CLOSED, IdentityProof, RequestStatus, SubjectRequest
from tenants.subject_requests.records import announce as _announce
from tenants.subject_requests.records import email_of
from tenants.subject_requests.records import load as _find
from tenants.subject_requests.records import log as _log
from tenants.tenancy import audit
from tenants.tenancy.models import Tenant


async def verify(*, tenant: Tenant, actor: str, request_id: str, token: str) -> SubjectRequest:
    """Check the token; the statutory clock starts now, at receipt."""
    now = datetime.now(UTC)
    async with in_transaction():
        request = await _find(tenant=tenant, request_id=request_id, lock=True)
        if request.status != RequestStatus.UNVERIFIED:
            raise DomainError.one(
                ErrorCode.INVALID_TRANSITION, f"the request is {request.status}", "id"
            )
        if request.token_attempts >= tokens.MAX_ATTEMPTS:
            raise DomainError.one(
                ErrorCode.TOKEN_LOCKED, "too many wrong tokens; submit a new request", "token"
            )
        if request.token_expires_at is None or request.token_expires_at < now:
            raise DomainError.one(
                ErrorCode.TOKEN_EXPIRED, "the token has expired; submit a new request", "token"
            )
        if tokens.digest(token) != request.token_hash:
            request.token_attempts += 1
            await request.save(update_fields=["token_attempts"])
            left = tokens.MAX_ATTEMPTS - request.token_attempts
            # Raised after the commit below, so the failed try is counted for good.
            failure = DomainError.one(
                ErrorCode.INVALID_TOKEN, f"wrong token; {left} tries left", "token"
            )
        else:
            failure = None
            _receive(tenant, request, now)
            request.identity_proof = await identity.on_verification(
                tenant=tenant, request=request, email=email_of(request)
            )
            await request.save()
            proof = identity.describe(
                request.identity_proof, names_subject=bool(request.subject_id)
            )
            proof += _blocked(
                await blocking.restrict_covered(
                    tenant=tenant, actor=actor, request=request, now=now
                )
            )
            await _log(
                request, actor=actor, note=f"e-mail verified; the clock starts; {proof}", at=now
            )
            # Created, for the tenant's systems, when it is received: an unverified request
            # may be anyone's noise, and the statutory clock starts only now.
            await _announce(tenant, request, events.REQUEST_CREATED)
            await audit.record(
                tenant=tenant,
                actor=actor,
                action="subject_request.verify",
                target=f"subject_request:{request.id}",
            )
    if failure:
        raise failure
    return request


async def verify_identity(
    *, tenant: Tenant, actor: str, request_id: str, note: str | None
) -> SubjectRequest:
    """Staff (a secret key) checked that the requester is the subject the request names:
    from now on it acts on that subject (STAFF). An UNVERIFIED request is received at this
    moment, as one logged with ``verified: true`` would have been."""
    now = datetime.now(UTC)
    note = (note or "").strip() or None
    if note is None:
        raise DomainError.one(ErrorCode.REQUIRED, "say how the identity was checked", "note")
    async with in_transaction():
        request = await _find(tenant=tenant, request_id=request_id, lock=True)
        if request.status in CLOSED:
            raise DomainError.one(
                ErrorCode.INVALID_TRANSITION, f"the request is {request.status}", "id"
            )
        received = request.status == RequestStatus.UNVERIFIED
        if received:
            _receive(tenant, request, now)
        request.identity_proof = IdentityProof.STAFF
        await request.save()
        proof = identity.describe(IdentityProof.STAFF, names_subject=True, detail=note)
        if received:
            proof += "; the clock starts"
        proof += _blocked(
            await blocking.restrict_covered(tenant=tenant, actor=actor, request=request, now=now)
        )
        await _log(request, actor=actor, note=proof, at=now)
        await _announce(
            tenant, request, events.REQUEST_CREATED if received else events.REQUEST_UPDATED
        )
        await audit.record(
            tenant=tenant,
            actor=actor,
            action="subject_request.verify_identity",
            target=f"subject_request:{request.id}",
        )
    return request


def _blocked(subjects: list[str]) -> str:
    """The timeline's words for a restriction that receipt put in force."""
    if not subjects:
        return ""
    return f"; processing restricted from receipt for the verification period ({len(subjects)})"


def _receive(tenant: Tenant, request: SubjectRequest, now: datetime) -> None:
    """The request is received now: the statutory clock starts, the code is spent."""
    request.status, request.received_at = RequestStatus.RECEIVED, now
    request.due_at = deadlines.due(
        tenant=tenant, request_type=request.type, jurisdiction=request.jurisdiction, received_at=now
    )
    request.token_hash = request.token_expires_at = None
