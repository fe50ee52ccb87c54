"""Taxonomy keys come from fideslang's default taxonomy."""

from __future__ import annotations

from fideslang.default_taxonomy import DEFAULT_TAXONOMY

from tenants.taxonomy import (
    DATA_CATEGORIES,
    DATA_USES,
    DEPRECATED,
    unknown_categories,
    unknown_uses,
)


def test_sets_are_fideslang_default_taxonomy() -> None:
    categories = {item.fides_key for item in DEFAULT_TAXONOMY.data_category}
    uses = {item.fides_key for item in DEFAULT_TAXONOMY.data_use}
    assert isinstance(DATA_CATEGORIES, frozenset) and isinstance(DATA_USES, frozenset)
    assert DATA_CATEGORIES | {k for k in DEPRECATED if k in categories} == categories
    assert DATA_USES | {k for k in DEPRECATED if k in uses} == uses


def test_well_known_keys_are_present() -> None:
    for key in ("user", "user.contact", "user.contact.email", "system.operations"):
        assert key in DATA_CATEGORIES
    for key in ("essential.service", "marketing.communications.email", "analytics"):
        assert key in DATA_USES


def test_every_key_has_its_parents() -> None:
    for keys in (DATA_CATEGORIES, DATA_USES):
        for key in keys:
            parts = key.split(".")
            for depth in range(1, len(parts)):
                assert ".".join(parts[:depth]) in keys, key


def test_categories_and_uses_are_not_interchangeable() -> None:
    assert unknown_categories(["essential.service"]) == ["essential.service"]
    assert unknown_uses(["user.contact.email"]) == ["user.contact.email"]


def test_unknown_categories() -> None:
    keys = ["user.contact.email", "user.nope", "User.Contact", "", "user.nope", "user."]
    assert unknown_categories(keys) == ["user.nope", "User.Contact", "", "user."]
    assert unknown_categories([]) == []
    assert unknown_categories(iter(["user.contact.phone_number"])) == []


def test_unknown_uses() -> None:
    assert unknown_uses(["essential.service", "marketing.communications.email"]) == []
    assert unknown_uses(["marketing.spam", "essential", "marketing.spam"]) == ["marketing.spam"]


def test_deprecated_keys_are_unknown_with_a_replacement() -> None:
    for key, replacement in DEPRECATED.items():
        assert key not in DATA_USES and key not in DATA_CATEGORIES
        assert unknown_uses([key]) == [key]
        if replacement is not None:
            assert replacement in DATA_USES or replacement in DATA_CATEGORIES
    assert DEPRECATED.get("personalize.profiling") == "personalize.content.profiling"
