"""The machine-readable layer of a policy version: checked against fideslang and the law.

Input and storage share one shape, a plain dict with snake_case keys (see ``EMPTY``).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from tenants import taxonomy, validation
from tenants.errors import ErrorCode, Problems
from tenants.policies.kinds import LegalBasis
from tenants.rights import RequestType

EMPTY: dict[str, Any] = {
    "controller": None,
    "dpo": None,
    "data_categories": [],
    "purposes": [],
    "retention": [],
    "recipients": [],
    "transfers": [],
    "rights": [],
    "minimum_age": None,
    "complaint_authority": None,
}

# ISO 8601 durations as retention periods ("P1Y", "P6M", "P30D", "PT72H").
DURATION = re.compile(r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$")
COUNTRY = re.compile(r"^[A-Z]{2}$")  # ISO 3166-1 alpha-2, plus "EU" for the Union
# ISO 3166-1's user-assigned codes (AA, QM-QZ, XA-XZ, ZZ) name no country. XK is the one
# exception in use: Kosovo, as the EU and most registries write it.
UNKNOWN_REGION = "ZZ"  # CLDR's "Unknown Region"; what clients had to write for "abroad"
KOSOVO = "XK"


class TransferDestination(StrEnum):
    """Where a transfer goes: a named country, or abroad with no country named (GDPR Art.
    13(1)(f) asks for "the fact that the controller intends to transfer ... to a third
    country"; a policy that says only "abroad" discloses exactly that)."""

    COUNTRY = "COUNTRY"
    UNSPECIFIED_THIRD_COUNTRIES = "UNSPECIFIED_THIRD_COUNTRIES"


MAX_TEXT = 2000
MAX_AGE = 21


def clean(problems: Problems, given: dict[str, Any], *path: str) -> dict[str, Any]:
    """A validated copy of ``given``; every problem is added with its field path."""
    out = {**EMPTY}
    for role in ("controller", "dpo"):
        if given.get(role) is not None:
            out[role] = _contact(problems, given[role], *path, _camel(role))
    categories = list(given.get("data_categories") or [])
    _taxonomy(problems, categories, taxonomy.unknown_categories, *path, "dataCategories")
    validation.unique(problems, categories, *path, "dataCategories")
    out["data_categories"] = categories
    out["purposes"] = [
        _purpose(problems, p, *path, "purposes", str(i))
        for i, p in enumerate(given.get("purposes") or [])
    ]
    validation.unique(problems, [p["key"] for p in out["purposes"]], *path, "purposes")
    out["retention"] = [
        _retention(problems, r, *path, "retention", str(i))
        for i, r in enumerate(given.get("retention") or [])
    ]
    out["recipients"] = [
        _recipient(problems, r, *path, "recipients", str(i))
        for i, r in enumerate(given.get("recipients") or [])
    ]
    out["transfers"] = [
        _transfer(problems, t, *path, "transfers", str(i))
        for i, t in enumerate(given.get("transfers") or [])
    ]
    rights = [RequestType(r).value for r in given.get("rights") or []]
    validation.unique(problems, rights, *path, "rights")
    out["rights"] = rights
    age = given.get("minimum_age")
    if age is not None and not 0 <= age <= MAX_AGE:
        problems.add(ErrorCode.INVALID, f"minimumAge must be 0-{MAX_AGE}", *path, "minimumAge")
    out["minimum_age"] = age
    out["complaint_authority"] = _optional_text(given.get("complaint_authority"))
    return out


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _optional_text(value: str | None) -> str | None:
    cleaned = (value or "").strip()
    return cleaned[:MAX_TEXT] or None


def _taxonomy(problems: Problems, keys: list[str], unknown, *field: str) -> None:
    for key in unknown(keys):
        index = keys.index(key)
        problems.add(
            ErrorCode.UNKNOWN_TAXONOMY_KEY,
            f"{key!r} is not a fideslang key",
            *field,
            str(index),
        )


def _contact(problems: Problems, contact: dict[str, Any], *field: str) -> dict[str, Any]:
    email = contact.get("email")
    if email:
        email = validation.email(problems, email, *field, "email")
    return {
        "name": _optional_text(contact.get("name")),
        "email": email or None,
        "address": _optional_text(contact.get("address")),
        "phone": _optional_text(contact.get("phone")),
    }


def _purpose(problems: Problems, purpose: dict[str, Any], *field: str) -> dict[str, Any]:
    key = (purpose.get("key") or "").strip()
    if taxonomy.unknown_uses([key]):
        problems.add(
            ErrorCode.UNKNOWN_TAXONOMY_KEY, f"{key!r} is not a fideslang data use", *field, "key"
        )
    categories = list(purpose.get("data_categories") or [])
    _taxonomy(problems, categories, taxonomy.unknown_categories, *field, "dataCategories")
    basis = LegalBasis(purpose["legal_basis"])
    requires = purpose.get("requires_consent")
    return {
        "key": key,
        "legal_basis": basis.value,
        # Consent is required exactly when consent is the legal basis, unless said otherwise.
        "requires_consent": basis == LegalBasis.CONSENT if requires is None else bool(requires),
        "data_categories": categories,
        "description": _optional_text(purpose.get("description")),
    }


def _retention(problems: Problems, rule: dict[str, Any], *field: str) -> dict[str, Any]:
    subject = (rule.get("subject") or "").strip()
    if taxonomy.unknown_categories([subject]) and taxonomy.unknown_uses([subject]):
        problems.add(
            ErrorCode.UNKNOWN_TAXONOMY_KEY,
            f"{subject!r} is neither a fideslang data category nor a data use",
            *field,
            "subject",
        )
    period = (rule.get("period") or "").strip() or None
    if period is not None and not DURATION.match(period):
        problems.add(
            ErrorCode.INVALID_DURATION, f"{period!r} is not an ISO 8601 duration", *field, "period"
        )
    criteria = _optional_text(rule.get("criteria"))
    if period is None and criteria is None:
        problems.add(ErrorCode.REQUIRED, "give a period, criteria, or both", *field, "period")
    return {"subject": subject, "period": period, "criteria": criteria}


def _user_assigned(code: str) -> bool:
    return (
        code in ("AA", UNKNOWN_REGION)
        or "QM" <= code <= "QZ"
        or (code.startswith("X") and code != KOSOVO)
    )


def _country(problems: Problems, value: str | None, *field: str) -> str | None:
    if value is None:
        return None
    code = value.strip().upper()
    if not COUNTRY.match(code):
        problems.add(
            ErrorCode.INVALID_COUNTRY, f"{value!r} is not an ISO 3166 country code", *field
        )
    elif _user_assigned(code):
        problems.add(
            ErrorCode.INVALID_COUNTRY,
            f"{code} is a user-assigned ISO 3166 code and names no country",
            *field,
        )
    return code


def _recipient(problems: Problems, recipient: dict[str, Any], *field: str) -> dict[str, Any]:
    return {
        "name": validation.text(problems, recipient.get("name"), *field, "name", max_length=300),
        "purpose": _optional_text(recipient.get("purpose")),
        "country": _country(problems, recipient.get("country"), *field, "country"),
    }


def _transfer(problems: Problems, transfer: dict[str, Any], *field: str) -> dict[str, Any]:
    """{"country": code or None, "destination": TransferDestination, "safeguard": text}.

    ``destination`` left out follows the country: "ZZ", the only way to say "abroad"
    before the field existed, is mapped to UNSPECIFIED_THIRD_COUNTRIES.
    """
    safeguard = validation.text(
        problems, transfer.get("safeguard"), *field, "safeguard", max_length=MAX_TEXT
    )
    raw = (transfer.get("country") or "").strip().upper()
    given = transfer.get("destination")
    if given not in (None, *TransferDestination):
        problems.add(ErrorCode.INVALID, f"unknown destination {given!r}", *field, "destination")
        given = None
    if given is None:
        unspecified = raw == UNKNOWN_REGION
    else:
        unspecified = given == TransferDestination.UNSPECIFIED_THIRD_COUNTRIES
    if unspecified:
        if raw not in ("", UNKNOWN_REGION):
            problems.add(
                ErrorCode.INVALID,
                "a transfer to unspecified third countries names no country: leave country "
                "empty, or set destination COUNTRY",
                *field,
                "country",
            )
        return {
            "country": None,
            "destination": TransferDestination.UNSPECIFIED_THIRD_COUNTRIES.value,
            "safeguard": safeguard,
        }
    if not raw:
        problems.add(
            ErrorCode.REQUIRED,
            "name the country, or set destination UNSPECIFIED_THIRD_COUNTRIES",
            *field,
            "country",
        )
    return {
        "country": _country(problems, raw, *field, "country") if raw else None,
        "destination": TransferDestination.COUNTRY.value,
        "safeguard": safeguard,
    }


def transfers(stored: dict[str, Any]) -> list[dict[str, Any]]:
    """A version's transfers, each with its destination: versions frozen before the field
    existed say "ZZ" for unspecified third countries and nothing for a named one."""
    out = []
    for transfer in stored.get("transfers", []):
        unspecified = transfer.get(
            "destination"
        ) == TransferDestination.UNSPECIFIED_THIRD_COUNTRIES or transfer.get("country") in (
            None,
            "",
            UNKNOWN_REGION,
        )
        out.append(
            {
                "country": None if unspecified else transfer["country"],
                "destination": (
                    TransferDestination.UNSPECIFIED_THIRD_COUNTRIES
                    if unspecified
                    else TransferDestination.COUNTRY
                ).value,
                "safeguard": transfer.get("safeguard", ""),
            }
        )
    return out
