"""Bulk writes of the ledger, the heaviest write path of Charter.

On PostgreSQL, on the transaction's own connection, events go in with COPY and
consent_state is folded from them by one statement, inside the database: the decisions
never travel twice. Elsewhere (SQLite) both go through the ORM, folded here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields
from datetime import datetime
from operator import attrgetter
from typing import Any, NamedTuple
from uuid import UUID

from tortoise import connections

from tenants import ids
from tenants.consent import decisions
from tenants.consent.models import ConsentEvent, ConsentState
from tenants.tenancy import audit


@dataclass(slots=True)
class EventRow:
    """A new ledger row; the same attributes as a ConsentEvent read from the database,
    plus the canonical JSON of its decisions, which is what the jsonb column receives."""

    id: UUID
    tenant_id: UUID
    sequence: int
    subject_id: str
    policy_kind: str
    policy_version: int
    locale: str | None
    method: str
    decisions: list[dict[str, Any]]
    decisions_json: str
    occurred_at: datetime
    recorded_at: datetime
    source_url: str | None
    ip: str | None
    user_agent: str | None
    salt: str | None
    commitment: str
    previous_hash: str | None
    hash: str
    client_event_id: str | None
    processing: str | None = None


class StateRow(NamedTuple):
    """A consent_state row; a tuple, so a batch's rows zip straight into columns."""

    id: UUID
    tenant_id: UUID
    subject_id: str
    purpose: str
    granted: bool
    method: str
    policy_kind: str
    policy_version: int
    decided_at: datetime
    event_id: UUID


EVENT_COLUMNS = [f.name for f in fields(EventRow) if f.name != "decisions_json"]
# COPY takes jsonb as text: the decisions column is filled from decisions_json.
_COPY_VALUES = attrgetter(
    *("decisions_json" if column == "decisions" else column for column in EVENT_COLUMNS)
)
STATE_UPDATES = ("granted", "method", "policy_kind", "policy_version", "decided_at", "event_id")


# Statements sent straight to asyncpg are logged where Tortoise logs its own (at DEBUG),
# so what counts a request's queries (the tests' ``queries``) sees them too.
log = logging.getLogger("tortoise.db_client")


def on_postgres() -> bool:
    """Whether the ledger is on PostgreSQL (inside a transaction or not)."""
    return connections.get("default").capabilities.dialect == "postgres"


def raw_postgres():
    """The asyncpg connection of the current transaction, or None on other databases."""
    client = connections.get("default")
    if client.capabilities.dialect != "postgres":
        return None
    return getattr(client, "_connection", None)


# One probe of the (tenant, client_event_id) unique index per id. The plain
# ``client_event_id IN (...)`` let PostgreSQL, with statistics gone stale while a
# table grows (an import), scan every row of the tenant instead, once per batch: an
# import got slower with every batch it wrote.
_CLIENT_IDS_SQL = """
SELECT e.id FROM unnest($2::text[]) AS wanted(client_event_id)
CROSS JOIN LATERAL (
    SELECT id FROM consent_event
    WHERE tenant_id = $1 AND client_event_id = wanted.client_event_id LIMIT 1
) e
"""


async def events_with_client_ids(tenant_id: UUID, client_ids: list[str]) -> list[ConsentEvent]:
    """The tenant's events holding any of ``client_ids``."""
    if not client_ids:
        return []
    raw = raw_postgres()
    if raw is None:
        return await ConsentEvent.filter(tenant_id=tenant_id, client_event_id__in=client_ids)
    found = [row["id"] for row in await raw.fetch(_CLIENT_IDS_SQL, tenant_id, client_ids)]
    return await ConsentEvent.filter(id__in=found) if found else []


async def insert_events(rows: list[EventRow]) -> None:
    raw = raw_postgres()
    if raw is None:
        await ConsentEvent.bulk_create(
            [ConsentEvent(**{c: getattr(row, c) for c in EVENT_COLUMNS}) for row in rows],
            batch_size=500,
        )
        return
    await copy_events(raw, rows)


async def copy_events(connection: Any, rows: list[EventRow]) -> None:
    """``rows`` into consent_event by COPY on an asyncpg ``connection``."""
    log.debug("COPY consent_event (%d events)", len(rows))
    records = [_COPY_VALUES(row) for row in rows]
    await connection.copy_records_to_table("consent_event", records=records, columns=EVENT_COLUMNS)


# The newest decision per (subject, purpose) among the events just written, unless the
# stored one was made later. Ties go to the later event, as in _latest below.
_FOLD = """
INSERT INTO consent_state (
    id, tenant_id, subject_id, purpose, granted, method, policy_kind, policy_version,
    decided_at, event_id
)
SELECT DISTINCT ON (e.subject_id, d ->> 'purpose')
    gen_random_uuid(), e.tenant_id, e.subject_id, d ->> 'purpose', (d ->> 'granted')::bool,
    coalesce(d ->> 'method', e.method), e.policy_kind, e.policy_version, e.occurred_at, e.id
FROM {events} e CROSS JOIN LATERAL jsonb_array_elements(e.decisions) d{where}
ORDER BY e.subject_id, d ->> 'purpose', e.occurred_at DESC, e.sequence DESC
ON CONFLICT (tenant_id, subject_id, purpose) DO UPDATE SET
    granted = EXCLUDED.granted, method = EXCLUDED.method, policy_kind = EXCLUDED.policy_kind,
    policy_version = EXCLUDED.policy_version, decided_at = EXCLUDED.decided_at,
    event_id = EXCLUDED.event_id
WHERE consent_state.decided_at <= EXCLUDED.decided_at
"""
FOLD_SQL = _FOLD.format(
    events="consent_event", where="\nWHERE e.tenant_id = $1 AND e.sequence BETWEEN $2 AND $3"
)


# A small write (a group of recordConsent visitors) is one statement on PostgreSQL: the
# rows as arrays, their fold into consent_state, the head's move, the audit entry, and
# the read of the subjects' standing for the receipts. COPY takes two round trips before
# the fold and the head's update take theirs; under load every round trip of a write is
# waited for by all the visitors queued behind it (``grouping``), and each costs the
# server and PostgreSQL a turn of their loops. Past this many rows COPY's cheaper
# encoding wins, and the write is its steps.
#
# The statement moves the head only from where the events were chained onto (``after``),
# and writes nothing else unless it did: the row lock its UPDATE takes serialises
# appenders as SELECT ... FOR UPDATE does, so the statement is safe on its own, without
# a transaction around it (``service``'s unlocked write, when the head is still where
# this process left it). Its first row says whether it wrote: (NULL, written, NULL); the
# others are the subjects' standing.
#
# Alone, that standing is read in the statement's snapshot, taken before it waits for the
# head's lock, not after. It is still the standing the events follow: the head matches
# that snapshot only if whoever moved it there had committed before the statement began
# (an uncommitted head, even one this process noted, never matches: the write misses),
# and whoever moves it while the statement waits makes it write nothing. So whatever
# changes a subject's flags under the head's lock must also move the head, as each
# processing change does with its event (``processing``); a lock alone would not do.
# (An erasure with nothing to withdraw renames the subject's flags under the lock alone:
# a write racing it may still report the flags erased meanwhile, the cautious way.)
ONE_STATEMENT_ROWS = 64
_ARRAY_TYPES = {"id": "uuid", "tenant_id": "uuid", "sequence": "bigint",
                "policy_version": "int", "occurred_at": "timestamptz",
                "recorded_at": "timestamptz"}  # fmt: skip
# Each array is a scalar subquery, not a bare parameter: PostgreSQL then plans the
# statement without knowing how many rows it brings, every plan is the same, and its
# plan cache keeps one generic plan (after five custom ones) instead of planning this
# five-part statement anew on every execution, which was a third of its backend CPU
# (a custom plan, knowing the rows, always looked cheaper).
_UNNEST = ", ".join(
    f"(SELECT ${n}::{_ARRAY_TYPES.get(c, 'text')}[])" for n, c in enumerate(EVENT_COLUMNS, start=1)
)
# Then: the head (its id, where it was, where it moves to), the audit entry, the subjects.
_H = len(EVENT_COLUMNS)
_ENTRY = ", ".join(f"${_H + 6 + n}::{t}" for n, t in enumerate(audit.TYPES))
_SUBJECTS = _H + 6 + len(audit.TYPES)
APPEND_SQL = f"""
WITH moved AS (
    UPDATE consent_chain_head SET sequence = ${_H + 4}, hash = ${_H + 5}
    WHERE id = ${_H + 1} AND sequence = ${_H + 2} AND hash IS NOT DISTINCT FROM ${_H + 3}::text
    RETURNING id
), new AS (
    INSERT INTO consent_event ({", ".join(EVENT_COLUMNS)})
    SELECT {", ".join(f"{c}::jsonb" if c == "decisions" else c for c in EVENT_COLUMNS)}
    FROM unnest({_UNNEST}) AS u({", ".join(EVENT_COLUMNS)})
    WHERE EXISTS (SELECT FROM moved)
    RETURNING id, tenant_id, sequence, subject_id, policy_kind, policy_version, method,
        decisions, occurred_at
), logged AS (
    INSERT INTO audit_entry ({", ".join(audit.COLUMNS)})
    SELECT {_ENTRY} WHERE EXISTS (SELECT FROM moved)
), folded AS ({_FOLD.format(events="new", where="")})
SELECT NULL::text, EXISTS (SELECT FROM moved), NULL::bool
UNION ALL
{decisions.STANDING_SQL.format(tenant=f"${_H + 7}", subjects=f"${_SUBJECTS}")}"""
# A large write's last statement once its events are in (COPY): their fold, the head's
# move and the audit entry, one round trip where three each cost the server a turn of
# its loop and PostgreSQL a statement while the batch's caller waits (~0.5 ms of a
# recordConsents of 500).
_AUDIT = ", ".join(f"${7 + n}::{t}" for n, t in enumerate(audit.TYPES))
FINISH_SQL = f"""
WITH moved AS (
    UPDATE consent_chain_head SET sequence = $4, hash = $5 WHERE id = $6
), logged AS (
    INSERT INTO audit_entry ({", ".join(audit.COLUMNS)}) SELECT {_AUDIT}
){FOLD_SQL}"""


async def append_at(
    connection: Any,
    *,
    events: list[EventRow],
    head: Any,
    after: tuple[int, str | None],
    entry: dict[str, Any],
    subjects: list[str],
) -> dict[str, decisions.Standing] | None:
    """APPEND_SQL on an asyncpg ``connection``: ``events`` (at most ONE_STATEMENT_ROWS,
    chained onto ``after``, the head's (sequence, hash)) inserted and folded, the head
    (``head.id``) moved to ``head``, the audit entry written (``entry``: ``audit.record``'s
    keyword arguments), all only if the head was still at ``after``. Returns the standing
    of ``subjects``, or None when the head had moved and nothing was written."""
    columns = zip(*map(_COPY_VALUES, events), strict=True)
    log.debug("%s: (%d events)", APPEND_SQL, len(events))
    rows = await connection.fetch(
        APPEND_SQL,
        *map(list, columns),
        head.id,
        *after,
        head.sequence,
        head.hash,
        *audit.values(**entry),
        subjects,
    )
    if not next(row[1] for row in rows if row[0] is None):
        return None
    return decisions.standings(row for row in rows if row[0] is not None)


async def append_rows(
    *,
    inserted: bool = False,
    events: list[EventRow],
    head: Any,
    after: tuple[int, str | None],
    entry: dict[str, Any],
    subjects: list[str],
) -> dict[str, decisions.Standing] | None:
    """Insert ``events`` (chained onto ``head`` when it was at ``after``, in sequence
    order; a ``ledger.Head`` on PostgreSQL, the model elsewhere), fold them into
    consent_state, move the locked ``head`` past them and write the audit entry
    (``entry``: ``audit.record``'s keyword arguments), in the caller's transaction.
    Returns the standing of ``subjects`` when it was read in the same statement (a small
    write on PostgreSQL), else None: the caller reads it (``decisions.standing``).
    ``inserted``: the events are in the table already (``stream``); the rest is done."""
    raw = raw_postgres()
    if raw is not None and len(events) <= ONE_STATEMENT_ROWS and not inserted:
        found = await append_at(
            raw, events=events, head=head, after=after, entry=entry, subjects=subjects
        )
        if found is None:  # the caller holds the head's lock: it cannot have moved
            raise RuntimeError("the locked chain head moved")
        return found
    if not inserted:
        await insert_events(events)
    if raw is not None:
        log.debug("%s: (%d events)", FINISH_SQL, len(events))
        await raw.execute(
            FINISH_SQL,
            events[0].tenant_id,
            events[0].sequence,
            events[-1].sequence,
            head.sequence,
            head.hash,
            head.id,
            *audit.values(**entry),
        )
        return None
    await _upsert_states_orm(_latest(events[0].tenant_id, events))  # FINISH_SQL's fold, here
    await head.save(update_fields=["sequence", "hash"])
    await audit.record(**entry)
    return None


def _latest(tenant_id: UUID, events: list[EventRow]) -> list[StateRow]:
    latest: dict[tuple[str, str], tuple[EventRow, dict]] = {}
    for event in events:
        for decision in event.decisions:
            key = (event.subject_id, decision["purpose"])
            held = latest.get(key)
            if held is None or held[0].occurred_at <= event.occurred_at:
                latest[key] = (event, decision)
    state_ids = ids.uuid4s(chunk=len(latest))
    return [
        StateRow(
            next(state_ids),
            tenant_id,
            event.subject_id,
            decision["purpose"],
            decision["granted"],
            decision.get("method", event.method),
            event.policy_kind,
            event.policy_version,
            event.occurred_at,
            event.id,
        )
        for event, decision in latest.values()
    ]


async def _upsert_states_orm(rows: list[StateRow]) -> None:
    if not rows:
        return
    stored = await ConsentState.filter(
        tenant_id=rows[0].tenant_id, subject_id__in={row.subject_id for row in rows}
    ).values_list("subject_id", "purpose", "decided_at")
    newer = {(subject, purpose): at for subject, purpose, at in stored}
    keep = [r for r in rows if newer.get((r.subject_id, r.purpose), r.decided_at) <= r.decided_at]
    await ConsentState.bulk_create(
        [ConsentState(**row._asdict()) for row in keep],
        on_conflict=["tenant_id", "subject_id", "purpose"],
        update_fields=list(STATE_UPDATES),
        batch_size=500,
    )
