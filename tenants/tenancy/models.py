"""Tenant, its domains, API keys and audit entries."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from tenants.models import TenantOwned
from tenants.tenancy.roles import Role


class Tenant(Model):
    id = fields.UUIDField(primary_key=True)
    slug = fields.CharField(max_length=63, unique=True)
    name = fields.CharField(max_length=200)
    default_locale = fields.CharField(max_length=35)
    locales: list[str] = fields.JSONField(default=list)
    jurisdictions: list[str] = fields.JSONField(default=list)
    dpo_email = fields.CharField(max_length=254, null=True)
    # [{"request_type": "ERASURE", "days": 14, "working_days": false}]: the tenant's own
    # published deadlines, which win whenever they are shorter than the law's.
    promises: list[dict] = fields.JSONField(default=list)
    # ISO 3166-1 alpha-2 of the EU member state of its main establishment (GDPR Art.
    # 4(16)): whose public holidays and time zone EU periods count in. None: weekends
    # alone, Europe/Brussels.
    main_establishment = fields.CharField(max_length=2, null=True)
    mail_from = fields.CharField(max_length=254, null=True)  # its own sender address
    # {kind: {locale: {"subject": ..., "text": ...}}}: its own wording of e-mails
    email_templates: dict = fields.JSONField(default=dict)
    notify_material_changes = fields.BooleanField(default=True)
    # {kind: url}: the page where the tenant shows each policy, named on consent receipts
    # (Kantara policyUrl); a kind without one is named by a URN of the exact version.
    policy_urls: dict = fields.JSONField(default=dict)
    # The tenant's plan, set by the operator: {"key_rate": [per_second, burst],
    # "public_rate": [...], "tenant_rate": [...], "max_cost": n}; absent keys: defaults.
    limits: dict = fields.JSONField(default=dict)
    # How its consent banner and privacy center look and speak (tenants.branding): {"colors":
    # {...}, "logo_url": ..., "consent_model": "EXPLICIT" | "IMPLIED", "texts": {locale: {key:
    # text}}}; absent keys: Charter's defaults.
    branding: dict = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    domain_rows: fields.ReverseRelation[TenantDomain]

    class Meta:
        table = "tenant"


# A site domain claimed by one tenant: the unique column stops two tenants claiming it.
# (Model docstrings become table comments in Tortoise, so notes on models are comments.)
class TenantDomain(Model):
    id = fields.UUIDField(primary_key=True)
    tenant = fields.ForeignKeyField(
        "charter.Tenant", related_name="domain_rows", on_delete=fields.CASCADE
    )
    domain = fields.CharField(max_length=253, unique=True)

    class Meta:
        table = "tenant_domain"


class ApiKey(TenantOwned):
    name = fields.CharField(max_length=100)
    role = fields.CharEnumField(Role, max_length=16, null=True)
    publishable = fields.BooleanField(default=False)
    prefix = fields.CharField(max_length=16)
    key_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_key"


class AuditEntry(TenantOwned):
    at = fields.DatetimeField(auto_now_add=True)
    actor = fields.CharField(max_length=64)
    action = fields.CharField(max_length=64)
    target = fields.CharField(max_length=128, null=True)
    details: dict = fields.JSONField(default=dict)

    class Meta:
        table = "audit_entry"
        indexes = (("tenant_id", "at"),)
