"""A RESTRICTION request restricts processing from the moment it is received, not only
once it is completed: the restriction is what protects the person while their claim
(inaccurate data, unlawful processing) is checked, and the law counts it from the
request. 152-FZ Art. 21(1): on a request about inaccurate data the operator blocks the
data "from the moment of such request ... for the verification period"; the first
tenants promise it in those words (Deepen 7.2.4, "tekshirish muddati uchun so\u2018ragan
paytdan boshlab ... bloklash"); GDPR Art. 18(1)(a) restricts "for a period enabling the
controller to verify the accuracy", which the ICO reads as restricting while the request
is considered.

So receipt (the e-mail code, staff vouching, or a request logged as verified) restricts
every subject the request may act on (``identity.scope``), in the receipt's transaction;
COMPLETE confirms it, and only ``liftRestriction`` ends it (telling the person first),
whatever the request's outcome.
"""

from __future__ import annotations

from datetime import datetime

from tenants.consent import processing
from tenants.consent.processing import ProcessingChange
from tenants.rights import RequestType
from tenants.scoping import owned
from tenants.subject_requests import identity
from tenants.subject_requests.models import SubjectRequest
from tenants.subject_requests.records import email_of
from tenants.subjects.models import SubjectFlags
from tenants.tenancy.models import Tenant


async def restrict_covered(
    *, tenant: Tenant, actor: str, request: SubjectRequest, now: datetime
) -> list[str]:
    """Restrict each subject the request covers that is not restricted yet; returns them.
    A no-op for any other type of request. Runs in the caller's transaction."""
    if request.type != RequestType.RESTRICTION:
        return []
    covered = await identity.scope(tenant=tenant, request=request, email=email_of(request))
    wanted = sorted(covered.subjects)
    if not wanted:
        return []
    already = set(
        await owned(SubjectFlags, tenant=tenant)
        .filter(subject_id__in=wanted, restricted=True)
        .values_list("subject_id", flat=True)
    )
    done = [subject for subject in wanted if subject not in already]
    for subject in done:
        await processing.record(
            tenant=tenant,
            actor=actor,
            subject_id=subject,
            now=now,
            change=ProcessingChange.RESTRICTED,
        )
    return done
