"""Receiving, verifying and working data-subject requests. The tenant is always explicit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from tenants import crypto, validation
from tenants.errors import DomainError, ErrorCode, Problems
from tenants.outbound import events, outbox
from tenants.paging import Page, keyset_page
from tenants.rights import RequestType
from tenants.rules import JURISDICTIONS
from tenants.scoping import owned, owned_one
from tenants.subject_requests import deadlines, fulfil, identity, notices, tokens
from tenants.subject_requests.lifecycle import NOTE_REQUIRED, RequestAction, next_status
from tenants.subject_requests.models import (
    CLOSED,
    IdentityProof,
    RequestEvent,
    RequestStatus,
    SubjectRequest,
)
from tenants.subjects import assertions, erasure
from tenants.tenancy import audit
from tenants.tenancy.models import Tenant

EMAIL_PURPOSE = "request-email"
MAX_DETAILS = 10_000


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
    subject = submission.subject_id and validation.text(
        problems, submission.subject_id, "input", "subjectId", max_length=255
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
        request = await SubjectRequest.create(
            tenant_id=tenant.id,
            type=submission.type,
            status=RequestStatus.RECEIVED if verified else RequestStatus.UNVERIFIED,
            subject_id=subject or None,
            email=email and crypto.encrypt(email, purpose=EMAIL_PURPOSE),
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
            request.status = RequestStatus.RECEIVED
            request.received_at = now
            request.due_at = deadlines.due(
                tenant=tenant,
                request_type=request.type,
                jurisdiction=request.jurisdiction,
                received_at=now,
            )
            request.token_hash = None
            request.token_expires_at = None
            request.identity_proof = await identity.on_verification(
                tenant=tenant, request=request, email=email_of(request)
            )
            await request.save()
            proof = identity.describe(
                request.identity_proof, names_subject=bool(request.subject_id)
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
            moved = deadlines.extended(
                request_type=request.type, jurisdiction=request.jurisdiction, due_at=request.due_at
            )
            if moved is None:
                raise DomainError.one(
                    ErrorCode.EXTENSION_NOT_ALLOWED,
                    f"{request.jurisdiction} law allows no extension",
                    "action",
                )
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
            request.status, request.received_at = RequestStatus.RECEIVED, now
            request.due_at = deadlines.due(
                tenant=tenant,
                request_type=request.type,
                jurisdiction=request.jurisdiction,
                received_at=now,
            )
            request.token_hash = request.token_expires_at = None
        request.identity_proof = IdentityProof.STAFF
        await request.save()
        proof = identity.describe(IdentityProof.STAFF, names_subject=True, detail=note)
        if received:
            proof += "; the clock starts"
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


async def find(*, tenant: Tenant, request_id: str) -> SubjectRequest | None:
    return await owned_one(SubjectRequest, tenant=tenant, id=request_id)


async def page(
    *,
    tenant: Tenant,
    status: RequestStatus | None,
    type: RequestType | None,
    overdue: bool | None,
    first: int | None,
    after: str | None,
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
    return await keyset_page(query, order="due_at", first=first, after=after, descending=False)


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


def email_of(request: SubjectRequest) -> str | None:
    return request.email and crypto.decrypt(request.email, purpose=EMAIL_PURPOSE)


async def _find(*, tenant: Tenant, request_id: str, lock: bool = False) -> SubjectRequest:
    request = await owned_one(SubjectRequest, tenant=tenant, id=request_id, lock=lock)
    if request is None:
        raise DomainError.one(ErrorCode.NOT_FOUND, "no such subject request", "id")
    return request


async def _log(request: SubjectRequest, *, actor: str, note: str | None, at: datetime) -> None:
    await RequestEvent.create(
        tenant_id=request.tenant_id,
        request_id=request.id,
        at=at,
        status=request.status,
        note=note,
        actor=actor,
    )


async def _announce(tenant: Tenant, request: SubjectRequest, kind: str) -> None:
    """The tenant's systems hear of it; no personal data beyond the tenant's own subject id."""
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
