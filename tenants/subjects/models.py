"""Contact details of data subjects, encrypted at rest and found by blind index."""

from __future__ import annotations

from tortoise import fields

from tenants.models import TenantOwned


# The address Charter writes to about a subject (breach notices, material changes).
# Stored encrypted; email_index is a keyed hash for lookups by address. ``verified``: the
# tenant's backend (a secret key) gave it, so it may prove who a request is about; what
# a browser (publishable key) gives is a claim, and never replaces a verified address.
class SubjectContact(TenantOwned):
    subject_id = fields.CharField(max_length=255)
    email = fields.TextField()
    email_index = fields.CharField(max_length=64, db_index=True)
    locale = fields.CharField(max_length=35, null=True)
    verified = fields.BooleanField(default=False)
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


# A tenant's secret for signing subject assertions (JWT HS256), encrypted at rest. The
# current key has no expiry; a rotation gives the previous ones a grace period.
class SubjectAssertionKey(TenantOwned):
    secret = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField(null=True)

    class Meta:
        table = "subject_assertion_key"


# Each assertion proves one request: its id (a keyed hash of ``jti``) is kept until the
# assertion expires, so a replay is refused.
class SubjectAssertionUse(TenantOwned):
    jti_hash = fields.CharField(max_length=64)
    expires_at = fields.DatetimeField()

    class Meta:
        table = "subject_assertion_use"
        unique_together = (("tenant", "jti_hash"),)
