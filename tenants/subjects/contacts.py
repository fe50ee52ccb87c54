"""Remembering how to reach a subject, without keeping the address in the clear.

An address the tenant's backend gave (a secret key) is *verified*: the tenant knows its
user, so the address may prove who a subject request is about. One a browser gave (a
publishable key, which anyone can hold) is a claim: it is kept, so the person can be
told of a breach, but it proves nothing and never replaces a verified address.
"""

from __future__ import annotations

from tenants import crypto
from tenants.scoping import owned
from tenants.subjects.models import SubjectContact
from tenants.tenancy.models import Tenant

EMAIL_PURPOSE = "subject-email"


def sealed_contact(
    *, tenant: Tenant, subject_id: str, email: str, locale: str | None, verified: bool = False
) -> SubjectContact:
    """An unsaved row: the caller writes many at once in its own transaction."""
    return SubjectContact(
        tenant_id=tenant.id,
        subject_id=subject_id,
        email=crypto.encrypt(email, purpose=EMAIL_PURPOSE, tenant_id=tenant.id, row_id=subject_id),
        email_index=index_of(email),
        locale=locale,
        verified=verified,
    )


def index_of(email: str) -> str:
    return crypto.blind_index(email, purpose=EMAIL_PURPOSE)


async def save_contacts(rows: list[SubjectContact]) -> None:
    """Insert or replace, except that a claim never replaces a verified address."""
    claims = [row for row in rows if not row.verified]
    if claims:
        kept = set(
            await SubjectContact.filter(
                tenant_id=claims[0].tenant_id,
                subject_id__in=[row.subject_id for row in claims],
                verified=True,
            ).values_list("subject_id", flat=True)
        )
        rows = [row for row in rows if row.verified or row.subject_id not in kept]
    if rows:
        await SubjectContact.bulk_create(
            rows,
            on_conflict=["tenant_id", "subject_id"],
            update_fields=["email", "email_index", "locale", "verified", "updated_at"],
        )


async def email_of(*, tenant: Tenant, subject_id: str) -> str | None:
    row = await owned(SubjectContact, tenant=tenant).get_or_none(subject_id=subject_id)
    return contact_email(row) if row else None


def contact_email(row: SubjectContact) -> str:
    """The address in the clear. Bound to the row's unique key (tenant, subject id), not
    its id: an upsert (``save_contacts``) keeps the old row's id under a new address."""
    return crypto.decrypt(
        row.email, purpose=EMAIL_PURPOSE, tenant_id=row.tenant_id, row_id=row.subject_id
    )


async def is_verified_contact(*, tenant: Tenant, subject_id: str, email: str) -> bool:
    """Whether ``email`` is the verified address Charter holds for ``subject_id``."""
    return (
        await owned(SubjectContact, tenant=tenant)
        .filter(subject_id=subject_id, email_index=index_of(email), verified=True)
        .exists()
    )


async def verified_subjects(*, tenant: Tenant, email: str) -> set[str]:
    """The subjects whose verified address is ``email``."""
    rows = (
        await owned(SubjectContact, tenant=tenant)
        .filter(email_index=index_of(email), verified=True)
        .values_list("subject_id", flat=True)
    )
    return set(rows)


async def with_address(*, tenant: Tenant, email: str) -> list[SubjectContact]:
    """Every contact row carrying ``email``, verified or not: the address is the person's."""
    return await owned(SubjectContact, tenant=tenant).filter(email_index=index_of(email))
