"""Cached public answers kept in this process's memory, so a hit asks nothing of Redis.

Correct only while this process hears every invalidation, so the copy is trusted only
while a subscription to `Cache.INVALIDATIONS` is alive and has answered a ping within
`SILENCE_SECONDS`. Losing it drops every entry. An entry also lives no longer than the Redis
entry it copies (whose TTL ends where the next scheduled version starts) and at most
`TTL_SECONDS`, which bounds how long a missed message could matter.

A copy is stored only if no invalidation arrived while it was being fetched (`epoch`),
so an answer read just before a publish can never outlive it here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass

from redis.exceptions import RedisError

from tenants.cache import INVALIDATIONS, Cache

log = logging.getLogger("charter.local_answers")

TTL_SECONDS = 10.0
MAX_ENTRIES = 4096
MAX_BYTES = 64 * 1024 * 1024  # clients choose variants (languages, variables): a budget
PING_SECONDS = 1.0
SILENCE_SECONDS = 3.0
RETRY_SECONDS = 0.5


@dataclass(frozen=True)
class Answer:
    tenant: str
    etag: str
    body: bytes
    until: float  # monotonic


class LocalAnswers:
    def __init__(self, cache: Cache) -> None:
        self._cache = cache
        self._entries: dict[tuple[str, str], Answer] = {}
        self._bytes = 0
        self._heard = float("-inf")  # monotonic instant of the subscription's last word
        self.epoch = 0
        cache.listeners.append(self.forget_tenant)

    def usable(self) -> bool:
        return (
            time.monotonic() - self._heard < SILENCE_SECONDS
            and self._cache.available()
            and not self._cache.owed
        )

    def get(self, site: str, variant: str) -> Answer | None:
        entry = self._entries.get((site, variant))
        if entry is None or entry.until <= time.monotonic():
            return None
        return entry

    def put(self, site: str, variant: str, answer: Answer, *, epoch: int) -> None:
        if epoch != self.epoch or not self.usable():
            return  # an invalidation may have overtaken the fetch
        if len(self._entries) >= MAX_ENTRIES or self._bytes + len(answer.body) > MAX_BYTES:
            self._entries.clear()  # rare, and refilling is one Redis call per entry
            self._bytes = 0
        replaced = self._entries.get((site, variant))
        self._bytes += len(answer.body) - (len(replaced.body) if replaced else 0)
        self._entries[(site, variant)] = answer

    def forget_tenant(self, tenant_id: str) -> None:
        self.epoch += 1
        gone = [key for key, entry in self._entries.items() if entry.tenant == tenant_id]
        for key in gone:
            self._bytes -= len(self._entries.pop(key).body)

    def forget_all(self) -> None:
        self.epoch += 1
        self._entries.clear()
        self._bytes = 0

    async def listen(self) -> None:
        """Runs for the life of the app: subscribe, hear invalidations, ping, reconnect."""
        while True:
            try:
                await self._listen_once()
            except (RedisError, OSError, TimeoutError) as error:
                log.info("invalidation feed lost (%s); local answers off until it is back", error)
            except Exception:  # never die quietly: answers would stay off until a restart
                log.exception("invalidation feed failed; local answers off until it is back")
            self._heard = float("-inf")
            self.forget_all()
            await asyncio.sleep(RETRY_SECONDS)

    async def _listen_once(self) -> None:
        pubsub = self._cache.redis.pubsub()
        try:
            await pubsub.subscribe(INVALIDATIONS)
            pinged = 0.0
            while True:
                if time.monotonic() - pinged >= PING_SECONDS:
                    await pubsub.ping()
                    pinged = time.monotonic()
                message = await pubsub.get_message(timeout=PING_SECONDS)
                if message is None:
                    if time.monotonic() - self._heard >= SILENCE_SECONDS:
                        raise TimeoutError("no answer to pings")
                    continue
                if message["type"] == "message":
                    self.forget_tenant(message["data"].decode())
                self._heard = time.monotonic()
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
