"""A breach, its clocks, its append-only timeline and the notices sent to people."""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise import fields

from tenants.breaches.kinds import BreachStatus, ClockKind, RiskLevel
from tenants.models import TenantOwned

# Sorts after any real due date: breaches with no running clock list last.
NO_CLOCK = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


# What GDPR Art. 33(3) asks a notification to contain, plus where the law applies.
class Breach(TenantOwned):
    title = fields.CharField(max_length=300)
    status = fields.CharEnumField(BreachStatus, max_length=16, default=BreachStatus.OPEN)
    risk = fields.CharEnumField(RiskLevel, max_length=8)
    detected_at = fields.DatetimeField()
    aware_at = fields.DatetimeField()
    nature = fields.TextField(null=True)
    data_categories: list = fields.JSONField(default=list)
    approx_subjects = fields.IntField(null=True)
    approx_records = fields.IntField(null=True)
    consequences = fields.TextField(null=True)
    measures = fields.TextField(null=True)
    jurisdictions: list = fields.JSONField(default=list)
    notices_sent = fields.IntField(default=0)
    next_due_at = fields.DatetimeField()  # the soonest open clock, for "overdue first"
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "breach"
        indexes = (("tenant_id", "next_due_at"),)


class BreachClock(TenantOwned):
    breach = fields.ForeignKeyField("charter.Breach", related_name="clocks")
    jurisdiction = fields.CharField(max_length=8)
    kind = fields.CharEnumField(ClockKind, max_length=24)
    started_at = fields.DatetimeField()
    due_at = fields.DatetimeField(null=True)  # None: "without undue delay"
    satisfied_at = fields.DatetimeField(null=True)
    reference = fields.CharField(max_length=200, null=True)
    overdue_at = fields.DatetimeField(null=True)  # when the clock_overdue event went out

    class Meta:
        table = "breach_clock"
        unique_together = (("breach", "jurisdiction", "kind"),)


# Append-only: nothing in a breach's history is edited or deleted.
class BreachUpdate(TenantOwned):
    breach = fields.ForeignKeyField("charter.Breach", related_name="updates")
    seq = fields.IntField()  # order within the breach: many entries share one instant
    at = fields.DatetimeField()
    note = fields.TextField()
    actor = fields.CharField(max_length=64, null=True)
    changes: dict = fields.JSONField(default=dict)

    class Meta:
        table = "breach_update"
        unique_together = (("breach", "seq"),)


# One row per person told about a breach: the unique pair makes a second call a no-op.
class BreachNotice(TenantOwned):
    breach = fields.ForeignKeyField("charter.Breach", related_name="notices")
    subject_id = fields.CharField(max_length=255)
    channel = fields.CharField(max_length=16)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "breach_notice"
        unique_together = (("breach", "subject_id"),)
