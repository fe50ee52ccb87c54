"""Subject requests and their timelines."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from tenants.models import TenantOwned
from tenants.rights import RequestType


class RequestStatus(StrEnum):
    UNVERIFIED = "UNVERIFIED"
    RECEIVED = "RECEIVED"
    IN_PROGRESS = "IN_PROGRESS"
    EXTENDED = "EXTENDED"
    COMPLETED = "COMPLETED"
    REJECTED = "REJECTED"


CLOSED = frozenset({RequestStatus.COMPLETED, RequestStatus.REJECTED})


class IdentityProof(StrEnum):
    """What shows that the requester is the subject the request names."""

    NONE = "NONE"  # nothing yet: the e-mail is not verified
    EMAIL = "EMAIL"  # the e-mail address only: the request covers what is linked to it
    CONTACT = "CONTACT"  # the verified address is the subject's contact on record
    ASSERTION = "ASSERTION"  # a subject assertion signed by the tenant's backend
    STAFF = "STAFF"  # the tenant's staff checked the identity (secret key, with a note)


# The proofs that let a request act on the subject it names.
SUBJECT_PROOFS = frozenset({IdentityProof.CONTACT, IdentityProof.ASSERTION, IdentityProof.STAFF})


# email is encrypted (email_index finds it); details may hold personal data and are
# blanked by erasure like the rest. The clock runs from received_at to due_at.
class SubjectRequest(TenantOwned):
    type = fields.CharEnumField(RequestType, max_length=24)
    status = fields.CharEnumField(RequestStatus, max_length=16)
    subject_id = fields.CharField(max_length=255, null=True, db_index=True)
    email = fields.TextField(null=True)
    email_index = fields.CharField(max_length=64, null=True, db_index=True)
    email_hint = fields.CharField(max_length=254, null=True)
    jurisdiction = fields.CharField(max_length=8)
    locale = fields.CharField(max_length=35, null=True)
    details = fields.TextField(null=True)
    submitted_at = fields.DatetimeField()
    received_at = fields.DatetimeField()
    due_at = fields.DatetimeField()
    extended = fields.BooleanField(default=False)
    identity_proof = fields.CharEnumField(IdentityProof, max_length=16, default=IdentityProof.NONE)
    token_hash = fields.CharField(max_length=64, null=True)
    token_expires_at = fields.DatetimeField(null=True)
    token_attempts = fields.IntField(default=0)
    # The ACCESS/PORTABILITY copy: sealed (AES-GCM, tenants/crypto.py) like every other
    # personal value at rest; tenants/subject_requests/export.py opens it.
    export = fields.TextField(null=True)
    closed_at = fields.DatetimeField(null=True)
    due_soon_at = fields.DatetimeField(null=True)  # when the due_soon event went out
    updated_at = fields.DatetimeField(auto_now=True)

    timeline: fields.ReverseRelation[RequestEvent]

    class Meta:
        table = "subject_request"
        indexes = (("tenant_id", "due_at"),)


class RequestEvent(TenantOwned):
    request = fields.ForeignKeyField("charter.SubjectRequest", related_name="timeline")
    at = fields.DatetimeField()
    status = fields.CharEnumField(RequestStatus, max_length=16)
    note = fields.TextField(null=True)
    actor = fields.CharField(max_length=64, null=True)

    class Meta:
        table = "subject_request_event"
