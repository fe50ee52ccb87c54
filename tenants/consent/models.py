"""The consent ledger (append-only events in a per-tenant hash chain) and current state."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from tenants.consent.methods import ConsentMethod
from tenants.models import TenantOwned
from tenants.policies.kinds import PolicyKind


# One event per recorded decision set. Rows are never updated or deleted by the
# application, except erasure, which blanks the personal columns (subject_id, ip,
# user_agent, source_url, salt) and leaves every chained column as it was.
class ConsentEvent(TenantOwned):
    sequence = fields.BigIntField()
    subject_id = fields.CharField(max_length=255)
    policy_kind = fields.CharEnumField(PolicyKind, max_length=16)
    policy_version = fields.IntField()
    locale = fields.CharField(max_length=35, null=True)
    method = fields.CharEnumField(ConsentMethod, max_length=16)
    decisions: list = fields.JSONField()  # [{"purpose", "granted", "method"?}], sorted
    occurred_at = fields.DatetimeField()
    recorded_at = fields.DatetimeField()
    source_url = fields.TextField(null=True)
    ip = fields.CharField(max_length=45, null=True)  # truncated: /24 or /48
    user_agent = fields.CharField(max_length=512, null=True)
    salt = fields.CharField(max_length=64, null=True)
    commitment = fields.CharField(max_length=64)
    previous_hash = fields.CharField(max_length=64, null=True)
    hash = fields.CharField(max_length=64)
    client_event_id = fields.CharField(max_length=128, null=True)
    # Set on events about the processing rather than a decision: RESTRICTED,
    # RESTRICTION_LIFTED, OBJECTED (tenants/consent/processing.py). Chained.
    processing = fields.CharField(max_length=24, null=True)

    class Meta:
        table = "consent_event"
        unique_together = (("tenant", "sequence"), ("tenant", "client_event_id"))
        indexes = (("tenant_id", "subject_id", "sequence"),)


# Where each tenant's chain ends. Locked for update by every writer, so two writers
# can never fork the chain; it also shows when links were cut off the end.
class ConsentChainHead(Model):
    tenant = fields.OneToOneField("charter.Tenant", related_name=False, on_delete=fields.CASCADE)
    sequence = fields.BigIntField(default=0)
    hash = fields.CharField(max_length=64, null=True)
    announced = fields.BigIntField(default=0)  # the last sequence sent as consent.recorded

    class Meta:
        table = "consent_chain_head"


# The latest decision per (subject, purpose), written in the event's transaction, so
# reading a person's state is one indexed read however long the ledger grows.
class ConsentState(TenantOwned):
    subject_id = fields.CharField(max_length=255)
    purpose = fields.CharField(max_length=255)
    granted = fields.BooleanField()
    method = fields.CharEnumField(ConsentMethod, max_length=16)
    policy_kind = fields.CharEnumField(PolicyKind, max_length=16)
    policy_version = fields.IntField()
    decided_at = fields.DatetimeField()
    event_id = fields.UUIDField()

    class Meta:
        table = "consent_state"
        unique_together = (("tenant", "subject_id", "purpose"),)


# The head hash at a sequence, recorded when the chain up to it was verified. A later
# verification starts from the newest one instead of genesis; a full one recomputes the
# chain through each and fails where a recorded hash no longer matches, so rewriting the
# links before a checkpoint (even re-hashing them all) is noticed. Exported
# (verifyConsentLedger, `charter consent verify`), a third party can hold one too.
class ConsentCheckpoint(TenantOwned):
    sequence = fields.BigIntField()
    hash = fields.CharField(max_length=64)
    recorded_at = fields.DatetimeField()
    full = fields.BooleanField(default=False)  # verified from genesis in one walk

    class Meta:
        table = "consent_checkpoint"
        unique_together = (("tenant", "sequence"),)


# A full verification of a tenant's ledger, from genesis to the head as it was when asked
# for: run by `charter worker` (or `charter consent verify`), its progress saved as it
# goes, so GraphQL shows how far it got. A worker that dies leaves a lease that runs out.
class ConsentVerification(TenantOwned):
    status = fields.CharField(max_length=16)  # QUEUED, RUNNING, PASSED, FAILED
    through = fields.BigIntField(default=0)  # the head's sequence when it started
    checked = fields.BigIntField(default=0)
    first_broken_id = fields.UUIDField(null=True)
    reason = fields.TextField(null=True)
    expect_sequence = fields.BigIntField(null=True)  # an exported head to check against
    expect_hash = fields.CharField(max_length=64, null=True)
    requested_at = fields.DatetimeField()
    started_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)
    claimed_until = fields.DatetimeField(null=True)

    class Meta:
        table = "consent_verification"
        indexes = (("status", "requested_at"),)
