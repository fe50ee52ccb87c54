"""The hash chain of a tenant's consent ledger: canonical documents, links and verification.

Each event's chained document holds what was agreed (policy, locale, method, decisions)
and a keyed commitment to the personal fields, never the fields themselves. Erasure can
then blank the personal columns of a row without touching any document or hash.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tenants import crypto

__all__ = [
    "DOCUMENT_SCHEMA",
    "ChainLink",
    "Verification",
    "canonical_json",
    "commitment",
    "event_document",
    "link_hash",
    "new_salt",
    "verify",
]

# Bumped whenever the field set of event_document changes, so old links still verify
# against the shape they were written with.
DOCUMENT_SCHEMA = 1
COMMITMENT_PURPOSE = "consent-commitment"
# RFC 8785 serialises numbers as IEEE doubles; beyond 2**53 an integer would silently
# change value in any other JCS implementation, so such integers are refused.
_MAX_SAFE_INT = 2**53 - 1
_MIN_SALT = 16
_HEX_HASH = re.compile(r"[0-9a-f]{64}")
# JSON.stringify's escaping, which JCS adopts: quote, backslash and C0 controls only (the
# short forms where JSON has one); Cyrillic, U+02BB, U+2028 and DEL all stay literal.
_ESCAPES = str.maketrans(
    {chr(c): f"\\u{c:04x}" for c in range(0x20)}
    | {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
)


def canonical_json(value: Any) -> bytes:
    """RFC 8785 (JCS) bytes for str, int, bool, None, lists/tuples and str-keyed dicts.

    Floats are refused outright: no ledger value needs one, and JCS's ECMAScript number
    formatting is the one part of the RFC not worth reimplementing. Datetimes must be
    turned into ISO strings by the caller. Lone surrogates fail in the UTF-8 encode.
    """
    if type(value) is _Plain or _plain(value):
        # The C encoder gives the same bytes as JCS for plain values: keys in the BMP sort
        # the same by code point as by UTF-16 unit, and its escapes are JSON.stringify's.
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    return _serialise(value).encode("utf-8")


class _Plain(dict):
    """A document built here from checked parts (str, bool, small int, None; ASCII keys):
    plain by construction, so canonical_json skips walking it again. verifyConsentLedger
    rebuilds one per row of the chain."""


def _plain(value: Any) -> bool:
    """True when ``value`` holds only what the fast path encodes exactly like JCS; anything
    else (floats, huge ints, odd keys or types) goes the slow way, which explains it."""
    if value is None or isinstance(value, str | bool):
        return True
    if isinstance(value, int):
        return abs(value) <= _MAX_SAFE_INT
    if type(value) is dict:
        return all(
            isinstance(k, str) and (k.isascii() or max(k) <= "\uffff") and _plain(v)
            for k, v in value.items()
        )
    if isinstance(value, list | tuple):
        return all(_plain(item) for item in value)
    return False


def _string(text: str) -> str:
    return '"' + text.translate(_ESCAPES) + '"'


def _serialise(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        if abs(value) > _MAX_SAFE_INT:
            raise ValueError(f"integer {value} is outside the range JCS can represent exactly")
        return str(int(value))
    if isinstance(value, float):
        raise TypeError("floats are not supported in canonical JSON (and NaN/Infinity never)")
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, Mapping):
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"object keys must be strings, got {key!r}")
        # JCS orders members by UTF-16 code units, which differs from code point order
        # once a key holds characters outside the BMP.
        keys = sorted(value, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(f"{_string(k)}:{_serialise(value[k])}" for k in keys) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_serialise(item) for item in value) + "]"
    raise TypeError(f"{type(value).__name__} is not a canonical JSON type; convert it first")


def new_salt() -> str:
    """128 random bits as hex, stored with (and erased with) the event's personal fields."""
    return secrets.token_hex(16)


def commitment(
    *,
    subject_id: str | None,
    ip: str | None,
    user_agent: str | None,
    source_url: str | None,
    salt: str,
) -> str:
    """Keyed hash binding the event to its personal fields without revealing them.

    The salt makes equal fields in two events commit differently, so commitments cannot be
    linked to each other; the key means a leaked ledger cannot be brute-forced for small
    spaces such as IPv4 addresses.
    """
    if not isinstance(salt, str) or len(salt) < _MIN_SALT:
        raise ValueError(f"salt must be a string of at least {_MIN_SALT} characters")
    # Canonical JSON of a fixed object is an unambiguous encoding: no separator games.
    if not all(v is None or isinstance(v, str) for v in (subject_id, ip, user_agent, source_url)):
        raise TypeError("personal fields must be strings or None")
    payload = _Plain(
        {
            "ip": ip,
            "salt": salt,
            "source_url": source_url,
            "subject_id": subject_id,
            "user_agent": user_agent,
        }
    )
    return crypto.keyed_hash(canonical_json(payload).decode("utf-8"), purpose=COMMITMENT_PURPOSE)


def _instant(name: str, value: datetime) -> str:
    # One fixed spelling (UTC, microseconds, "Z"), so a document rebuilt from database
    # columns serialises byte-for-byte as it did when first chained.
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _decisions(decisions: Sequence[Any]) -> list[dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for item in decisions:
        if type(item) is dict or isinstance(item, Mapping):  # a dict skips the ABC check
            purpose, granted, method = item.get("purpose"), item.get("granted"), item.get("method")
        else:
            (purpose, granted), method = item, None
        if not isinstance(purpose, str) or not purpose or not isinstance(granted, bool):
            raise ValueError(f"a decision needs a purpose key and a bool, got {item!r}")
        if purpose in out:
            raise ValueError(f"purpose {purpose!r} is decided twice in one event")
        # A decision may carry its own method when it differs from the event's (a GPC
        # signal overriding the banner's choice for sale and sharing).
        out[purpose] = {"purpose": purpose, "granted": granted}
        if method is not None:
            out[purpose]["method"] = str(method)
    # Sorted, because the set of decisions is what was agreed, not the order of checkboxes.
    return [out[key] for key in sorted(out)]


def event_document(
    *,
    event_id: Any,
    tenant_id: Any,
    sequence: int,
    occurred_at: datetime,
    recorded_at: datetime,
    policy_kind: str,
    policy_version: Any,
    locale: str | None,
    method: str,
    decisions: Sequence[tuple[str, bool]] | Sequence[Mapping[str, Any]],
    commitment: str,
    previous_hash: str | None,
    processing: str | None = None,
) -> dict[str, Any]:
    """The chained content of one consent event; it never holds a personal field.

    ``processing`` marks an event about the processing itself rather than a decision
    (a restriction, its lifting, an objection: tenants/consent/processing.py); absent from
    every other document, so those written before it existed verify as they were."""
    if type(sequence) is not int or not 1 <= sequence <= _MAX_SAFE_INT:
        raise ValueError("sequence must be an int >= 1")
    if locale is not None and not isinstance(locale, str):
        raise ValueError("locale must be a string or None")
    _check_previous(previous_hash)
    # Only a hash may stand for the person here; a raw id passed by mistake would be chained
    # for ever, beyond the reach of erasure.
    if not isinstance(commitment, str) or not _HEX_HASH.fullmatch(commitment):
        raise ValueError("commitment must be the 64-hex-character output of commitment()")
    document = _Plain(
        {
            "schema": DOCUMENT_SCHEMA,
            # Ids are stringified so UUID and int keys both serialise the same on every backend.
            "event_id": str(event_id),
            "tenant_id": str(tenant_id),
            "sequence": sequence,
            "occurred_at": _instant("occurred_at", occurred_at),
            "recorded_at": _instant("recorded_at", recorded_at),
            "policy_kind": str(policy_kind),
            "policy_version": str(policy_version),
            "locale": locale,
            "method": str(method),
            "decisions": _decisions(decisions),
            "commitment": commitment,
            "previous_hash": previous_hash,
        }
    )
    if processing is not None:
        document["processing"] = str(processing)
    return document


def _check_previous(previous_hash: str | None) -> None:
    if previous_hash is not None and not _HEX_HASH.fullmatch(previous_hash):
        raise ValueError("previous_hash must be 64 lowercase hex characters or None")


def link_hash(*, previous_hash: str | None, document: Mapping[str, Any]) -> str:
    """Hex SHA-256 of previous_hash (ASCII hex, empty for genesis) ‖ canonical_json(document)."""
    _check_previous(previous_hash)
    prefix = previous_hash.encode("ascii") if previous_hash else b""
    return hashlib.sha256(prefix + canonical_json(document)).hexdigest()


@dataclass(frozen=True)
class ChainLink:
    """One stored row as verify needs it; ``id`` is only echoed back in reports."""

    id: Any
    document: Mapping[str, Any] = field(hash=False)
    stored_hash: str
    stored_previous_hash: str | None


@dataclass(frozen=True)
class Verification:
    """``checked`` counts intact links; ``head`` is the last intact hash, to resume from.

    Walking cannot see links cut off the end of the chain: compare ``head`` with a head
    hash kept outside the table.
    """

    ok: bool
    checked: int
    first_broken_id: Any = None
    reason: str | None = None
    head: str | None = None


def _fault(link: ChainLink, previous: str | None, sequence: int) -> str | None:
    document = link.document
    if not isinstance(document, Mapping):
        return "document is not an object"
    if document.get("sequence") != sequence or type(document.get("sequence")) is not int:
        return f"expected sequence {sequence}, found {document.get('sequence')!r}"
    if link.stored_previous_hash != previous or document.get("previous_hash") != previous:
        return "previous hash does not match the preceding link"
    try:
        recomputed = link_hash(previous_hash=previous, document=document)
    except (TypeError, ValueError) as error:
        return f"document cannot be canonicalised: {error}"
    if recomputed != link.stored_hash:
        return "hash does not match the document"
    return None


def verify(
    events: Iterable[ChainLink],
    *,
    previous_hash: str | None = None,
    next_sequence: int = 1,
) -> Verification:
    """Walk links in sequence order and report the first one that does not hold.

    The defaults start at genesis; pass the ``head`` and next sequence of an earlier
    Verification to check a long chain in batches.
    """
    _check_previous(previous_hash)
    checked = 0
    for link in events:
        reason = _fault(link, previous_hash, next_sequence)
        if reason is not None:
            return Verification(
                ok=False,
                checked=checked,
                first_broken_id=link.id,
                reason=reason,
                head=previous_hash,
            )
        checked += 1
        previous_hash = link.stored_hash
        next_sequence += 1
    return Verification(ok=True, checked=checked, head=previous_hash)
