"""Remembering how to reach a subject, without keeping the address in the clear."""

from __future__ import annotations

from tenants import crypto
from tenants.scoping import owned
from tenants.subjects.models import SubjectContact
from tenants.tenancy.models import Tenant

EMAIL_PURPOSE = "subject-email"


def sealed_contact(
    *, tenant: Tenant, subject_id: str, email: str, locale: str | None
) -> SubjectContact:
    """An unsaved row: the caller writes many at once in its own transaction."""
    return SubjectContact(
        tenant_id=tenant.id,
        subject_id=subject_id,
        email=crypto.encrypt(email, purpose=EMAIL_PURPOSE),
        email_index=crypto.blind_index(email, purpose=EMAIL_PURPOSE),
        locale=locale,
    )


async def save_contacts(rows: list[SubjectContact]) -> None:
    if rows:
        await SubjectContact.bulk_create(
            rows,
            on_conflict=["tenant_id", "subject_id"],
            update_fields=["email", "email_index", "locale", "updated_at"],
        )


async def email_of(*, tenant: Tenant, subject_id: str) -> str | None:
    row = await owned(SubjectContact, tenant=tenant).get_or_none(subject_id=subject_id)
    return crypto.decrypt(row.email, purpose=EMAIL_PURPOSE) if row else None
