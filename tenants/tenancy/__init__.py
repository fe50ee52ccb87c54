"""Tenants, their API keys, roles, the audit log, and who is calling (Principal)."""
