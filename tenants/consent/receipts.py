"""A consent event as the documents the person (and a regulator) can be shown: a Kantara
Consent Receipt v1.1 and an ISO/IEC TS 27560 consent record, from the tenant and the
disclosures of the exact version the person saw.

What each says, and why:
- the controller is resolved once (tenants/policies/controller.py); a version that
  discloses purposes is published only with every detail a receipt needs;
- `policyUrl` is the page where the tenant shows that policy (`Tenant.policy_urls`, set
  through updateTenant), else a URN naming the exact version: never the site's root,
  which is not the policy;
- `collectionMethod` names every method that decided the event: a banner whose
  sale/sharing choices a GPC signal overrode says so;
- a "yes" given by IMPLIED consent is IMPLICIT, never EXPLICIT;
- an event that changes the processing (restriction, its lifting, an objection) decides
  no purpose: its documents list none.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tenants.consent import iso27560
from tenants.consent.kantara import PurposeInfo, TenantInfo, kantara_receipt
from tenants.consent.methods import NOT_EXPLICIT, ConsentMethod
from tenants.consent.models import ConsentEvent
from tenants.policies import disclosures as disclosure_rules
from tenants.policies.catalog import Catalog, PublishedFacts
from tenants.policies.controller import Controller, controller
from tenants.policies.kinds import PolicyKind
from tenants.rules import JURISDICTIONS
from tenants.tenancy.models import Tenant

# What a processing event is, for the receipt's collectionMethod.
PROCESSING_METHODS = {
    "RESTRICTED": "restriction of processing, on the person's request (GDPR Art. 18)",
    "RESTRICTION_LIFTED": "restriction of processing lifted (GDPR Art. 18(3))",
    "OBJECTED": "objection to processing, on the person's request (GDPR Art. 21)",
}
_METHOD_NAMES = {ConsentMethod.GPC.value: "Global Privacy Control signal (Sec-GPC: 1)"}


def policy_url(tenant: Tenant, kind: str, version: int) -> str:
    """Where the policy is shown; without a page, a URN that names the exact version."""
    page = (tenant.policy_urls or {}).get(str(kind))
    return page or f"urn:charter:{tenant.slug}:{str(kind).lower()}:v{version}"


def collection_method(event: ConsentEvent) -> str:
    """The event's method, and every other method that decided one of its purposes."""
    if event.processing:
        return PROCESSING_METHODS[event.processing]
    others: dict[str, list[str]] = {}
    for decision in event.decisions:
        method = decision.get("method")
        if method and method != str(event.method):
            others.setdefault(method, []).append(decision["purpose"])
    parts = [str(event.method)] + [
        f"{_METHOD_NAMES.get(method, method)} for {', '.join(sorted(purposes))}"
        for method, purposes in sorted(others.items())
    ]
    return "; ".join(parts)


def kantara(
    *, event: ConsentEvent, tenant: Tenant, versions: Catalog, domains: list[str]
) -> dict[str, Any]:
    """Kantara Consent Receipt v1.1 of the event."""
    facts = _facts(event, versions)
    named = controller(facts, tenant)
    return kantara_receipt(
        receipt_id=str(event.id),
        tenant=TenantInfo(
            name=named.name,
            contact=named.contact,
            address=named.address,
            email=named.email,
            phone=named.phone,
            jurisdictions=tuple(tenant.jurisdictions),
            url=f"https://{domains[0]}/" if domains else None,
        ),
        subject_id=event.subject_id,
        jurisdiction=" ".join(tenant.jurisdictions),
        consent_timestamp=event.occurred_at,
        collection_method=collection_method(event),
        policy_url=policy_url(tenant, event.policy_kind, event.policy_version),
        purposes=[] if event.processing else _purpose_infos(facts),
        decisions=[(d["purpose"], d["granted"]) for d in event.decisions],
        language=event.locale,
        implied=[d["purpose"] for d in event.decisions if _implied(event, d)],
    )


def iso_record(
    *,
    event: ConsentEvent,
    tenant: Tenant,
    versions: Catalog,
    domains: list[str],
    earlier: dict[str, bool],
    content_hash: str | None,
) -> dict[str, Any]:
    """ISO/IEC TS 27560 record of the event. ``earlier`` maps each purpose to the person's
    decision in effect just before this event (a "no" after a "yes" is a withdrawal);
    ``content_hash`` is the SHA-256 of the exact text shown."""
    facts = _facts(event, versions)
    named = controller(facts, tenant)
    disclosed = {p["key"]: p for p in facts.get("purposes", [])}
    retention = {rule["subject"]: rule for rule in facts.get("retention", [])}
    recipients = tuple(r["name"] for r in facts.get("recipients", []) if r.get("name"))
    url = policy_url(tenant, event.policy_kind, event.policy_version)
    purposes = [
        iso27560.PurposeState(
            key=d["purpose"],
            description=disclosed.get(d["purpose"], {}).get("description"),
            lawful_basis=disclosed.get(d["purpose"], {}).get("legal_basis", "CONSENT"),
            data_categories=tuple(disclosed.get(d["purpose"], {}).get("data_categories", [])),
            retention=_retention(retention, d["purpose"], disclosed.get(d["purpose"], {})),
            recipients=recipients,
            state=_state(d["granted"], earlier.get(d["purpose"])),
            explicit=(d.get("method") or str(event.method)) not in NOT_EXPLICIT,
        )
        for d in ([] if event.processing else event.decisions)
    ]
    return iso27560.consent_record(
        record_id=str(event.id),
        subject_id=event.subject_id,
        event_time=event.occurred_at,
        collection_method=collection_method(event),
        jurisdiction=" ".join(tenant.jurisdictions),
        notice=iso27560.Notice(
            kind=str(event.policy_kind),
            version=event.policy_version,
            locale=event.locale or tenant.default_locale,
            content_hash=content_hash,
            url=url,
        ),
        controller=_controller_party(named, domains),
        authority=_authority(facts, tenant),
        service=named.name,
        withdrawal_method=(
            "at any time, as easily as it was given: where it was given, or by asking "
            f"{named.email} (a WITHDRAW_CONSENT request); see {url}"
        ),
        purposes=purposes,
        transfers=disclosure_rules.transfers(facts),
    )


def earlier_decisions(event: ConsentEvent, before: list[tuple[int, datetime, list]]) -> dict:
    """Each purpose's decision in effect just before ``event``: among the subject's
    earlier events (by sequence) that happened no later, the newest by when it was made,
    ties to the later event, as consent_state folds them."""
    latest: dict[str, tuple[tuple[datetime, int], bool]] = {}
    for sequence, occurred_at, decisions in before:
        if sequence >= event.sequence or occurred_at > event.occurred_at:
            continue
        for decision in decisions:
            key = (occurred_at, sequence)
            held = latest.get(decision["purpose"])
            if held is None or held[0] <= key:
                latest[decision["purpose"]] = (key, bool(decision["granted"]))
    return {purpose: granted for purpose, (_, granted) in latest.items()}


def _facts(event: ConsentEvent, versions: Catalog) -> dict[str, Any]:
    version: PublishedFacts | None = versions.get(
        PolicyKind(event.policy_kind), event.policy_version
    )
    return version.disclosures if version else {}


def _implied(event: ConsentEvent, decision: dict[str, Any]) -> bool:
    return (decision.get("method") or str(event.method)) == ConsentMethod.IMPLIED.value


def _state(granted: bool, before: bool | None) -> str:
    if granted:
        return iso27560.GIVEN
    return iso27560.WITHDRAWN if before else iso27560.REFUSED


def _retention(rules: dict, purpose: str, disclosed: dict[str, Any]) -> str:
    """The notice's retention for the purpose, else for its data categories, else the
    notice itself (the TS makes the field mandatory; the notice is where it is said)."""
    candidates = [purpose, *disclosed.get("data_categories", [])]
    for subject in candidates:
        rule = rules.get(subject)
        if rule:
            return rule.get("period") or rule.get("criteria")
    return "as set out in the privacy notice"


def _purpose_infos(facts: dict[str, Any]) -> list[PurposeInfo]:
    retention = {rule["subject"]: rule for rule in facts.get("retention", [])}
    recipients = tuple(r["name"] for r in facts.get("recipients", []) if r.get("name"))
    return [
        PurposeInfo(
            key=p["key"],
            legal_basis=p["legal_basis"],
            requires_consent=p["requires_consent"],
            data_categories=tuple(p.get("data_categories", [])),
            description=p.get("description"),
            termination=_termination(retention.get(p["key"])),
            third_parties=recipients,
        )
        for p in facts.get("purposes", [])
    ]


def _termination(rule: dict | None) -> str | None:
    if not rule:
        return None
    return rule.get("criteria") or f"retained for {rule['period']}"


def _controller_party(named: Controller, domains: list[str]) -> iso27560.Party:
    return iso27560.Party(
        party_id=iso27560.CONTROLLER_ID,
        name=named.name,
        role="PII controller",
        type="organisation",
        address=named.address,
        email=named.email,
        phone=named.phone,
        url=f"https://{domains[0]}/" if domains else "",
        contact=named.contact,
    )


def _authority(facts: dict[str, Any], tenant: Tenant) -> iso27560.Party | None:
    """The authority a complaint goes to: as the notice names it, else the rule table's
    authority of each of the tenant's jurisdictions."""
    codes = [code for code in tenant.jurisdictions if code in JURISDICTIONS]
    name = facts.get("complaint_authority") or "; ".join(
        f"{JURISDICTIONS[code].authority} ({code})" for code in codes
    )
    if not name:
        return None
    return iso27560.Party(
        party_id=iso27560.AUTHORITY_ID,
        name=name,
        role="supervisory authority",
        type="public authority",
        address=" ".join(codes) or "unknown",
    )
