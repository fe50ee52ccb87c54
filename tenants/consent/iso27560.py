"""ISO/IEC TS 27560:2023 consent records built from plain inputs.

The TS itself is not public; its field names are, through the W3C Data Privacy
Vocabularies and Controls CG's implementation guide and examples (Annex A of the TS
uses them): https://w3id.org/dpv/guides/consent-27560 and the plain-JSON record of
https://github.com/coolharsh55/dpv-consent-record (`record.json`, `spec_record.md`).
This module uses those names, snake_cased as that plain-JSON record does:

- record: schema_version, record_id, receipt_id, pii_principal_id, authority_party
- pii_processing: privacy_notice, language, purposes[]
- each purpose: purpose, purpose_type, lawful_basis, pii_information[] (pii_type,
  sensitive_pii_category, special_pii_category), pii_controllers, collection_method,
  retention_period, services, jurisdiction, recipient_third_parties, withdrawal_method,
  and event[] (event_time, validity_duration, entity_id, event_type, event_state)
- party_identification[]: party_id, party_name, party_role, party_type, party_address,
  party_email, party_phone, party_url, party_contact

Where the TS keeps events at record level, Charter puts each purpose's own event on the
purpose: one record holds a whole decision set, and the state differs per purpose
(given, refused, withdrawn). The notice shown is pinned by policy kind, version, locale
and the SHA-256 of the exact text (privacy_notice). Charter holds no storage or
processing locations, so those optional-in-practice fields are left out rather than
guessed; the notice's transfers to third countries go in each purpose's
geographic_restrictions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tenants.consent.kantara import sensitive_categories

SCHEMA_VERSION = "ISO/IEC TS 27560:2023"
CONTROLLER_ID = "controller"
AUTHORITY_ID = "authority"
GIVEN, REFUSED, WITHDRAWN = "given", "refused", "withdrawn"
EXPLICIT, IMPLICIT = "explicit", "implicit"

# GDPR Art. 9(1) special categories among fideslang's: "special" on top of "sensitive".
SPECIAL_CATEGORY_PREFIXES: tuple[str, ...] = (
    "user.biometric",
    "user.authorization.biometric",
    "user.health_and_medical",
    "user.demographic.race_ethnicity",
    "user.demographic.religious_belief",
    "user.demographic.political_opinion",
    "user.demographic.sexual_orientation",
)
# How long a state holds (DPV duration types: UntilEventDuration, TemporalDuration).
UNTIL_WITHDRAWN = {
    "type": "until_event",
    "value": "until withdrawn, or until a material change of the notice asks again",
}
ENDED = {"type": "temporal", "value": "PT0S"}

RECORD_FIELDS = ("schema_version", "record_id", "receipt_id", "pii_principal_id")
PURPOSE_FIELDS = (
    "purpose",
    "lawful_basis",
    "pii_information",
    "pii_controllers",
    "collection_method",
    "retention_period",
    "jurisdiction",
    "recipient_third_parties",
    "withdrawal_method",
    "event",
)
EVENT_FIELDS = ("event_time", "validity_duration", "entity_id", "event_type", "event_state")
PARTY_FIELDS = ("party_id", "party_name", "party_role", "party_type", "party_address")
STATES = (GIVEN, REFUSED, WITHDRAWN)


@dataclass(frozen=True)
class Notice:
    """The exact notice the person was shown."""

    kind: str
    version: int
    locale: str
    content_hash: str | None
    url: str


@dataclass(frozen=True)
class Party:
    party_id: str
    name: str
    role: str
    type: str
    address: str = ""
    email: str = ""
    phone: str = ""
    url: str = ""
    contact: str = ""


@dataclass(frozen=True)
class PurposeState:
    """One purpose of the notice and what the person decided on it in this event."""

    key: str  # fideslang data use
    description: str | None
    lawful_basis: str  # a LegalBasis value
    data_categories: tuple[str, ...]
    retention: str  # an ISO 8601 duration, or the notice's criteria
    recipients: tuple[str, ...]
    state: str  # given, refused or withdrawn
    explicit: bool


def consent_record(
    *,
    record_id: str,
    subject_id: str,
    event_time: datetime,
    collection_method: str,
    jurisdiction: str,
    notice: Notice,
    controller: Party,
    authority: Party | None,
    service: str,
    withdrawal_method: str,
    purposes: Sequence[PurposeState],
    transfers: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """A record of one consent event; ``purposes`` are those decided in it.

    ``transfers`` (the notice's, as tenants.policies.disclosures.transfers gives them:
    country or None, destination, safeguard) go in each purpose's geographic restrictions,
    the TS field for transfers to third countries (GDPR Arts. 13(1)(f), 44-49)."""
    if event_time.tzinfo is None:
        raise ValueError("event_time must be timezone-aware")
    bad = [p.state for p in purposes if p.state not in STATES]
    if bad:
        raise ValueError(f"unknown consent states {bad}")
    record: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "record_id": record_id,
        "receipt_id": record_id,  # the Kantara receipt beside it carries the same id
        "pii_principal_id": subject_id,
    }
    if authority is not None:
        record["authority_party"] = authority.party_id
    when = event_time.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return {
        "record": record,
        "pii_processing": {
            "privacy_notice": {
                "policy_kind": notice.kind,
                "version": notice.version,
                "locale": notice.locale,
                "content_hash": notice.content_hash,
                "url": notice.url,
            },
            # ISO 639 two-letter code of the notice's language, as the TS asks.
            "language": notice.locale.split("-")[0].lower(),
            "purposes": [
                {
                    "purpose": p.description or p.key,
                    "purpose_type": p.key,
                    "lawful_basis": p.lawful_basis.lower(),
                    "pii_information": _pii(p.data_categories),
                    "pii_controllers": [controller.party_id],
                    "collection_method": collection_method,
                    "retention_period": p.retention,
                    "services": [service],
                    "jurisdiction": jurisdiction,
                    "recipient_third_parties": list(p.recipients),
                    **(
                        {"geographic_restrictions": [dict(t) for t in transfers]}
                        if transfers
                        else {}
                    ),
                    "withdrawal_method": withdrawal_method,
                    "event": [
                        {
                            "event_time": when,
                            "validity_duration": UNTIL_WITHDRAWN if p.state == GIVEN else ENDED,
                            "entity_id": subject_id,
                            "event_type": EXPLICIT if p.explicit else IMPLICIT,
                            "event_state": p.state,
                        }
                    ],
                }
                for p in purposes
            ],
        },
        "party_identification": [_party(controller)]
        + ([_party(authority)] if authority is not None else []),
    }


def _pii(categories: Sequence[str]) -> list[dict[str, Any]]:
    sensitive = set(sensitive_categories(categories))
    return [
        {
            "pii_type": category,
            "sensitive_pii_category": category in sensitive,
            "special_pii_category": any(
                category == prefix or category.startswith(prefix + ".")
                for prefix in SPECIAL_CATEGORY_PREFIXES
            ),
        }
        # No category named: the honest claim is "some user data", as on the Kantara receipt.
        for category in (categories or ("user",))
    ]


def _party(party: Party) -> dict[str, Any]:
    out = {
        "party_id": party.party_id,
        "party_name": party.name,
        "party_role": party.role,
        "party_type": party.type,
        "party_address": party.address,
    }
    optional = {
        "party_email": party.email,
        "party_phone": party.phone,
        "party_url": party.url,
        "party_contact": party.contact,
    }
    return out | {key: value for key, value in optional.items() if value}


def validate_record(doc: Mapping[str, Any]) -> list[str]:
    """Paths of mandatory fields that are missing or empty ("pii_processing.purposes[0].
    event[0].event_state"); a state must be given, refused or withdrawn."""
    problems: list[str] = []
    record = doc.get("record") if isinstance(doc.get("record"), Mapping) else {}
    problems += [f"record.{key}" for key in RECORD_FIELDS if not record.get(key)]
    processing = doc.get("pii_processing")
    processing = processing if isinstance(processing, Mapping) else {}
    notice = processing.get("privacy_notice")
    if not isinstance(notice, Mapping) or not notice.get("version") or not notice.get("locale"):
        problems.append("pii_processing.privacy_notice")
    if not processing.get("language"):
        problems.append("pii_processing.language")
    purposes = processing.get("purposes")
    if not isinstance(purposes, list):
        problems.append("pii_processing.purposes")
        purposes = []
    parties = {p.get("party_id") for p in _objects(doc.get("party_identification"))}
    for i, purpose in enumerate(_objects(purposes)):
        where = f"pii_processing.purposes[{i}]"
        for key in PURPOSE_FIELDS:
            value = purpose.get(key)
            allowed_empty = key == "recipient_third_parties" and value == []
            if value in (None, "", []) and not allowed_empty:
                problems.append(f"{where}.{key}")
        if any(c not in parties for c in purpose.get("pii_controllers") or []):
            problems.append(f"{where}.pii_controllers")
        for j, event in enumerate(_objects(purpose.get("event"))):
            problems += [f"{where}.event[{j}].{key}" for key in EVENT_FIELDS if not event.get(key)]
            if event.get("event_state") and event["event_state"] not in STATES:
                problems.append(f"{where}.event[{j}].event_state")
    for i, party in enumerate(_objects(doc.get("party_identification"))):
        problems += [
            f"party_identification[{i}].{key}" for key in PARTY_FIELDS if not party.get(key)
        ]
    authority = record.get("authority_party")
    if authority and authority not in parties:
        problems.append("record.authority_party")
    return problems


def _objects(value: Any) -> list[Mapping[str, Any]]:
    items = value if isinstance(value, list) else []
    return [item if isinstance(item, Mapping) else {} for item in items]
