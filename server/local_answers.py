"""Cached public answers kept in this process's memory, so a hit asks nothing of Redis.

Correct only while this process hears every invalidation, so the copy is trusted only
while the process's live feed (tenants.live.Hub, subscribed to `Cache.INVALIDATIONS`)
is alive and has answered a ping within `SILENCE_SECONDS`. Losing it drops every
entry. An entry also lives no longer than the Redis entry it copies (whose TTL ends
where the next scheduled version starts) and at most `TTL_SECONDS`, which bounds how
long a missed message could matter.

A copy is stored only if no invalidation arrived while it was being fetched (`epoch`),
so an answer read just before a publish can never outlive it here.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from tenants.cache import INVALIDATIONS, Cache
from tenants.live import SILENCE_SECONDS, Hub

log = logging.getLogger("charter.local_answers")

TTL_SECONDS = 10.0
MAX_ENTRIES = 4096
MAX_BYTES = 64 * 1024 * 1024  # clients choose variants (languages, variables): a budget


@dataclass(frozen=True)
class Answer:
    tenant: str
    etag: str
    body: bytes
    until: float  # monotonic


class LocalAnswers:
    def __init__(self, cache: Cache, hub: Hub) -> None:
        self._cache = cache
        self._hub = hub
        self._entries: dict[tuple[str, str], Answer] = {}
        self._bytes = 0
        self.epoch = 0
        cache.listeners.append(self.forget_tenant)  # this process's own bumps, at once
        hub.on(INVALIDATIONS, self.forget_tenant)  # every process's, over pub/sub
        hub.on_lost(self.forget_all)  # some may have been missed

    def usable(self) -> bool:
        return (
            self._hub.heard_within(SILENCE_SECONDS)
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
