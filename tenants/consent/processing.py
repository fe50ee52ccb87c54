"""Restriction, its lifting, and objection: changes to how a subject's data may be
processed, recorded in the consent ledger like any decision, so the chain proves them.

A restriction (GDPR Art. 18; "blocking for the verification period" under 152-FZ Art.
21) limits processing to storage until it is lifted; it does not withdraw the person's
consent, which they never took back: consentState and every receipt show
`restricted: true` on each decision meanwhile, and processing resumes on them once it is
lifted. An objection (Art. 21) marks the subject `objected` (the caller withdraws what it
stops). Each change is one ledger event with no decisions and a chained `processing`
marker, written in the same transaction as the subject's flags (the read model), under
the chain head's lock, so a receipt and the state never disagree about it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from tortoise.transactions import in_transaction

from tenants.consent import ledger
from tenants.consent.methods import ConsentMethod
from tenants.consent.service import append
from tenants.consent.writes import EventRow
from tenants.errors import DomainError, ErrorCode
from tenants.policies.catalog import catalog
from tenants.policies.kinds import PolicyKind
from tenants.scoping import owned
from tenants.subjects.models import SubjectFlags
from tenants.tenancy.models import Tenant


class ProcessingChange(StrEnum):
    RESTRICTED = "RESTRICTED"  # Art. 18(1): storage only from now
    RESTRICTION_LIFTED = "RESTRICTION_LIFTED"  # Art. 18(3): processing resumes
    OBJECTED = "OBJECTED"  # Art. 21: marketing and legitimate interests stop


_FLAGS = {
    ProcessingChange.RESTRICTED: {"restricted": True},
    ProcessingChange.RESTRICTION_LIFTED: {"restricted": False},
    ProcessingChange.OBJECTED: {"objected": True},
}


async def record(
    *, tenant: Tenant, actor: str, subject_id: str, now: datetime, change: ProcessingChange
) -> EventRow:
    """Chain ``change`` for the subject and set their flags, in one transaction. Lifting
    raises NOT_RESTRICTED when no restriction is in force."""
    kind, version = await _notice_in_force(tenant, now)
    entry = ledger.Entry(
        subject_id=subject_id,
        policy_kind=kind,
        policy_version=version,
        locale=None,
        method=ConsentMethod.API,
        decisions=[],
        occurred_at=now,
        source_url=None,
        ip=None,
        user_agent=None,
        client_event_id=None,
        processing=change.value,
    )
    async with in_transaction():
        # The chain head first: a concurrent change of the same subject waits here, so
        # the flag read below is the one this event follows.
        await ledger.locked_head(tenant=tenant)
        flags = await owned(SubjectFlags, tenant=tenant).get_or_none(subject_id=subject_id)
        if change == ProcessingChange.RESTRICTION_LIFTED and not (flags and flags.restricted):
            raise DomainError.one(
                ErrorCode.NOT_RESTRICTED,
                "processing of this subject is not restricted",
                "subjectId",
            )
        [event], _ = await append(tenant=tenant, items=[(entry, None)], now=now, actor=actor)
        if flags is None:
            flags = SubjectFlags(tenant_id=tenant.id, subject_id=subject_id)
        for name, value in _FLAGS[change].items():
            setattr(flags, name, value)
        await flags.save()
    return event


async def _notice_in_force(tenant: Tenant, now: datetime) -> tuple[PolicyKind, int]:
    """The policy a processing event is recorded under: the privacy policy in force, else
    any version in force; 0 when the tenant has published none (a request can come first)."""
    versions = await catalog(tenant=tenant)
    for kind in (PolicyKind.PRIVACY, *PolicyKind):
        found = versions.in_force(kind, now)
        if found is not None:
            return kind, found.number
    return PolicyKind.PRIVACY, 0
