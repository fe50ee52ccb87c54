"""Jurisdictions and their rules, kept as data in ``jurisdictions.toml``."""

from tenants.rules.table import (
    JURISDICTIONS,
    Deadline,
    Jurisdiction,
    Roll,
    RuleTableError,
    Unit,
    jurisdiction,
)

__all__ = [
    "JURISDICTIONS",
    "Deadline",
    "Jurisdiction",
    "Roll",
    "RuleTableError",
    "Unit",
    "jurisdiction",
]
