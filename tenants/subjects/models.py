"""Contact details of data subjects, encrypted at rest and found by blind index."""

from __future__ import annotations

from tortoise import fields

from tenants.models import TenantOwned


# The address Charter writes to about a subject (breach notices, material changes).
# Stored encrypted; email_index is a keyed hash for lookups by address.
class SubjectContact(TenantOwned):
    subject_id = fields.CharField(max_length=255)
    email = fields.TextField()
    email_index = fields.CharField(max_length=64, db_index=True)
    locale = fields.CharField(max_length=35, null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "subject_contact"
        unique_together = (("tenant", "subject_id"),)


# What a person asked Charter's tenant to stop: set by completed RESTRICTION and
# OBJECTION requests, read with the person's consent state.
class SubjectFlags(TenantOwned):
    subject_id = fields.CharField(max_length=255)
    restricted = fields.BooleanField(default=False)
    objected = fields.BooleanField(default=False)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "subject_flags"
        unique_together = (("tenant", "subject_id"),)
