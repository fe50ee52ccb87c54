"""Lifting a restriction of processing, with the person told first (GDPR Art. 18(3): "A
data subject who has obtained restriction of processing ... shall be informed by the
controller before the restriction of processing is lifted"; 152-FZ Art. 21 ends
"blocking" the same way).

The e-mail (``subject.restriction_lifted``, in the person's locale) is written to the
outbox in the lift's own transaction, as every decision on a request is: it exists if and
only if the lift committed. Who is told: the requester of the subject's latest completed
RESTRICTION request that proved the subject (their verified address, their locale), else
the subject's verified contact. An address a browser merely claimed is not told that its
supposed owner's data was restricted; with nobody to tell, the caller hears so
(``told`` is false) and tells the person itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.transactions import in_transaction

from tenants import validation
from tenants.consent import processing
from tenants.consent.processing import ProcessingChange
from tenants.consent.writes import EventRow
from tenants.errors import DomainError, ErrorCode
from tenants.outbound import outbox
from tenants.rights import RequestType
from tenants.rules import JURISDICTIONS
from tenants.rules.deadlines import local_day
from tenants.scoping import owned
from tenants.subject_requests.models import SUBJECT_PROOFS, RequestStatus, SubjectRequest
from tenants.subject_requests.records import email_of
from tenants.subjects.contacts import contact_email
from tenants.subjects.models import SubjectContact
from tenants.tenancy.models import Tenant

LIFTED = "subject.restriction_lifted"
MAX_NOTE = 2000  # characters: what the person is told, not a file


@dataclass(frozen=True)
class Lifted:
    event: EventRow
    told: bool  # an e-mail to the person was queued


async def lift(
    *, tenant: Tenant, actor: str, subject_id: str, now: datetime, note: str | None = None
) -> Lifted:
    """Chain RESTRICTION_LIFTED and queue the person's e-mail, in one transaction.
    Raises NOT_RESTRICTED (DomainError) when no restriction is in force, TOO_LONG for a
    note over MAX_NOTE characters, REQUIRED or TOO_LONG for an unusable subject id."""
    subject_id = validation.subject_key(subject_id, "subjectId")
    note = (note or "").strip() or None
    if note is not None and len(note) > MAX_NOTE:
        raise DomainError.one(ErrorCode.TOO_LONG, f"note is longer than {MAX_NOTE}", "note")
    async with in_transaction():
        event = await processing.record(
            tenant=tenant,
            actor=actor,
            subject_id=subject_id,
            now=now,
            change=ProcessingChange.RESTRICTION_LIFTED,
        )
        address = await _address(tenant=tenant, subject_id=subject_id)
        if address is None:
            return Lifted(event=event, told=False)
        email, locale = address
        payload = {"lifted_on": _local_day(tenant, now), "note": note}
        await outbox.enqueue(
            outbox.email(
                tenant=tenant,
                kind=LIFTED,
                recipient=email,
                locale=locale or tenant.default_locale,
                payload=payload,
                subject_id=subject_id,
            )
        )
    return Lifted(event=event, told=True)


async def _address(*, tenant: Tenant, subject_id: str) -> tuple[str, str | None] | None:
    """(address, locale) of the person who obtained the restriction, or None."""
    request = (
        await owned(SubjectRequest, tenant=tenant)
        .filter(
            subject_id=subject_id,
            type=RequestType.RESTRICTION,
            status=RequestStatus.COMPLETED,
            identity_proof__in=list(SUBJECT_PROOFS),
            email__isnull=False,
        )
        .order_by("-closed_at")
        .first()
    )
    if request is not None:
        return email_of(request), request.locale
    contact = await owned(SubjectContact, tenant=tenant).get_or_none(
        subject_id=subject_id, verified=True
    )
    if contact is not None:
        return contact_email(contact), contact.locale
    return None


def _local_day(tenant: Tenant, now: datetime) -> str:
    if not tenant.jurisdictions:
        return now.astimezone(UTC).date().isoformat()
    rules = JURISDICTIONS[tenant.jurisdictions[0]]
    return local_day(now, rules, tenant.main_establishment).isoformat()
