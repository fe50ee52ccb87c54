"""What COMPLETE does for each kind of request, inside Charter's own data, on what the
request may act on (tenants.subject_requests.identity: the subjects it proves, and what is
linked to the verified address)."""

from __future__ import annotations

from datetime import datetime

from tenants.consent import processing
from tenants.consent.models import ConsentState
from tenants.consent.processing import ProcessingChange
from tenants.consent.withdrawal import withdraw
from tenants.errors import DomainError, ErrorCode
from tenants.policies.catalog import catalog
from tenants.policies.kinds import LegalBasis, PolicyKind
from tenants.rights import RequestType
from tenants.scoping import owned
from tenants.subject_requests import blocking, export, identity
from tenants.subject_requests.identity import Scope
from tenants.subject_requests.models import SubjectRequest
from tenants.subject_requests.records import email_of
from tenants.subjects import erasure
from tenants.tenancy.models import Tenant

REQUEST_EMAIL = "request-email"


async def complete(
    *, tenant: Tenant, actor: str, request: SubjectRequest, note: str | None, now: datetime
) -> dict[str, str]:
    """Carry the request out; runs in the caller's transaction, before the status changes.

    Returns what an erasure removed and what stands for it (subject id -> pseudonym,
    address -> a placeholder), for the caller to scrub from notes it writes after."""
    email = email_of(request)
    covered = await identity.scope(tenant=tenant, request=request, email=email)
    subjects = set(covered.subjects)
    kind = RequestType(request.type)
    if kind in (RequestType.ACCESS, RequestType.PORTABILITY):
        document = await export.build(
            tenant=tenant, scope=covered, proof=request.identity_proof, now=now
        )
        request.export = export.seal(document, request=request)
    elif kind == RequestType.ERASURE:
        return await _erase(tenant=tenant, actor=actor, request=request, scope=covered, now=now)
    elif kind == RequestType.WITHDRAW_CONSENT:
        for subject in subjects:
            await withdraw(tenant=tenant, actor=actor, subject_id=subject, now=now)
    elif kind == RequestType.RESTRICTION:
        # Storage only until lifted; the person's consents stay theirs (consent/processing).
        # Usually in force since receipt (blocking.py); completing confirms it.
        await blocking.restrict_covered(tenant=tenant, actor=actor, request=request, now=now)
    elif kind == RequestType.OBJECTION:
        objectionable = await _objectionable(tenant)
        for subject in subjects:
            await processing.record(
                tenant=tenant,
                actor=actor,
                subject_id=subject,
                now=now,
                change=ProcessingChange.OBJECTED,
            )
            await withdraw(
                tenant=tenant, actor=actor, subject_id=subject, now=now, which=objectionable
            )
    elif kind == RequestType.RECTIFICATION and note is None:
        # Charter holds no free-form profile: the resolution note is the record of it.
        raise DomainError.one(ErrorCode.REQUIRED, "say how the data was corrected", "note")
    return {}


async def _objectionable(tenant: Tenant):
    """Direct marketing (objection is absolute there) and anything resting on legitimate
    interests, as the version the consent was given under discloses it."""
    versions = await catalog(tenant=tenant)

    def pick(state: ConsentState) -> bool:
        if state.purpose.startswith("marketing"):
            return True
        facts = versions.get(PolicyKind(state.policy_kind), state.policy_version)
        purpose = facts.purposes.get(state.purpose) if facts else None
        return bool(purpose and purpose["legal_basis"] == LegalBasis.LEGITIMATE_INTERESTS)

    return pick


async def _erase(
    *, tenant: Tenant, actor: str, request: SubjectRequest, scope: Scope, now: datetime
) -> dict[str, str]:
    subjects = set(scope.subjects)
    for subject in subjects:
        await erasure.erase_subject(tenant=tenant, actor=actor, subject_id=subject, now=now)
    theirs = await owned(SubjectRequest, tenant=tenant).filter(subject_id__in=list(subjects))
    # The addresses are the verified one and those of the subject's proven requests (an
    # unproven request naming the subject came from someone else's address).
    emails = {scope.email} if scope.email else set()
    emails |= {
        email_of(other)
        for other in theirs
        if other.email and other.identity_proof in identity.SUBJECT_PROOFS
    }
    for email in emails:
        await erasure.erase_email(tenant=tenant, email=email)
    # Every request of the subject (this one included) keeps its dates and outcome, the
    # proof it was done, and loses the person's details.
    aliases = {subject: erasure.pseudonym(subject) for subject in subjects}
    for other in theirs:
        other.subject_id = aliases[other.subject_id]
        _blank(other)
        await other.save()
    if request.email_index:
        await (
            owned(SubjectRequest, tenant=tenant)
            .filter(email_index=request.email_index)
            .update(email=None, email_index=None, email_hint=None, details=None, export=None)
        )
    request.subject_id = (
        aliases.get(request.subject_id, request.subject_id) if request.subject_id else None
    )
    _blank(request)
    return {**aliases, **dict.fromkeys(emails, erasure.ERASED_EMAIL)}


def _blank(request: SubjectRequest) -> None:
    request.email = request.email_index = request.email_hint = None
    request.details = None
    request.export = None
