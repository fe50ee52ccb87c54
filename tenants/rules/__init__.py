"""Jurisdictions and their rules, kept as data in ``jurisdictions.toml``."""

from tenants.rules.table import (
    JURISDICTIONS,
    Deadline,
    Jurisdiction,
    RuleTableError,
    Unit,
    jurisdiction,
)

__all__ = ["JURISDICTIONS", "Deadline", "Jurisdiction", "RuleTableError", "Unit", "jurisdiction"]
