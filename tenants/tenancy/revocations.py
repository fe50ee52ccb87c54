"""Telling every process that a key was revoked: a generation in Redis, then pub/sub.

Processes that keep principals in memory (server.principals) drop the key when they hear
the message on ``tenants.live.REVOKED``, and compare ``GENERATION`` with the value they
last saw every fraction of a second: a message lost on the way still reaches them then.
The generation is raised before the message goes out, so whoever hears the message and
reads the generation sees the new one.
"""

from __future__ import annotations

import asyncio
import logging

from redis.exceptions import RedisError

from tenants.live import REVOKED, Hub

log = logging.getLogger("charter.revocations")

GENERATION = "charter:revocations"  # INCR'd once per revocation
RETRY_SECONDS = 0.25
RETRY_FOR_SECONDS = 60.0  # then the cache's TTL (server.principals) is the last bound

_retrying: set[asyncio.Task] = set()


async def announce(hub: Hub, key_id: str) -> None:
    """After the revocation is committed: this process's listeners at once, then every
    other process. A generation Redis could not raise is raised again in the background
    until Redis answers (other processes distrust their caches meanwhile, since their
    own generation checks fail too)."""
    try:
        await hub.redis.incr(GENERATION)
    except RedisError as error:
        log.warning("revocation generation not raised (%s); retrying", error)
        task = asyncio.create_task(_raise_later(hub))
        _retrying.add(task)
        task.add_done_callback(_retrying.discard)
    await hub.announce(REVOKED, key_id)


async def _raise_later(hub: Hub) -> None:
    for _ in range(int(RETRY_FOR_SECONDS / RETRY_SECONDS)):
        await asyncio.sleep(RETRY_SECONDS)
        try:
            await hub.redis.incr(GENERATION)
            return
        except RedisError:
            continue
    log.error("revocation generation never raised: caches drop the key within their TTL")
