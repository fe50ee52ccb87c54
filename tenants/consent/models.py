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
