"""Telling the requester. Each decision on a verified request reaches the person by
e-mail, in their locale, written to the outbox in the transaction that made it:

- EXTEND: ``subject_request.extended``, with the note (why) and the new due date;
  GDPR Art. 12(3): the person is told of an extension, with the reasons;
- COMPLETE: ``subject_request.completed`` (status COMPLETED), with the note;
- REJECT: ``subject_request.completed`` (status REJECTED), with the reason; Art. 12(4):
  the reasons, and that they may complain to an authority or go to court.

ACCESS and PORTABILITY: the e-mail says a copy has been prepared and that the tenant
hands it over; the copy is never in the e-mail (the tenant reads ``export`` through the
API, after the ``subject_request.updated`` event, and delivers it where the person is
signed in). An address that was never verified is told nothing: it may not be the
requester's. Erasure: the confirmation is the last use of the address, which is blanked
once the message is delivered (``forget_recipient``).
"""

from __future__ import annotations

from tenants.outbound import outbox
from tenants.outbound.models import OutboxMessage
from tenants.rights import RequestType
from tenants.rules import JURISDICTIONS
from tenants.rules.deadlines import local_day
from tenants.subject_requests.lifecycle import RequestAction
from tenants.subject_requests.models import SUBJECT_PROOFS, SubjectRequest
from tenants.tenancy.models import Tenant

EXTENDED = "subject_request.extended"
COMPLETED = "subject_request.completed"
# Actions the person hears of; START is internal.
TOLD = frozenset({RequestAction.EXTEND, RequestAction.COMPLETE, RequestAction.REJECT})


def message(
    *,
    tenant: Tenant,
    request: SubjectRequest,
    action: RequestAction,
    note: str | None,
    email: str | None,
    verified: bool,
) -> OutboxMessage | None:
    """The unsaved e-mail telling the person of ``action``, or None when there is nobody
    to tell: no address, or one never verified."""
    if action not in TOLD or not email or not verified:
        return None
    payload: dict = {"request_id": str(request.id), "type": request.type, "note": note}
    if action == RequestAction.EXTEND:
        kind = EXTENDED
        payload["due_at"] = request.due_at.isoformat()
        payload["due_on"] = _due_day(tenant, request)
    else:
        kind = COMPLETED
        payload["status"] = request.status
        if action == RequestAction.COMPLETE and request.type == RequestType.ERASURE:
            payload[outbox.FORGET_RECIPIENT] = True
    return outbox.email(
        tenant=tenant,
        kind=kind,
        recipient=email,
        locale=request.locale or tenant.default_locale,
        payload=payload,
        subject_id=request.subject_id if request.identity_proof in SUBJECT_PROOFS else None,
    )


def _due_day(tenant: Tenant, request: SubjectRequest) -> str:
    """The last day, in the calendar the period was counted in."""
    rules = JURISDICTIONS[request.jurisdiction]
    return local_day(request.due_at, rules, tenant.main_establishment).isoformat()
