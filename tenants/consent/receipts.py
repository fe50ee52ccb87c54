"""A consent event as the receipt the person (and a regulator) can be shown."""

from __future__ import annotations

from typing import Any

from tenants.consent.kantara import PurposeInfo, TenantInfo, kantara_receipt
from tenants.consent.models import ConsentEvent
from tenants.policies.catalog import Catalog
from tenants.policies.kinds import PolicyKind
from tenants.tenancy.models import Tenant


def kantara(
    *, event: ConsentEvent, tenant: Tenant, versions: Catalog, domains: list[str]
) -> dict[str, Any]:
    """Kantara Consent Receipt v1.1, from the tenant and the disclosures of the exact
    version the person saw."""
    version = versions.get(PolicyKind(event.policy_kind), event.policy_version)
    facts = version.disclosures if version else {}
    controller = facts.get("controller") or {}
    dpo = facts.get("dpo") or {}
    retention = {rule["subject"]: rule for rule in facts.get("retention", [])}
    recipients = [r["name"] for r in facts.get("recipients", []) if r.get("name")]
    info = TenantInfo(
        name=controller.get("name") or tenant.name,
        contact=dpo.get("name") or controller.get("name") or tenant.name,
        address=controller.get("address") or "",
        email=controller.get("email") or dpo.get("email") or tenant.dpo_email or "",
        phone=controller.get("phone") or dpo.get("phone") or "",
        jurisdictions=tuple(tenant.jurisdictions),
    )
    purposes = [
        PurposeInfo(
            key=p["key"],
            legal_basis=p["legal_basis"],
            requires_consent=p["requires_consent"],
            data_categories=tuple(p.get("data_categories", [])),
            description=p.get("description"),
            termination=_termination(retention.get(p["key"])),
            third_parties=tuple(recipients),
        )
        for p in facts.get("purposes", [])
    ]
    return kantara_receipt(
        receipt_id=str(event.id),
        tenant=info,
        subject_id=event.subject_id,
        jurisdiction=" ".join(tenant.jurisdictions),
        consent_timestamp=event.occurred_at,
        collection_method=event.method,
        policy_url=_policy_url(tenant, domains, event),
        purposes=purposes,
        decisions=[(d["purpose"], d["granted"]) for d in event.decisions],
        language=event.locale,
    )


def _termination(rule: dict | None) -> str | None:
    if not rule:
        return None
    return rule.get("criteria") or f"retained for {rule['period']}"


def _policy_url(tenant: Tenant, domains: list[str], event: ConsentEvent) -> str:
    # The exact version matters more than the page: the URN names it when there is no site.
    if domains:
        return f"https://{domains[0]}/"
    return f"urn:charter:{tenant.slug}:{str(event.policy_kind).lower()}:v{event.policy_version}"
