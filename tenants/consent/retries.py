"""When a repeated clientEventId is a retry of the same event, and when it is not.

A clientEventId makes retries safe: the first receipt comes back, nothing is recorded
twice. It is unique per tenant, and a publishable key is shared by every visitor of a
site, so an id alone proves nothing about who sent it: returning the stored receipt for
any repeat would hand one person's receipt (subject id, decisions, Kantara document) to
whoever guesses or reuses their id. The first receipt is returned only for the same
event; anything else is refused with CLIENT_EVENT_ID_REUSED, which says nothing of the
event that holds the id.

"The same event" is what the person decided and under which notice: the subject, the
policy (kind, version) and locale shown, the method, and every decision (purpose,
granted, and the method of a decision a GPC signal overrode). What a retry may change
without being another event: when it is sent (occurredAt defaults to the arrival time),
the source URL, and the evidence (IP, user agent): a retry can come from another network.
"""

from __future__ import annotations

from typing import Any

from tenants.consent.ledger import Entry
from tenants.errors import ErrorCode, Problem

REUSED_MESSAGE = "this clientEventId was already used for a different event"


def same_event(entry: Entry, stored: Any) -> bool:
    """True when ``entry`` repeats the event ``stored`` (a ledger row, new or read)."""
    return (
        stored.subject_id == entry.subject_id
        and str(stored.policy_kind) == str(entry.policy_kind)
        and stored.policy_version == entry.policy_version
        and stored.locale == entry.locale
        and str(stored.method) == str(entry.method)
        and _decisions(stored.decisions) == _decisions(entry.decisions)
    )


def reused(*field: str) -> Problem:
    return Problem(field, ErrorCode.CLIENT_EVENT_ID_REUSED, REUSED_MESSAGE)


def _decisions(decisions: list[dict[str, Any]]) -> list[tuple[str, bool, str | None]]:
    return sorted(
        (d["purpose"], bool(d["granted"]), None if d.get("method") is None else str(d["method"]))
        for d in decisions
    )
