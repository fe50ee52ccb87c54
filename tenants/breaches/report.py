"""The notification to an authority, as GDPR Art. 33(3) lists its contents."""

from __future__ import annotations

from typing import Any

from tenants.breaches.models import Breach, BreachClock
from tenants.tenancy.models import Tenant


def document(*, tenant: Tenant, breach: Breach, clocks: list[BreachClock]) -> dict[str, Any]:
    return {
        "controller": {"name": tenant.name, "contact_point": tenant.dpo_email},
        "breach": {
            "id": str(breach.id),
            "title": breach.title,
            "status": breach.status,
            "risk": breach.risk,
            "detected_at": breach.detected_at.isoformat(),
            "aware_at": breach.aware_at.isoformat(),
        },
        # (a) nature, categories and approximate numbers of people and records
        "nature": {
            "description": breach.nature,
            "data_categories": breach.data_categories,
            "approx_subjects": breach.approx_subjects,
            "approx_records": breach.approx_records,
        },
        # (c) likely consequences, (d) measures taken or proposed
        "likely_consequences": breach.consequences,
        "measures": breach.measures,
        "notifications": [
            {
                "jurisdiction": clock.jurisdiction,
                "kind": clock.kind,
                "due_at": clock.due_at.isoformat() if clock.due_at else None,
                "notified_at": clock.satisfied_at.isoformat() if clock.satisfied_at else None,
                "reference": clock.reference,
            }
            for clock in clocks
        ],
        "notices_to_people": breach.notices_sent,
    }


def markdown(doc: dict[str, Any]) -> str:
    def value(text: Any) -> str:
        return (
            "not yet known (to be provided in phases, Art. 33(4))"
            if text in (None, "", [])
            else str(text)
        )

    nature, breach = doc["nature"], doc["breach"]
    lines = [
        f"# Personal data breach notification: {breach['title']}",
        "",
        f"Controller: {doc['controller']['name']}",
        f"Contact point (DPO): {value(doc['controller']['contact_point'])}",
        f"Detected: {breach['detected_at']}; aware: {breach['aware_at']}; risk: {breach['risk']}",
        "",
        "## Nature of the breach",
        value(nature["description"]),
        "",
        f"- Categories of personal data: {value(', '.join(nature['data_categories']))}",
        f"- Approximate number of people concerned: {value(nature['approx_subjects'])}",
        f"- Approximate number of records concerned: {value(nature['approx_records'])}",
        "",
        "## Likely consequences",
        value(doc["likely_consequences"]),
        "",
        "## Measures taken or proposed",
        value(doc["measures"]),
        "",
        "## Notifications",
    ]
    for item in doc["notifications"]:
        status = (
            f"notified {item['notified_at']} (ref. {item['reference'] or '-'})"
            if item["notified_at"]
            else "pending"
        )
        due = item["due_at"] or "without undue delay"
        lines.append(f"- {item['jurisdiction']} {item['kind']}: due {due}; {status}")
    lines.append(f"- People notified: {doc['notices_to_people']}")
    return "\n".join(lines) + "\n"
