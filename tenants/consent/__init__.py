"""Consent evidence: the hash-chained event document, request evidence and Kantara receipts."""
