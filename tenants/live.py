"""Live events for subscriptions, fanned out through Redis pub/sub so that a subscriber
on one server process hears what happened on another.

A message names what changed, never its content: the subscriber reads the current state
through the usual, tenant-scoped service functions.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger("charter.live")

POLICY = "policy"
REQUEST = "subject_request"
BREACH = "breach"
POLL_SECONDS = 0.5


def channel(tenant_id: Any) -> str:
    return f"charter:live:{tenant_id}"


async def publish(
    redis: Redis, tenant_id: Any, topic: str, object_id: str, detail: str | None = None
) -> None:
    """Best effort: a subscriber missing one event is better than a request failing."""
    message = json.dumps({"topic": topic, "id": object_id, "detail": detail})
    try:
        await redis.publish(channel(tenant_id), message)
    except RedisError as error:
        log.warning("live event %s %s not published: %s", topic, object_id, error)


async def listen(redis: Redis, tenant_id: Any, topic: str) -> AsyncIterator[dict[str, Any]]:
    """Events of ``topic`` for the tenant, until the subscriber goes away."""
    pubsub = redis.pubsub()
    await pubsub.subscribe(channel(tenant_id))
    try:
        while True:
            try:
                message = await pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=POLL_SECONDS
                )
            except TimeoutError:
                continue
            if message is None:
                continue
            event = json.loads(message["data"])
            if event.get("topic") == topic:
                yield event
    finally:
        await pubsub.unsubscribe()
        await pubsub.aclose()
