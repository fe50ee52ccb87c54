"""The hot read of the consent ledger, in fixed SQL: a subject's state and standing.

``consentState`` is asked on every page a site renders for a known visitor. It is one
statement, built once from the models' own table names, naming only the columns the
answer uses. On PostgreSQL it goes straight to the pooled asyncpg connection, whose
statement cache prepares it once per connection, and its rows stay asyncpg's records
(built in C) with the columns readable by name: Tortoise's ``execute_query_dict`` and
``_init_from_db`` (exception translation, a dict and a model instance per row) were a
quarter of the read's CPU (106 -> 77 us per read, eight readers at once, in-process).
Elsewhere (SQLite) rows go through the ORM's client and each column through its model
field's own converter.

A per-connection ``prepare()`` would not outlive the pool's release of the connection
(asyncpg invalidates it); the statement cache that ``fetch`` uses does.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple
from uuid import UUID

from tortoise import connections
from tortoise.backends.base.client import TransactionalDBClient

from tenants.consent import grouping
from tenants.consent.models import ConsentState
from tenants.consent.reading import named_record
from tenants.subjects.models import SubjectFlags
from tenants.tenancy.models import Tenant

STATE = ("purpose", "granted", "method", "policy_kind", "policy_version", "decided_at")
FLAGS = ("restricted", "objected")
# Tortoise logs every statement it sends here; the tests count statements from this log.
_log = logging.getLogger("tortoise.db_client")


class StateRow(NamedTuple):
    """A subject's latest decision on one purpose, and the subject's flags (None: no
    flags row). ``method`` and ``policy_kind`` are the stored names (PostgreSQL) or their
    enum members, which are str too (SQLite)."""

    purpose: str
    granted: bool
    method: str
    policy_kind: str
    policy_version: int
    decided_at: datetime
    restricted: bool | None
    objected: bool | None


_Record = named_record("StateRecord", StateRow._fields)
# A row of a grouped read: which read (1-based) it answers, then StateRow's columns.
_Numbered = named_record("NumberedStateRecord", ("read", *StateRow._fields))


# What both reads select, in StateRow's order: the state's columns, then the flags.
_COLUMNS = ", ".join([f's."{column}"' for column in STATE] + [f'f."{flag}"' for flag in FLAGS])


@cache
def _state_sql(dialect: str) -> str:
    tenant, subject = ("$1", "$2") if dialect == "postgres" else ("?", "?")
    return (
        f"SELECT {_COLUMNS} "
        f'FROM "{ConsentState._meta.db_table}" s LEFT JOIN "{SubjectFlags._meta.db_table}" f '
        f'ON f."tenant_id" = s."tenant_id" AND f."subject_id" = s."subject_id" '
        f'WHERE s."tenant_id" = {tenant} AND s."subject_id" = {subject} ORDER BY s."purpose"'
    )


async def state_of(*, tenant: Tenant, subject_id: str) -> tuple[list[StateRow], tuple[bool, bool]]:
    """The subject's state rows by purpose (``StateRow``s, or asyncpg records read by the
    same names), and its (restricted, objected) flags as they stand (both False without a
    flags row); no rows: ([], (False, False)). Database errors propagate as the driver
    raises them.

    On PostgreSQL, outside a transaction, reads that arrive while one is under way are
    sent together as one statement when it returns (``grouping``, as consent writes are):
    a round trip costs the process far more than the rows it brings (~250 us a request of
    a 700 us consentState), and under load one round trip now serves many. Nothing waits
    for company: a read alone goes at once. Each read is still sent after its request
    arrived, so it sees every write committed before then."""
    client = connections.get("default")
    if client.capabilities.dialect != "postgres":
        sql = _state_sql("sqlite")
        found = await client.execute_query_dict(sql, [str(tenant.id), subject_id])
        rows = [_converted(row) for row in found]
    elif isinstance(client, TransactionalDBClient):  # the transaction's own connection
        async with client.acquire_connection() as connection:
            rows = await _one(connection, tenant.id, subject_id)
    else:
        rows = await grouping.submit(_READS, (tenant.id, subject_id), _read_together)
    if not rows:
        return [], (False, False)
    return rows, (bool(rows[0].restricted), bool(rows[0].objected))


_READS = ("consent_state", "read")  # one queue of reads a process, every tenant's


async def _one(connection: Any, tenant_id: UUID, subject_id: str) -> list:
    sql = _state_sql("postgres")
    _log.debug("%s: %s", sql, (tenant_id, subject_id))
    return await connection.fetch(sql, tenant_id, subject_id, record_class=_Record)


async def _read_together(keys: list[tuple[UUID, str]]) -> list[list]:
    """Each (tenant id, subject id)'s rows, in order, in one statement."""
    async with connections.get("default").acquire_connection() as connection:
        if len(keys) == 1:
            return [await _one(connection, *keys[0])]
        tenants, subjects = zip(*keys, strict=True)
        _log.debug("%s: %s", _BATCH_SQL, keys)
        found = await connection.fetch(_BATCH_SQL, tenants, subjects, record_class=_Numbered)
    rows: list[list] = [[] for _ in keys]
    for row in found:
        rows[row[0] - 1].append(row)
    return rows


def _batch_sql() -> str:
    state, flags = ConsentState._meta.db_table, SubjectFlags._meta.db_table
    return (
        f"SELECT q.read, {_COLUMNS} "
        f"FROM unnest($1::uuid[], $2::text[]) WITH ORDINALITY AS q(tenant_id, subject_id, read) "
        f'JOIN "{state}" s ON s."tenant_id" = q.tenant_id AND s."subject_id" = q.subject_id '
        f'LEFT JOIN "{flags}" f '
        f'ON f."tenant_id" = s."tenant_id" AND f."subject_id" = s."subject_id" '
        f'ORDER BY q.read, s."purpose"'
    )


_BATCH_SQL = _batch_sql()


def _converted(row: dict) -> StateRow:
    fields = ConsentState._meta.fields_map
    state = [fields[column].to_python_value(row[column]) for column in STATE]
    return StateRow(*state, *(row[flag] for flag in FLAGS))
