"""The hot lookup of tenancy, in fixed SQL: a key's principal from the key's hash.

Every secret- or publishable-key request that misses the principal cache asks this. The
ORM would rebuild the same SQL through pypika on every call (a fifth of a request's CPU
under load); this text is built once from the models' own columns and sent as is, so the
driver's statement cache prepares it once per connection (asyncpg prepares every query
it is given and keeps the last 100; sqlite3 keeps 128 compiled statements). Rows become
model instances through Tortoise's own converter, exactly as a query would build them.
"""

from __future__ import annotations

from functools import cache

from tortoise import connections

from tenants.tenancy.models import ApiKey, Tenant
from tenants.tenancy.principal import Principal


def _columns(model, alias: str) -> list[str]:
    return [f'{alias}."{column}" AS "{alias}_{column}"' for column in model._meta.db_fields]


@cache
def _principal_sql(dialect: str) -> str:
    placeholder = "$1" if dialect == "postgres" else "?"
    return (
        f"SELECT {', '.join(_columns(ApiKey, 'k') + _columns(Tenant, 't'))} "
        f'FROM "{ApiKey._meta.db_table}" k JOIN "{Tenant._meta.db_table}" t '
        f'ON t."id" = k."tenant_id" '
        f'WHERE k."key_hash" = {placeholder} AND k."revoked_at" IS NULL'
    )


def _split(row: dict, alias: str) -> dict:
    prefix = f"{alias}_"
    return {name[len(prefix) :]: value for name, value in row.items() if name.startswith(prefix)}


async def principal_by_hash(key_hash: str) -> Principal | None:
    """The live (unrevoked) key stored under ``key_hash`` and its tenant, or None."""
    connection = connections.get("default")
    sql = _principal_sql(connection.capabilities.dialect)
    rows = await connection.execute_query_dict(sql, [key_hash])
    if not rows:
        return None
    tenant = Tenant._init_from_db(**_split(rows[0], "t"))
    key = ApiKey._init_from_db(**_split(rows[0], "k"))
    object.__setattr__(key, "_tenant", tenant)  # as select_related("tenant") sets it
    return Principal(tenant=tenant, key=key)
