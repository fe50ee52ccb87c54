"""Bulk writes of the ledger, the heaviest write path of Charter.

On PostgreSQL, events go in with COPY and state rows with one prepared upsert run over
all rows, on the transaction's own connection; elsewhere (SQLite) through the ORM.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from operator import attrgetter
from typing import Any, NamedTuple
from uuid import UUID

from tortoise import connections

from tenants.consent.models import ConsentEvent, ConsentState


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
STATE_COLUMNS = list(StateRow._fields)
STATE_UPDATES = ("granted", "method", "policy_kind", "policy_version", "decided_at", "event_id")


def _raw_postgres():
    """The asyncpg connection of the current transaction, or None on other databases."""
    client = connections.get("default")
    if client.capabilities.dialect != "postgres":
        return None
    return getattr(client, "_connection", None)


async def insert_events(rows: list[EventRow]) -> None:
    raw = _raw_postgres()
    if raw is None:
        await ConsentEvent.bulk_create(
            [ConsentEvent(**{c: getattr(row, c) for c in EVENT_COLUMNS}) for row in rows],
            batch_size=500,
        )
        return
    records = [_COPY_VALUES(row) for row in rows]
    await raw.copy_records_to_table("consent_event", records=records, columns=EVENT_COLUMNS)


async def upsert_states(rows: list[StateRow]) -> None:
    """Write each row unless the stored decision for its (subject, purpose) is newer."""
    raw = _raw_postgres()
    if raw is None:
        await _upsert_states_orm(rows)
        return
    # One statement over arrays: the whole batch is a single round trip.
    columns = ", ".join(STATE_COLUMNS)
    arrays = ", ".join(f"${i}::{kind}[]" for i, kind in enumerate(_STATE_TYPES, start=1))
    updates = ", ".join(f"{column} = EXCLUDED.{column}" for column in STATE_UPDATES)
    await raw.execute(
        f"INSERT INTO consent_state ({columns}) SELECT * FROM unnest({arrays}) "
        f"ON CONFLICT (tenant_id, subject_id, purpose) DO UPDATE SET {updates} "
        "WHERE consent_state.decided_at <= EXCLUDED.decided_at",
        *(list(column) for column in zip(*rows, strict=True)),
    )


_STATE_TYPES = (
    "uuid",
    "uuid",
    "text",
    "text",
    "bool",
    "text",
    "text",
    "int",
    "timestamptz",
    "uuid",
)


async def _upsert_states_orm(rows: list[StateRow]) -> None:
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
