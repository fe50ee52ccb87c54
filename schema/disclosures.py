"""The machine-readable layer of a policy version, as GraphQL types and inputs."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry

from schema.enums import LegalBasis, RequestType
from tenants.policies import disclosures as rules

TransferDestination = strawberry.enum(
    rules.TransferDestination,
    name="TransferDestination",
    description="COUNTRY: the named country. UNSPECIFIED_THIRD_COUNTRIES: abroad, no "
    "country named (the policy says only that data leave the country).",
)
TRANSFER_COUNTRY = (
    "ISO 3166-1 alpha-2 (or EU). ZZ, the unknown region, exactly when destination is "
    "UNSPECIFIED_THIRD_COUNTRIES."
)


@strawberry.type
class Contact:
    name: str | None
    email: str | None
    address: str | None
    phone: str | None


@strawberry.type
class PurposeDisclosure:
    key: str
    legal_basis: LegalBasis
    requires_consent: bool
    data_categories: list[str]
    description: str | None


@strawberry.type
class RetentionRule:
    subject: str
    period: str | None
    criteria: str | None


@strawberry.type
class Recipient:
    name: str
    purpose: str | None
    country: str | None


@strawberry.type
class Transfer:
    country: str = strawberry.field(description=TRANSFER_COUNTRY)
    safeguard: str
    destination: TransferDestination

    @classmethod
    def of(cls, transfer: dict[str, Any]) -> Transfer:
        return cls(
            country=transfer["country"] or rules.UNKNOWN_REGION,
            safeguard=transfer["safeguard"],
            destination=rules.TransferDestination(transfer["destination"]),
        )


@strawberry.type
class Disclosures:
    controller: Contact | None
    dpo: Contact | None
    data_categories: list[str]
    purposes: list[PurposeDisclosure]
    retention: list[RetentionRule]
    recipients: list[Recipient]
    transfers: list[Transfer]
    rights: list[RequestType]
    minimum_age: int | None
    complaint_authority: str | None

    @classmethod
    def of(cls, stored: dict[str, Any]) -> Disclosures:
        def contact(value: dict | None) -> Contact | None:
            return Contact(**value) if value else None

        return cls(
            controller=contact(stored.get("controller")),
            dpo=contact(stored.get("dpo")),
            data_categories=list(stored.get("data_categories", [])),
            purposes=[
                PurposeDisclosure(**{**p, "legal_basis": LegalBasis(p["legal_basis"])})
                for p in stored.get("purposes", [])
            ],
            retention=[RetentionRule(**r) for r in stored.get("retention", [])],
            recipients=[Recipient(**r) for r in stored.get("recipients", [])],
            transfers=[Transfer.of(t) for t in rules.transfers(stored)],
            rights=[RequestType(r) for r in stored.get("rights", [])],
            minimum_age=stored.get("minimum_age"),
            complaint_authority=stored.get("complaint_authority"),
        )


@strawberry.input
class ContactInput:
    name: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    address: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET


@strawberry.input
class PurposeInput:
    key: str
    legal_basis: LegalBasis
    requires_consent: bool | None = strawberry.UNSET
    data_categories: list[str] | None = strawberry.UNSET
    description: str | None = strawberry.UNSET


@strawberry.input
class RetentionInput:
    subject: str
    period: str | None = strawberry.UNSET
    criteria: str | None = strawberry.UNSET


@strawberry.input
class RecipientInput:
    name: str
    purpose: str | None = strawberry.UNSET
    country: str | None = strawberry.UNSET


@strawberry.input
class TransferInput:
    country: str = strawberry.field(
        description='ISO 3166-1 alpha-2 (or EU); "" (or ZZ) with UNSPECIFIED_THIRD_COUNTRIES.'
    )
    safeguard: str
    destination: TransferDestination | None = strawberry.field(
        default=strawberry.UNSET,
        description="Left out: COUNTRY, or UNSPECIFIED_THIRD_COUNTRIES when country is ZZ.",
    )


@strawberry.input
class DisclosuresInput:
    controller: ContactInput | None = strawberry.UNSET
    dpo: ContactInput | None = strawberry.UNSET
    data_categories: list[str] | None = strawberry.UNSET
    purposes: list[PurposeInput] | None = strawberry.UNSET
    retention: list[RetentionInput] | None = strawberry.UNSET
    recipients: list[RecipientInput] | None = strawberry.UNSET
    transfers: list[TransferInput] | None = strawberry.UNSET
    rights: list[RequestType] | None = strawberry.UNSET
    minimum_age: int | None = strawberry.UNSET
    complaint_authority: str | None = strawberry.UNSET


def plain(value: Any) -> Any:
    """An input as the domain's plain dicts: snake_case keys, enums as values, UNSET dropped."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [plain(item) for item in value]
    if hasattr(value, "__strawberry_definition__"):
        return {
            name: plain(item)
            for name, item in vars(value).items()
            if item is not strawberry.UNSET and not name.startswith("_")
        }
    return value
