"""Kantara Consent Receipt v1.1 ("KI-CR-v1.1.0") documents built from plain inputs.

Callers map their tenant and policy models onto TenantInfo and PurposeInfo, so this module
knows nothing of the database. Required fields are always present; where the tenant has
not supplied a value (say, a phone number) the field is "" rather than invented, and
``validate_receipt`` names it, so the gap can be shown to whoever can fill it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tenants.taxonomy import DATA_CATEGORIES

__all__ = [
    "CONTROLLER_FIELDS",
    "PURPOSE_FIELDS",
    "REQUIRED_FIELDS",
    "SENSITIVE_CATEGORY_PREFIXES",
    "VERSION",
    "PurposeInfo",
    "TenantInfo",
    "kantara_receipt",
    "sensitive_categories",
    "validate_receipt",
]

VERSION = "KI-CR-v1.1.0"
REQUIRED_FIELDS: tuple[str, ...] = (
    "version",
    "jurisdiction",
    "consentTimestamp",
    "collectionMethod",
    "consentReceiptID",
    "piiPrincipalId",
    "piiControllers",
    "policyUrl",
    "services",
    "sensitive",
    "spiCat",
)
CONTROLLER_FIELDS: tuple[str, ...] = ("piiController", "contact", "address", "email", "phone")
PURPOSE_FIELDS: tuple[str, ...] = (
    "purpose",
    "purposeCategory",
    "consentType",
    "piiCategory",
    "termination",
    "thirdPartyDisclosure",
    "thirdPartyName",
)

# fideslang categories whose data is sensitive in at least one jurisdiction we serve. A
# receipt that over-declares sensitivity misleads no one; one that under-declares does.
SENSITIVE_CATEGORY_PREFIXES: tuple[str, ...] = (
    # GDPR Art. 9 special categories (genetic data is user.health_and_medical.genetic).
    "user.biometric",
    "user.authorization.biometric",
    "user.health_and_medical",
    "user.demographic.race_ethnicity",
    "user.demographic.religious_belief",
    "user.demographic.political_opinion",
    "user.demographic.sexual_orientation",
    # GDPR Art. 10 criminal data, and the extra "sensitive personal information" of US
    # state laws (CPRA, VCDPA): government ids, account data, precise location, children.
    "user.criminal_history",
    "user.government_id",
    "user.financial",
    "user.location.precise",
    "user.childrens",
)
_missing = [key for key in SENSITIVE_CATEGORY_PREFIXES if key not in DATA_CATEGORIES]
if _missing:  # A fideslang upgrade renamed a key; fail at import, not in a receipt.
    raise RuntimeError(f"sensitive categories missing from fideslang: {', '.join(_missing)}")

EXPLICIT = "EXPLICIT"
IMPLICIT = "IMPLICIT"
# LegalBasis.LEGITIMATE_INTERESTS; the only non-consent basis a person can object to.
_LEGITIMATE_INTERESTS = "LEGITIMATE_INTERESTS"
# When a purpose names no categories, the honest claim is "some user data": the root.
_ANY_USER_DATA = "user"


@dataclass(frozen=True)
class TenantInfo:
    """The PII controller as the receipt names it."""

    name: str
    contact: str
    address: str
    email: str
    phone: str
    jurisdictions: tuple[str, ...] = ()
    # ISO 3166-1 alpha-2 of the postal address; the v1.1 address is a schema.org object.
    country: str | None = None
    url: str | None = None  # piiControllerUrl (optional in v1.1): the controller's site


@dataclass(frozen=True)
class PurposeInfo:
    """One purpose of the policy version the person decided on."""

    key: str  # fideslang data use
    legal_basis: str  # a LegalBasis value
    requires_consent: bool
    data_categories: tuple[str, ...] = ()
    description: str | None = None
    termination: str | None = None
    third_parties: tuple[str, ...] = ()


def sensitive_categories(categories: Iterable[str]) -> list[str]:
    """The given fideslang keys at or below a sensitive prefix, sorted and unique.

    A bare parent ("user.demographic") is not counted: it does not say that a sensitive
    child is processed, and guessing would put false claims on the receipt.
    """
    return sorted(
        {
            key
            for key in categories
            for prefix in SENSITIVE_CATEGORY_PREFIXES
            if key == prefix or key.startswith(prefix + ".")
        }
    )


def _decided(decisions: Iterable[tuple[str, bool]], known: set[str]) -> dict[str, bool]:
    out: dict[str, bool] = {}
    for key, granted in decisions:
        if key not in known:
            raise ValueError(f"decision for {key!r}, which is not one of the purposes")
        if key in out:
            raise ValueError(f"purpose {key!r} is decided twice")
        out[key] = bool(granted)
    return out


def _consent_type(purpose: PurposeInfo, granted: bool | None, implied: bool) -> str | None:
    """EXPLICIT, IMPLICIT, or None when the purpose does not belong on the receipt."""
    if purpose.requires_consent:
        # Only a recorded "yes" is consent; a refusal or silence means none was given. A
        # "yes" the person did not act to give (IMPLIED) is implicit, never explicit.
        if granted is not True:
            return None
        return IMPLICIT if implied else EXPLICIT
    if granted is False and purpose.legal_basis == _LEGITIMATE_INTERESTS:
        return None  # an objection (GDPR Art. 21) ends processing on this basis
    # Contract, legal obligation, legitimate interests...: processing the person was told
    # of but did not opt into, which Kantara calls implied consent.
    return IMPLICIT


def _purpose(purpose: PurposeInfo, consent_type: str) -> dict[str, Any]:
    if purpose.termination:
        termination = purpose.termination
    elif purpose.requires_consent:
        termination = "Until consent is withdrawn; see the privacy policy for retention"
    else:
        termination = "As set out in the privacy policy"
    return {
        "purpose": purpose.description or purpose.key,
        "purposeCategory": [purpose.key],
        "consentType": consent_type,
        "piiCategory": list(purpose.data_categories) or [_ANY_USER_DATA],
        "termination": termination,
        "thirdPartyDisclosure": bool(purpose.third_parties),
        "thirdPartyName": ", ".join(purpose.third_parties),
    }


def kantara_receipt(
    *,
    receipt_id: str,
    tenant: TenantInfo,
    subject_id: str,
    jurisdiction: str | None,
    consent_timestamp: datetime,
    collection_method: str,
    policy_url: str,
    purposes: Sequence[PurposeInfo],
    decisions: Iterable[tuple[str, bool]],
    language: str | None = None,
    implied: Collection[str] = (),
) -> dict[str, Any]:
    """A v1.1 receipt listing the purposes in force for this person after ``decisions``;
    ``implied`` names the purposes whose "yes" was implied rather than expressed."""
    if not subject_id:
        raise ValueError("a receipt needs the person's identifier (piiPrincipalId)")
    if consent_timestamp.tzinfo is None:
        raise ValueError("consent_timestamp must be timezone-aware")
    decided = _decided(decisions, {p.key for p in purposes})
    listed = []
    for purpose in purposes:
        consent_type = _consent_type(purpose, decided.get(purpose.key), purpose.key in implied)
        if consent_type is not None:
            listed.append((purpose, consent_type))
    spi = sensitive_categories(c for p, _ in listed for c in p.data_categories)
    address: dict[str, str] = {"streetAddress": tenant.address or ""}
    if tenant.country:
        address["addressCountry"] = tenant.country
    controller: dict[str, Any] = {
        "piiController": tenant.name,
        "contact": tenant.contact or "",
        "address": address,
        "email": tenant.email or "",
        "phone": tenant.phone or "",
    }
    if tenant.url:
        controller["piiControllerUrl"] = tenant.url
    receipt: dict[str, Any] = {
        "version": VERSION,
        # v1.1 allows several jurisdictions separated by spaces.
        "jurisdiction": jurisdiction or " ".join(tenant.jurisdictions),
        # The spec's timestamp is a JWT NumericDate: integer seconds since the epoch.
        "consentTimestamp": int(consent_timestamp.timestamp()),
        "collectionMethod": collection_method,
        "consentReceiptID": str(receipt_id),
        "piiPrincipalId": subject_id,
        "piiControllers": [controller],
        "policyUrl": policy_url,
        "services": [
            {"service": tenant.name, "purposes": [_purpose(p, t) for p, t in listed]},
        ],
        "sensitive": bool(spi),
        "spiCat": spi,
    }
    if language:
        # The spec asks for ISO 639-1 here, so "uz-Latn-UZ" becomes "uz".
        receipt["language"] = language.split("-")[0].split("_")[0].lower()
    return receipt


def _absent(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return value is None or value == "" or (isinstance(value, Mapping) and not any(value.values()))


def validate_receipt(doc: Mapping[str, Any]) -> list[str]:
    """Paths of required fields that are missing or empty, e.g. "piiControllers[0].phone".

    Only three empties are allowed: a service's purposes (everything was refused), spiCat
    when nothing is sensitive, and thirdPartyName when nothing is disclosed.
    """
    problems = [key for key in REQUIRED_FIELDS if key not in doc or _absent(doc[key])]
    if doc.get("version") not in (None, "", VERSION):
        problems.append("version")
    # At least one controller and one service: a receipt from no one, for nothing, is void.
    problems += [
        key
        for key in ("piiControllers", "services")
        if key in doc and (not isinstance(doc[key], list) or not doc[key])
    ]
    if doc.get("sensitive") is True and not doc.get("spiCat"):
        problems.append("spiCat")
    for i, controller in enumerate(_objects(doc.get("piiControllers"))):
        problems += [
            f"piiControllers[{i}].{key}"
            for key in CONTROLLER_FIELDS
            if _absent(controller.get(key))
        ]
    for i, service in enumerate(_objects(doc.get("services"))):
        if _absent(service.get("service")):
            problems.append(f"services[{i}].service")
        if not isinstance(service.get("purposes"), list):
            problems.append(f"services[{i}].purposes")
        for j, purpose in enumerate(_objects(service.get("purposes"))):
            for key in PURPOSE_FIELDS:
                value = purpose.get(key)
                optional = key == "thirdPartyName" and purpose.get("thirdPartyDisclosure") is False
                if key not in purpose or (_absent(value) and not optional) or value == []:
                    problems.append(f"services[{i}].purposes[{j}].{key}")
    return problems


def _objects(value: Any) -> list[Mapping[str, Any]]:
    items = value if isinstance(value, list) else []
    return [item if isinstance(item, Mapping) else {} for item in items]
