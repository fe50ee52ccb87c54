"""Live events through Redis pub/sub, heard by every process over one connection.

``publish`` announces that something changed (a message names what changed, never its
content: a subscriber reads the current state through the usual, tenant-scoped service
functions). ``Hub`` is a process's one subscriber connection, whatever listens: every
subscription of every socket (``listen``), the cache's invalidations, key revocations.
However many subscribers pile up, the process holds one pub/sub connection, so Redis
connections stay flat and `/readyz` and the rate limiter never wait behind them.

The hub pings Redis every ``PING_SECONDS``; when Redis has said nothing for
``SILENCE_SECONDS``, or the connection fails, it tells its ``on_lost`` listeners that
messages may have been missed (copies kept in memory must go, revocations be rechecked)
and connects again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger("charter.live")

POLICY = "policy"
REQUEST = "subject_request"
BREACH = "breach"
PREFIX = "charter:live:"
REVOKED = "charter:revoked"  # a key id per revocation
PING_SECONDS = 1.0
SILENCE_SECONDS = 3.0
RETRY_SECONDS = 0.5
QUEUE = 256  # events a slow subscriber may fall behind by before it is ended


def channel(tenant_id: Any) -> str:
    return f"{PREFIX}{tenant_id}"


async def publish(
    redis: Redis, tenant_id: Any, topic: str, object_id: str, detail: str | None = None
) -> None:
    """Best effort: a subscriber missing one event is better than a request failing."""
    message = json.dumps({"topic": topic, "id": object_id, "detail": detail})
    try:
        await redis.publish(channel(tenant_id), message)
    except RedisError as error:
        log.warning("live event %s %s not published: %s", topic, object_id, error)


class FellBehind(Exception):
    """A subscriber did not keep up with its events; its subscription ends."""


class Hub:
    def __init__(self, redis: Redis, *, channels: tuple[str, ...] = ()) -> None:
        self.redis = redis
        self._channels = (REVOKED, *channels)
        self._handlers: dict[str, list[Callable[[str], None]]] = defaultdict(list)
        self._lost: list[Callable[[], None]] = []
        self._queues: dict[str, set[asyncio.Queue]] = defaultdict(set)  # tenant channel
        self._heard = float("-inf")  # monotonic instant Redis last spoke on the feed

    def on(self, name: str, handler: Callable[[str], None]) -> None:
        """``handler(data)`` for each message on channel ``name`` (REVOKED, or one given
        to the constructor), called in the hub's task: it must not block."""
        self._handlers[name].append(handler)

    def on_lost(self, handler: Callable[[], None]) -> None:
        self._lost.append(handler)

    async def announce(self, name: str, data: str) -> None:
        """Tells this process's handlers of ``name`` at once, then every other process
        (best effort: a process that misses it has lost its feed and rechecks)."""
        for handler in self._handlers.get(name, ()):
            handler(data)
        try:
            await self.redis.publish(name, data)
        except RedisError as error:
            log.warning("%s %s not published: %s", name, data, error)

    def heard_within(self, seconds: float) -> bool:
        return time.monotonic() - self._heard < seconds

    @property
    def subscribers(self) -> int:
        return sum(len(queues) for queues in self._queues.values())

    async def listen(self, tenant_id: Any, topic: str) -> AsyncIterator[dict[str, Any]]:
        """Events of ``topic`` for the tenant, until the subscriber goes away."""
        name = channel(tenant_id)
        queue: asyncio.Queue = asyncio.Queue(QUEUE)
        self._queues[name].add(queue)
        try:
            while True:
                event = await queue.get()
                if event is None:
                    raise FellBehind(f"more than {QUEUE} events behind")
                if event.get("topic") == topic:
                    yield event
        finally:
            self._queues[name].discard(queue)
            if not self._queues[name]:
                del self._queues[name]

    async def run(self) -> None:
        """For the life of the app: subscribe, dispatch, ping, reconnect."""
        while True:
            try:
                await self._run_once()
            except (RedisError, OSError, TimeoutError) as error:
                log.info("live feed lost (%s); connecting again", error)
            except Exception:  # never die quietly: nothing would be heard until a restart
                log.exception("live feed failed; connecting again")
            self._heard = float("-inf")
            for handler in self._lost:
                handler()
            await asyncio.sleep(RETRY_SECONDS)

    async def _run_once(self) -> None:
        pubsub = self.redis.pubsub()
        try:
            await pubsub.subscribe(*self._channels)
            await pubsub.psubscribe(PREFIX + "*")
            pinged = 0.0
            while True:
                if time.monotonic() - pinged >= PING_SECONDS:
                    await _ping(pubsub)
                    pinged = time.monotonic()
                message = await pubsub.get_message(timeout=PING_SECONDS)
                if message is None:
                    if time.monotonic() - self._heard >= SILENCE_SECONDS:
                        raise TimeoutError("no answer to pings")
                    continue
                self._heard = time.monotonic()
                self._dispatch(message)
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    def _dispatch(self, message: dict) -> None:
        if message["type"] == "pmessage":
            self._fan_out(message["channel"].decode(), message["data"])
        elif message["type"] == "message":
            data = message["data"].decode()
            for handler in self._handlers.get(message["channel"].decode(), ()):
                try:
                    handler(data)
                except Exception:
                    log.exception("a live handler failed")

    def _fan_out(self, name: str, data: bytes) -> None:
        queues = self._queues.get(name)
        if not queues:
            return
        try:
            event = json.loads(data)
        except ValueError:
            return
        for queue in list(queues):
            if queue.full():  # too slow: end it rather than hold events for it forever
                queue.get_nowait()
                queue.put_nowait(None)
                queues.discard(queue)
            else:
                queue.put_nowait(event)


async def _ping(pubsub) -> None:
    """PING on the subscription. redis-py (5.x, asyncio) raises AttributeError ("'NoneType'
    object has no attribute 'writelines'") when the connection was closed under the ping:
    that is a lost feed like any other, reconnected quietly, not a failure with a
    traceback in the log (seen under load with the embedded Redis)."""
    try:
        await pubsub.ping()
    except AttributeError as error:
        raise ConnectionError("the subscription's connection closed under the ping") from error
