"""Reading the chain back for verification, fast: a chunk at a time, the next chunk
fetched while this one is hashed.

On PostgreSQL the rows come straight from asyncpg with the times already spelled as the
chain spells them (UTC, microseconds, "Z") and the decisions as jsonb text, which
``decisions_json`` turns into canonical JSON once per distinct decision set (a ledger has
few: the same checkboxes, ticked or not): Tortoise's per-column conversion was half the
cost of a walk. Elsewhere (SQLite) the ORM reads them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import operator
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any, NamedTuple

import asyncpg
from tortoise import connections

from tenants.consent import encoding
from tenants.consent.models import ConsentEvent

CHUNK = 1000  # rows per query on PostgreSQL (asyncpg decodes them in C)
ORM_CHUNK = 200  # elsewhere: Tortoise converts a row's columns in Python, holding the loop
_SPELLED = """to_char({0} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
POSTGRES_ROWS = f"""
SELECT id, sequence, subject_id, policy_kind, policy_version, locale, method, decisions::text,
    {_SPELLED.format("occurred_at")}, {_SPELLED.format("recorded_at")}, source_url, ip,
    user_agent, salt, commitment, previous_hash, hash, processing
FROM consent_event
WHERE tenant_id = $1 AND sequence > $2 AND sequence <= $3
ORDER BY sequence LIMIT $4
"""
_CANONICAL_CACHE = 4096  # distinct decision sets remembered per walk


class Row(NamedTuple):
    """A stored event as verification reads it. Times are datetimes, or (PostgreSQL) the
    chain's spelling of them; decisions a list, or its jsonb text. The fields' order is
    the order of ``POSTGRES_ROWS``'s columns, and verification unpacks rows by it."""

    id: uuid.UUID
    sequence: int
    subject_id: str | None
    policy_kind: str
    policy_version: int
    locale: str | None
    method: str
    decisions: Any
    occurred_at: datetime | str
    recorded_at: datetime | str
    source_url: str | None
    ip: str | None
    user_agent: str | None
    salt: str | None
    commitment: str
    previous_hash: str | None
    hash: str
    processing: str | None


COLUMNS = Row._fields


def named_record(name: str, columns: Sequence[str]) -> type[asyncpg.Record]:
    """An asyncpg record class whose columns are also read as attributes, in place: rows
    stay as asyncpg builds them, in C (building a NamedTuple from each record cost a tenth
    of a walk). ``columns`` in the order the statement selects them."""
    record = type(name, (asyncpg.Record,), {})
    for index, column in enumerate(columns):
        setattr(record, column, property(operator.itemgetter(index)))
    return record


Record = named_record("Record", COLUMNS)


def spelled(value: datetime | str) -> str:
    return value if type(value) is str else encoding.instant(value)


def moment(value: datetime | str) -> datetime:
    return datetime.fromisoformat(value) if type(value) is str else value


def decoded(value: Any) -> Any:
    return json.loads(value) if type(value) is str else value


class Canonical:
    """Canonical JSON of stored decisions, remembered by their stored text."""

    def __init__(self) -> None:
        self._known: dict[str, str] = {}

    def __call__(self, value: Any) -> str:
        if type(value) is not str:
            return encoding.decisions_json(value)
        found = self._known.get(value)
        if found is None:
            if len(self._known) >= _CANONICAL_CACHE:
                self._known.clear()
            found = self._known[value] = encoding.decisions_json(json.loads(value))
        return found


async def _chunk(tenant_id: uuid.UUID, after: int, through: int) -> list[Row] | list[Record]:
    client = connections.get("default")
    if client.capabilities.dialect == "postgres":
        async with client.acquire_connection() as connection:
            return await connection.fetch(
                POSTGRES_ROWS, tenant_id, after, through, CHUNK, record_class=Record
            )
    values = (
        await ConsentEvent.filter(tenant_id=tenant_id, sequence__gt=after, sequence__lte=through)
        .order_by("sequence")
        .limit(ORM_CHUNK)
        .values_list(*COLUMNS)
    )
    return [Row(*row) for row in values]


@contextlib.asynccontextmanager
async def chunks(
    tenant_id: uuid.UUID, *, after: int, through: int
) -> AsyncIterator[AsyncIterator[list[Row]]]:
    """The rows after ``after`` up to ``through`` in order, a chunk at a time, the next
    one already on its way while the caller works on this one."""
    pending: asyncio.Future | None = None

    async def walk() -> AsyncIterator[list[Row]]:
        nonlocal pending
        if after >= through:
            return
        pending = asyncio.ensure_future(_chunk(tenant_id, after, through))
        while pending is not None:
            chunk = await pending
            pending = None
            if not chunk:
                return
            last = chunk[-1].sequence
            if last < through:
                pending = asyncio.ensure_future(_chunk(tenant_id, last, through))
            yield chunk

    try:
        yield walk()
    finally:
        if pending is not None:  # the caller stopped early: the prefetch is not wanted
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pending


async def row_at(tenant_id: uuid.UUID, sequence: int) -> Row | None:
    rows = await _chunk(tenant_id, sequence - 1, sequence)
    return rows[0] if rows else None
