"""Fideslang taxonomy keys a tenant may use for data categories and data uses.

The sets come from the installed fideslang's default taxonomy, so upgrading fideslang
is what adds keys; nothing here is a hand-kept copy that could drift from it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from fideslang.default_taxonomy import DEFAULT_TAXONOMY

__all__ = [
    "DATA_CATEGORIES",
    "DATA_USES",
    "DEPRECATED",
    "unknown_categories",
    "unknown_uses",
]


def _current_keys(items: Sequence[Any]) -> frozenset[str]:
    # Deprecated keys (e.g. "personalize.profiling") are left out: fideslang marks them
    # superseded, so new records should use the replacement named in DEPRECATED.
    return frozenset(item.fides_key for item in items if not item.version_deprecated)


def _deprecated(*groups: Sequence[Any]) -> Mapping[str, str | None]:
    return MappingProxyType(
        {
            item.fides_key: item.replaced_by
            for items in groups
            for item in items
            if item.version_deprecated
        }
    )


DATA_CATEGORIES: frozenset[str] = _current_keys(DEFAULT_TAXONOMY.data_category)
DATA_USES: frozenset[str] = _current_keys(DEFAULT_TAXONOMY.data_use)
# Deprecated key -> its replacement (None if fideslang names none), so an error can say
# what to use instead of just "unknown".
DEPRECATED: Mapping[str, str | None] = _deprecated(
    DEFAULT_TAXONOMY.data_category, DEFAULT_TAXONOMY.data_use
)


def _unknown(keys: Iterable[str], known: frozenset[str]) -> list[str]:
    # Each unknown key once, in input order, so error messages list what the caller
    # sent in the order they sent it.
    return list(dict.fromkeys(key for key in keys if key not in known))


def unknown_categories(keys: Iterable[str]) -> list[str]:
    """The keys that are not current fideslang data categories (exact, case-sensitive)."""
    return _unknown(keys, DATA_CATEGORIES)


def unknown_uses(keys: Iterable[str]) -> list[str]:
    """The keys that are not current fideslang data uses (exact, case-sensitive)."""
    return _unknown(keys, DATA_USES)
