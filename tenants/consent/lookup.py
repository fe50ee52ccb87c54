"""The hot read of the consent ledger, in fixed SQL: a subject's state and standing.

``consentState`` is asked on every page a site renders for a known visitor. Through the
ORM it cost two queries, each rebuilt by pypika per call; this is one statement, built
once from the models' own columns and sent as is, so the driver prepares it once per
connection (asyncpg's statement cache, sqlite3's). Rows become model instances through
Tortoise's own converter, exactly as a query would build them.
"""

from __future__ import annotations

from functools import cache

from tortoise import connections

from tenants.consent.models import ConsentState
from tenants.subjects.models import SubjectFlags
from tenants.tenancy.models import Tenant


@cache
def _state_sql(dialect: str) -> str:
    tenant, subject = ("$1", "$2") if dialect == "postgres" else ("?", "?")
    columns = ", ".join(f's."{column}"' for column in ConsentState._meta.db_fields)
    return (
        f'SELECT {columns}, f."restricted" AS "_restricted", f."objected" AS "_objected" '
        f'FROM "{ConsentState._meta.db_table}" s LEFT JOIN "{SubjectFlags._meta.db_table}" f '
        f'ON f."tenant_id" = s."tenant_id" AND f."subject_id" = s."subject_id" '
        f'WHERE s."tenant_id" = {tenant} AND s."subject_id" = {subject} ORDER BY s."purpose"'
    )


async def state_of(
    *, tenant: Tenant, subject_id: str
) -> tuple[list[ConsentState], tuple[bool, bool]]:
    """The subject's state rows by purpose, and its (restricted, objected) flags as they
    stand (both False without a flags row); no rows: ([], (False, False))."""
    connection = connections.get("default")
    dialect = connection.capabilities.dialect
    tenant_id = tenant.id if dialect == "postgres" else str(tenant.id)
    rows = await connection.execute_query_dict(_state_sql(dialect), [tenant_id, subject_id])
    if not rows:
        return [], (False, False)
    flags = (bool(rows[0]["_restricted"]), bool(rows[0]["_objected"]))
    states = []
    for row in rows:
        del row["_restricted"], row["_objected"]
        states.append(ConsentState._init_from_db(**row))
    return states, flags
