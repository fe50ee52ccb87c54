"""Receiving, verifying and working data-subject requests. The tenant is always explicit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from tenants import crypto, validation
from tenants.errors import DomainError, ErrorCode, Problems
from tenants.outbound import events, outbox
from tenants.paging import Page, Window, keyset_page
from tenants.rights import RequestType
from tenants.rules import JURISDICTIONS
from tenants.scoping import owned, owned_one
from tenants.subject_requests import blocking, deadlines, fulfil, identity, notices, tokens
from tenants.subject_requests.lifecycle import NOTE_REQUIRED, RequestAction, next_status
from tenants.subject_requests.models import (
    CLOSED,
    IdentityProof,
    RequestEvent,
    RequestStatus,
    SubjectRequest,
)
from tenants.subject_requests.records import EMAIL_PURPOSE, email_of
from tenants.subject_requests.records import announce as _announce
from tenants.subject_requests.records import load as _find
from tenants.subject_requests.records import log as _log
from tenants.subjects import assertions, erasure
from tenants.tenancy import audit
from tenants.tenancy.models import Tenant

MAX_DETAILS = 10_000
# Anyone with the site's publishable key may type any address: each unverified request
# e-mails it a code. A person needs a few tries; an attacker wanted thousands an hour.
MAX_UNVERIFIED_PER_ADDRESS = 10
UNVERIFIED_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class Submission:
    type: RequestType
    subject_id: str | None = None
    email: str | None = None
    jurisdiction: str | None = None
    details: str | None = None
    locale: str | None = None
    received_at: datetime | None = None  # secret keys: a request that came by mail or phone
    verified: bool = False  # secret keys: the tenant checked the identity itself
    subject_assertion: str | None = None  # a JWT from the tenant's backend: who the subject is


async def submit(
    *, tenant: Tenant, actor: str, trusted: bool, submission: Submission
) -> tuple[SubjectRequest, str | None]:
    """A new request and its verification token (None when created verified).

    ``trusted`` is a secret key: only it may backdate ``received_at`` or skip verification
    (the identity is then STAFF-proven). A ``subject_assertion`` proves the subject (and
    names it when ``subject_id`` is absent); the e-mail is verified all the same.
    """
    now = datetime.now(UTC)
    problems = Problems()
    subject = submission.subject_id and validation.living_subject_id(
        problems, submission.subject_id, "input", "subjectId"
    )
    email = submission.email and validation.email(problems, submission.email, "input", "email")
    if not submission.subject_id and not submission.email and not submission.subject_assertion:
        problems.add(
            ErrorCode.REQUIRED, "give the subject id, an e-mail address, or both", "input", "email"
        )
    if not trusted and not submission.email:
        problems.add(
            ErrorCode.REQUIRED,
            "an e-mail address is needed to verify the request",
            "input",
            "email",
        )
    code = (submission.jurisdiction or (tenant.jurisdictions or [""])[0]).strip().upper()
    if code not in JURISDICTIONS:
        problems.add(
            ErrorCode.UNKNOWN_JURISDICTION,
            f"{code!r} is not a known jurisdiction",
            "input",
            "jurisdiction",
        )
    locale = submission.locale and validation.locale(problems, submission.locale, "input", "locale")
    details = (submission.details or "").strip()[:MAX_DETAILS] or None
    received = submission.received_at or now
    if (submission.received_at or submission.verified) and not trusted:
        problems.add(
            ErrorCode.FORBIDDEN_FIELD, "only a secret key may set receivedAt or verified", "input"
        )
    if received > now + timedelta(minutes=5):
        problems.add(ErrorCode.INVALID, "receivedAt cannot be in the future", "input", "receivedAt")
    problems.raise_if_any()

    verified = submission.verified
    if not verified and email:
        await _bound_codes(tenant, email, now)
    token = None if verified else tokens.mint()
    async with in_transaction():
        asserted = submission.subject_assertion and await assertions.check(
            tenant=tenant, token=submission.subject_assertion, subject_id=subject or None, now=now
        )
        if asserted:
            subject = asserted.subject_id
        proof = IdentityProof.NONE
        if verified:
            proof = IdentityProof.STAFF
        elif asserted:
            proof = IdentityProof.ASSERTION
        request_id = uuid.uuid4()
        request = await SubjectRequest.create(
            id=request_id,
            tenant_id=tenant.id,
            type=submission.type,
            status=RequestStatus.RECEIVED if verified else RequestStatus.UNVERIFIED,
            subject_id=subject or None,
            email=email
            and crypto.encrypt(
                email, purpose=EMAIL_PURPOSE, tenant_id=tenant.id, row_id=request_id
            ),
            email_index=email and crypto.blind_index(email, purpose=EMAIL_PURPOSE),
            email_hint=email and crypto.mask_email(email),
            jurisdiction=code,
            locale=locale or tenant.default_locale,
            details=details,
            submitted_at=now,
            received_at=received,
            due_at=deadlines.due(
                tenant=tenant, request_type=submission.type, jurisdiction=code, received_at=received
            ),
            token_hash=token and tokens.digest(token),
            token_expires_at=token and now + tokens.LIFETIME,
            identity_proof=proof,
        )
        note = "identity verified by the tenant" if verified else "awaiting e-mail verification"
        if submission.received_at is not None:
            note += f"; received {received.isoformat()} by another channel"
        if asserted:
            note += "; " + identity.describe(proof, names_subject=True, detail=asserted.key_id)
        if verified:
            restricted = await blocking.restrict_covered(
                tenant=tenant, actor=actor, request=request, now=now
            )
            if restricted:
                note += f"; processing restricted from receipt ({len(restricted)})"
        await _log(request, actor=actor, note=note, at=now)
        if verified:
            await _announce(tenant, request, events.REQUEST_CREATED)
        if token and email:
            await outbox.enqueue(
                outbox.email(
                    tenant=tenant,
                    kind="subject_request.verification",
                    recipient=email,
                    locale=request.locale,
                    payload={"request_id": str(request.id), "type": request.type, "token": token},
                    subject_id=request.subject_id if asserted else None,
                )
            )
        await audit.record(
            tenant=tenant,
            actor=actor,
            action="subject_request.submit",
            target=f"subject_request:{request.id}",
            details={"type": request.type, "jurisdiction": code},
        )
    return request, token


async def _bound_codes(tenant: Tenant, email: str, now: datetime) -> None:
    """Refuses a request whose address already waits on MAX_UNVERIFIED_PER_ADDRESS codes
    sent within the hour (TOO_MANY): the address's owner is not flooded with codes."""
    waiting = (
        await owned(SubjectRequest, tenant=tenant)
        .filter(
            email_index=crypto.blind_index(email, purpose=EMAIL_PURPOSE),
            status=RequestStatus.UNVERIFIED,
            submitted_at__gte=now - UNVERIFIED_WINDOW,
        )
        .count()
    )
    if waiting >= MAX_UNVERIFIED_PER_ADDRESS:
        raise DomainError.one(
            ErrorCode.TOO_MANY,
            f"at most {MAX_UNVERIFIED_PER_ADDRESS} requests an hour may wait for this "
            "address's code: use a code already sent, or try again later",
            "input",
            "email",
        )


async def act(
    *, tenant: Tenant, actor: str, request_id: str, action: RequestAction, note: str | None
) -> SubjectRequest:
    now = datetime.now(UTC)
    note = (note or "").strip() or None
    async with in_transaction():
        request = await _find(tenant=tenant, request_id=request_id, lock=True)
        target = next_status(request.status, action)
        if target is None:
            raise DomainError.one(
                ErrorCode.INVALID_TRANSITION,
                f"cannot {action} a request that is {request.status}",
                "action",
            )
        if action in NOTE_REQUIRED and note is None:
            raise DomainError.one(
                ErrorCode.REQUIRED, f"{action} needs a note for the person", "note"
            )
        if action == RequestAction.EXTEND:
            moved = deadlines.extended(tenant=tenant, request=request, now=now)
            request.due_at, request.extended = moved, True
        # Read before fulfilment: an erasure blanks the address it must still write to.
        email, was_verified = email_of(request), request.status != RequestStatus.UNVERIFIED
        erased: dict[str, str] = {}
        if action == RequestAction.COMPLETE:
            erased = await fulfil.complete(
                tenant=tenant, actor=actor, request=request, note=note, now=now
            )
        request.status = target
        if target in CLOSED:
            request.closed_at = now
        await request.save()
        await _log(request, actor=actor, note=note, at=now)
        if erased:  # staff notes name people too; the record stays, the names go
            await erasure.scrub_notes(tenant=tenant, values=erased)
        await _announce(tenant, request, events.REQUEST_UPDATED)
        told = notices.message(
            tenant=tenant,
            request=request,
            action=action,
            note=note,
            email=email,
            verified=was_verified,
        )
        if told is not None:
            await outbox.enqueue(told)
        await audit.record(
            tenant=tenant,
            actor=actor,
            action=f"subject_request.{action.lower()}",
            target=f"subject_request:{request.id}",
            details={"status": target},
        )
    if action == RequestAction.COMPLETE and request.type == RequestType.ERASURE:
        await erasure.scrub_free_pages()
    return request


async def find(*, tenant: Tenant, request_id: str) -> SubjectRequest | None:
    return await owned_one(SubjectRequest, tenant=tenant, id=request_id)


async def page(
    *,
    tenant: Tenant,
    status: RequestStatus | None,
    type: RequestType | None,
    overdue: bool | None,
    window: Window,
) -> Page[SubjectRequest]:
    """Ordered by due date, soonest first."""
    query = owned(SubjectRequest, tenant=tenant)
    if status is not None:
        query = query.filter(status=status)
    if type is not None:
        query = query.filter(type=type)
    if overdue is not None:
        late = Q(due_at__lt=datetime.now(UTC)) & ~Q(status__in=list(CLOSED))
        query = query.filter(late if overdue else ~late)
    return await keyset_page(query, order="due_at", window=window, descending=False)


async def due_within(*, within: timedelta) -> list[SubjectRequest]:
    """Open requests of every tenant falling due before now + ``within`` (the CLI's report)."""
    horizon = datetime.now(UTC) + within
    return (
        await SubjectRequest.filter(due_at__lte=horizon)
        .exclude(status__in=list(CLOSED))
        .order_by("due_at")
        .select_related("tenant")
    )


async def with_timelines(*, tenant: Tenant, requests: list[SubjectRequest]) -> None:
    """Attach ``loaded_timeline`` to every request, in one query (no N+1)."""
    events = (
        await owned(RequestEvent, tenant=tenant)
        .filter(request_id__in=[r.id for r in requests])
        .order_by("at", "id")
    )
    for request in requests:
        request.loaded_timeline = [e for e in events if e.request_id == request.id]
