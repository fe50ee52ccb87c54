"""The PII controller a consent receipt names, from a version's disclosures and the tenant.

One resolution serves the Kantara receipt, the ISO/IEC TS 27560 record and the check at
publishing: the version's controller, then its DPO, then what the tenant itself holds.
Kantara Consent Receipt v1.1 requires the controller's name, contact, address, e-mail and
phone (piiControllers), and GDPR Art. 13(1)(a) the controller's identity and contact
details in the notice itself; a version that discloses purposes (so consent can be
recorded under it) is therefore published only with all of them, and no receipt ever
carries an empty one.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from tenants.errors import DomainError, ErrorCode, Problem
from tenants.tenancy.models import Tenant


@dataclass(frozen=True)
class Controller:
    name: str
    contact: str  # a person or team to ask (Kantara "contact")
    address: str
    email: str
    phone: str


def controller(disclosures: dict[str, Any], tenant: Tenant) -> Controller:
    given = disclosures.get("controller") or {}
    dpo = disclosures.get("dpo") or {}
    return Controller(
        name=given.get("name") or tenant.name,
        contact=dpo.get("name") or given.get("name") or tenant.name,
        address=given.get("address") or "",
        email=given.get("email") or dpo.get("email") or tenant.dpo_email or "",
        phone=given.get("phone") or dpo.get("phone") or "",
    )


def check_publishable(disclosures: dict[str, Any], tenant: Tenant) -> None:
    """Raises INCOMPLETE_CONTROLLER naming each missing detail, for a version that
    discloses purposes; a version without purposes takes no consent, so needs none."""
    if not disclosures.get("purposes"):
        return
    named = controller(disclosures, tenant)
    missing = [field.name for field in fields(named) if not getattr(named, field.name)]
    if missing:
        raise DomainError(
            *(
                Problem(
                    ("disclosures", "controller", name),
                    ErrorCode.INCOMPLETE_CONTROLLER,
                    f"consent receipts name the controller's {name} (Kantara Consent Receipt "
                    "v1.1, GDPR Art. 13(1)(a)): give it (or the DPO's) in the disclosures "
                    "before publishing a version that discloses purposes",
                )
                for name in missing
            )
        )
