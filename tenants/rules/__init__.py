"""Jurisdictions and their rules, kept as data in ``jurisdictions.toml``."""

from tenants.rules.table import JURISDICTIONS, Jurisdiction, jurisdiction

__all__ = ["JURISDICTIONS", "Jurisdiction", "jurisdiction"]
