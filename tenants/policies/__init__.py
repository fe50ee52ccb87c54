"""Tenants' privacy policies: rendering to safe HTML and locale negotiation."""
