"""Notice of a material change: everyone whose live consent was given under an earlier
version is told, in their locale, by e-mail where Charter has an address, else through
the tenant's webhook."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

from tenants.chunks import keyset, paced
from tenants.consent.models import ConsentEvent, ConsentState
from tenants.outbound import events, outbox
from tenants.policies.models import PolicyVersion
from tenants.rules import JURISDICTIONS
from tenants.rules.deadlines import local_day
from tenants.scoping import owned
from tenants.subjects.contacts import contact_email
from tenants.subjects.models import SubjectContact
from tenants.tenancy.models import Tenant


async def announce(*, tenant: Tenant, version: PolicyVersion, now: datetime) -> None:
    """The version takes effect: tell the tenant's systems and, for a material change, the
    people. Call in the transaction that makes it effective (or finds it so)."""
    await outbox.announce(
        tenant=tenant,
        kind=events.POLICY_PUBLISHED,
        payload={
            "id": str(version.id),
            "kind": version.kind,
            "version": version.number,
            "material": version.material,
            "effective_at": version.effective_at.isoformat(),
        },
    )
    if version.material and tenant.notify_material_changes:
        await queue_material_notices(tenant=tenant, version=version)
    await PolicyVersion.filter(id=version.id).update(announced_at=now)


def _local_day(tenant: Tenant, moment: datetime) -> str:
    """The day a version takes effect where the tenant counts days (a version effective at
    midnight in Tashkent takes effect that day, though UTC still shows the day before)."""
    if not tenant.jurisdictions:
        return moment.astimezone(UTC).date().isoformat()
    rules = JURISDICTIONS[tenant.jurisdictions[0]]
    return local_day(moment, rules, tenant.main_establishment).isoformat()


async def queue_material_notices(*, tenant: Tenant, version: PolicyVersion) -> int:
    """Runs in the caller's transaction; returns how many notices were queued."""
    endpoints = await outbox.subscribers(tenant=tenant, kind=events.POLICY_MATERIAL_CHANGE)
    payload = {
        "site": tenant.slug,
        "kind": version.kind,
        "version": version.number,
        "change_summary": version.change_summary,
        "effective_at": version.effective_at.isoformat(),
        "effective_on": _local_day(tenant, version.effective_at),
    }
    queued = unreachable = 0
    # A chunk of people at a time (tenants.chunks): queries stay under the driver's
    # parameter cap and the event loop gets a turn between chunks.
    async for subjects in _consented_before(tenant, version):
        contacts = {
            row.subject_id: row
            for row in await owned(SubjectContact, tenant=tenant).filter(subject_id__in=subjects)
        }
        seen: dict[str, str] = {}
        for subject, locale in (
            await owned(ConsentEvent, tenant=tenant)
            .filter(subject_id__in=subjects, locale__isnull=False)
            .order_by("sequence")
            .values_list("subject_id", "locale")
        ):
            seen[subject] = locale
        messages = []
        async for subject in paced(subjects):
            contact = contacts.get(subject)
            locale = (contact and contact.locale) or seen.get(subject) or tenant.default_locale
            if contact:
                messages.append(
                    outbox.email(
                        tenant=tenant,
                        kind=events.POLICY_MATERIAL_CHANGE,
                        recipient=contact_email(contact),
                        locale=locale,
                        payload=payload,
                        subject_id=subject,
                    )
                )
            elif endpoints:
                messages.extend(
                    outbox.events(
                        tenant=tenant,
                        kind=events.POLICY_MATERIAL_CHANGE,
                        payload={**payload, "subject_id": subject, "locale": locale},
                        endpoints=endpoints,
                        subject_id=subject,
                    )
                )
            else:
                unreachable += 1
                continue
            queued += 1
        await outbox.enqueue(*messages)
    if unreachable:
        # One dead letter says how many could not be told, rather than one per person.
        await outbox.enqueue(
            *outbox.events(
                tenant=tenant,
                kind=events.POLICY_MATERIAL_CHANGE,
                payload={**payload, "unreachable_subjects": unreachable},
                endpoints=[],
            )
        )
    return queued


async def _consented_before(tenant: Tenant, version: PolicyVersion) -> AsyncIterator[list[str]]:
    """Everyone with a live consent given under an earlier version, a chunk at a time."""
    earlier = owned(ConsentState, tenant=tenant).filter(
        policy_kind=version.kind, policy_version__lt=version.number, granted=True
    )
    async for part in keyset(earlier, "subject_id"):
        yield part
