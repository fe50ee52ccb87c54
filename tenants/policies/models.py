"""Policies, their numbered versions, and one translation per locale of each version."""

from __future__ import annotations

from datetime import datetime

from tortoise import fields

from tenants.models import TenantOwned
from tenants.policies.kinds import PolicyKind, VersionStatus


# One row per (tenant, kind): the anchor that serialises publishing of that kind.
class Policy(TenantOwned):
    kind = fields.CharEnumField(PolicyKind, max_length=16)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "policy"
        unique_together = (("tenant", "kind"),)


# A version is a DRAFT (number null, editable) or PUBLISHED (numbered, frozen for good).
# SUPERSEDED is not stored: it is read off the clock, so a scheduled switch needs no write.
class PolicyVersion(TenantOwned):
    policy = fields.ForeignKeyField("charter.Policy", related_name="versions")
    kind = fields.CharEnumField(PolicyKind, max_length=16)
    number = fields.IntField(null=True)
    status = fields.CharEnumField(VersionStatus, max_length=16, default=VersionStatus.DRAFT)
    effective_at = fields.DatetimeField(null=True)
    published_at = fields.DatetimeField(null=True)
    material = fields.BooleanField(default=False)
    change_summary = fields.TextField(null=True)
    disclosures: dict = fields.JSONField(default=dict)
    announced_at = fields.DatetimeField(null=True)  # when its taking effect was announced
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    translations: fields.ReverseRelation[PolicyTranslation]

    class Meta:
        table = "policy_version"
        unique_together = (("policy", "number"),)

    def status_at(self, now: datetime, *, superseded_from: datetime | None) -> VersionStatus:
        """DRAFT, PUBLISHED, or SUPERSEDED once a later version has taken effect."""
        if self.status == VersionStatus.DRAFT:
            return VersionStatus.DRAFT
        if superseded_from is not None and superseded_from <= now:
            return VersionStatus.SUPERSEDED
        return VersionStatus.PUBLISHED


class PolicyTranslation(TenantOwned):
    version = fields.ForeignKeyField("charter.PolicyVersion", related_name="translations")
    locale = fields.CharField(max_length=35)
    title = fields.CharField(max_length=300)
    body = fields.TextField()
    html = fields.TextField()
    content_hash = fields.CharField(max_length=64)

    class Meta:
        table = "policy_translation"
        unique_together = (("version", "locale"),)
