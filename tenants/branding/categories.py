"""Purposes grouped into categories a person understands.

A policy discloses purposes as fideslang data uses ("analytics.reporting",
"marketing.advertising.third_party.targeted"); a banner asks about a handful of
categories. The first matching prefix decides; the order of CATEGORIES is the order
shown. A category none of whose purposes needs consent is shown as always active: there
is nothing to ask.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from fideslang.default_taxonomy import DEFAULT_TAXONOMY

from tenants.consent.intake import GPC_PREFIXES

CATEGORIES = (
    "necessary",
    "functional",
    "analytics",
    "personalisation",
    "marketing",
    "sharing",
    "ai",
    "other",
)
# Most specific first: storing a visitor's privacy choices is necessary, not "functional".
_PREFIXES = (
    ("functional.storage.privacy_preferences", "necessary"),
    ("essential", "necessary"),
    ("functional", "functional"),
    ("analytics", "analytics"),
    ("personalize", "personalisation"),
    ("marketing", "marketing"),
    ("third_party_sharing", "sharing"),
    ("train_ai_system", "ai"),
)
_NAMES = {use.fides_key: use.name for use in DEFAULT_TAXONOMY.data_use}


@dataclass(frozen=True)
class Purpose:
    key: str
    name: str
    description: str | None
    legal_basis: str
    requires_consent: bool
    gpc_opt_out: bool  # a Global Privacy Control signal opts out of it, where GPC binds


@dataclass(frozen=True)
class Category:
    key: str
    name: str
    description: str
    purposes: tuple[Purpose, ...]

    @property
    def required(self) -> bool:
        """Nothing in it needs consent: shown as always active, never as a choice."""
        return not any(purpose.requires_consent for purpose in self.purposes)


def category_of(purpose: str) -> str:
    for prefix, category in _PREFIXES:
        if purpose == prefix or purpose.startswith(prefix + "."):
            return category
    return "other"


def gpc_covers(purpose: str) -> bool:
    """The consent domain's own rule (tenants.consent.intake), asked here, not copied."""
    return purpose.startswith(GPC_PREFIXES)


def group(purposes: Iterable[Mapping[str, Any]], texts: Mapping[str, str]) -> list[Category]:
    """The disclosed purposes by category, in CATEGORIES order; empty categories left out.
    Names come from ``texts`` (the tenant's "purpose.<key>", else fideslang's English)."""
    found: dict[str, list[Purpose]] = {}
    for item in purposes:
        key = item["key"]
        found.setdefault(category_of(key), []).append(
            Purpose(
                key=key,
                name=texts.get(f"purpose.{key}") or _NAMES.get(key, key),
                description=item.get("description"),
                legal_basis=item["legal_basis"],
                requires_consent=bool(item.get("requires_consent")),
                gpc_opt_out=gpc_covers(key),
            )
        )
    return [
        Category(
            key=key,
            name=texts[f"category.{key}.name"],
            description=texts[f"category.{key}.description"],
            purposes=tuple(found[key]),
        )
        for key in CATEGORIES
        if key in found
    ]
