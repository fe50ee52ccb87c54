"""The canonical JSON of a new event, written straight from its parts.

``chain.canonical_json(chain.event_document(...))`` builds a dict, checks it and walks it
through the generic encoder: right for verification, which must accept anything a row
holds, but three quarters of the cost of chaining a consent batch. New events come from
checked input and always have the same shape, so their bytes are formatted from fixed
templates with the same string escaper ``json.dumps`` uses. ``tests/test_consent_encoding``
proves the bytes equal the generic path's for arbitrary values.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from json.encoder import encode_basestring  # the C escaper behind json.dumps(ensure_ascii=False)
from typing import Any

from tenants import crypto
from tenants.consent.chain import COMMITMENT_PURPOSE, DOCUMENT_SCHEMA

__all__ = ["commitment", "decisions_json", "document_json", "instant"]


def _text(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


def commitment(
    *, subject_id: str, ip: str | None, user_agent: str | None, source_url: str | None, salt: str
) -> str:
    """Exactly ``chain.commitment`` for string fields and a hex salt."""
    payload = (
        f'{{"ip":{_text(ip)},"salt":"{salt}","source_url":{_text(source_url)},'
        f'"subject_id":{_text(subject_id)},"user_agent":{_text(user_agent)}}}'
    )
    return crypto.keyed_hash(payload, purpose=COMMITMENT_PURPOSE)


def instant(value: datetime) -> str:
    """``chain._instant``'s spelling of an aware datetime."""
    if value.utcoffset() is None:  # a naive time would be spelled in the server's zone
        raise ValueError("a chained time must be timezone-aware")
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def decisions_json(decisions: Sequence[dict[str, Any]]) -> str:
    """Canonical JSON of decisions already in the form ``chain.event_document`` chains
    (sorted by purpose, keys purpose/granted and an optional method)."""
    parts = []
    for decision in decisions:
        granted = "true" if decision["granted"] else "false"
        method = decision.get("method")
        middle = "" if method is None else f',"method":{encode_basestring(method)}'
        parts.append(
            f'{{"granted":{granted}{middle},"purpose":{encode_basestring(decision["purpose"])}}}'
        )
    return "[" + ",".join(parts) + "]"


def document_json(
    *,
    event_id: str,
    tenant_id: str,
    sequence: int,
    occurred_at: str,
    recorded_at: str,
    policy_kind: str,
    policy_version: int,
    locale: str | None,
    method: str,
    decisions: str,
    commitment: str,
    previous_hash: str | None,
    processing: str | None = None,
) -> bytes:
    """Exactly ``canonical_json(event_document(...))``; times come from ``instant`` and
    decisions from ``decisions_json``. Keys are in code point order, as JCS sorts them."""
    previous = "null" if previous_hash is None else f'"{previous_hash}"'
    marker = "" if processing is None else f',"processing":{encode_basestring(processing)}'
    return (
        f'{{"commitment":"{commitment}","decisions":{decisions},"event_id":"{event_id}",'
        f'"locale":{_text(locale)},"method":{encode_basestring(method)},'
        f'"occurred_at":"{occurred_at}","policy_kind":{encode_basestring(policy_kind)},'
        f'"policy_version":"{policy_version}","previous_hash":{previous}{marker},'
        f'"recorded_at":"{recorded_at}","schema":{DOCUMENT_SCHEMA},"sequence":{sequence},'
        f'"tenant_id":"{tenant_id}"}}'
    ).encode()
