"""A read-through cache in Redis for the hot public reads.

Entries of a tenant live under its generation number: bumping it (one INCR) makes every
entry of that tenant unreachable at once, with no KEYS or SCAN, and old entries expire on
their own. Redis trouble never fails a read: the cache steps aside and the database answers.

After a failure the cache stays aside for a couple of seconds (no request waits on a
stalled Redis twice in a row), and an invalidation it could not make (a generation bump,
a forgotten key) is owed: until it is paid, this process reads nothing from the cache,
and `keep_paid` pays it within `PAY_SECONDS` of Redis answering again, whether or not a
request comes, so no publish made during an outage is hidden behind an old answer for
other processes either.

Facts of a tenant that change only with a bump (its published versions, its domains) can
also be kept in this process's memory under the generation they were read at
(`remember`): each use then costs one Redis GET instead of the database queries. Once the
process hears the invalidations (`hear`, the app's live feed), a kept fact costs nothing:
every bump, this process's or another's, drops the tenant's facts the moment it is heard,
and the feed's silence or loss drops them all, so the GET is only needed to keep a fact
read while the feed was not trusted, or while an invalidation was on its way.

Every bump is also published on `INVALIDATIONS`, so processes that keep answers in their
own memory (server.local_answers) drop that tenant's at once; this process's listeners
hear of it directly, before Redis is even asked.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from tenants.live import SILENCE_SECONDS, Hub

log = logging.getLogger("charter.cache")

PREFIX = "charter:"
LOCK_MS = 3000  # a loader slower than this lets a second loader in
WAIT_STEP_SECONDS = 0.02
WAIT_STEPS = 50  # followers wait up to 1 s for the leader's value, then load it themselves
COOLDOWN_SECONDS = 2.0
PAY_SECONDS = 0.25  # how often owed invalidations are tried while Redis does not answer
INVALIDATIONS = PREFIX + "invalidations"  # pub/sub channel: a tenant id per bump
# A remembered fact is also dropped after this long: a Redis that lost its data counts
# generations from 0 again, and could match an old one.
MEMO_SECONDS = 10.0
MEMO_ENTRIES = 4096

Loader = Callable[[], Awaitable[Any]]
Ttl = int | Callable[[Any], int]  # seconds, or seconds chosen from the loaded value


class Cache:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._inflight: dict[str, asyncio.Future] = {}
        self._down_until = 0.0
        self._owed: set[str] = set()  # tenants whose generation bump did not reach Redis
        self._owed_keys: set[str] = set()  # keys a forget could not delete
        self.listeners: list[Callable[[str], None]] = []  # told of every bump, in-process
        self._memo: dict[tuple[str, str], _Fact] = {}
        self._hub: Hub | None = None
        self._memo_epoch = 0  # moves with every drop: a fill that saw an older one is unheard

    @property
    def owed(self) -> bool:
        return bool(self._owed or self._owed_keys)

    def available(self) -> bool:
        """False for a moment after Redis failed: callers go straight to the database."""
        return time.monotonic() >= self._down_until

    def failed(self, error: Exception, doing: str) -> None:
        log.warning("cache: %s failed (%s); using the database for a while", doing, error)
        self._down_until = time.monotonic() + COOLDOWN_SECONDS
        self.forget_facts()  # Redis may come back without the generations they match

    def hear(self, hub: Hub) -> None:
        """Lets remembered facts be used without asking Redis while ``hub`` (subscribed
        to INVALIDATIONS) hears every bump; its loss drops them all."""
        self._hub = hub
        hub.on(INVALIDATIONS, self._forget_tenant_facts)
        hub.on_lost(self.forget_facts)

    def _hearing(self) -> bool:
        return (
            self._hub is not None
            and self._hub.heard_within(SILENCE_SECONDS)
            and self.available()
            and not self.owed
        )

    def _forget_tenant_facts(self, tenant_id: str) -> None:
        self._memo_epoch += 1
        for key in [key for key in self._memo if key[0] == tenant_id]:
            del self._memo[key]

    def forget_facts(self) -> None:
        self._memo_epoch += 1
        self._memo.clear()

    async def ready(self) -> bool:
        """Usable now: Redis answers and every invalidation owed has been made."""
        if not self.available():
            return False
        try:
            await self._pay()
        except RedisError as error:
            self.failed(error, "an owed invalidation")
            return False
        return True

    async def keep_paid(self) -> None:
        """For the life of the app: pays what is owed as soon as Redis answers again,
        without waiting for this process's next request (cooldown or not)."""
        while True:
            await asyncio.sleep(PAY_SECONDS)
            if self.owed:
                try:
                    await self._pay()
                except RedisError:
                    continue  # still down: try again in a moment
                log.info("cache: owed invalidations paid")

    async def _pay(self) -> None:
        for tenant_id in list(self._owed):
            await self._bump(tenant_id)
            self._owed.discard(tenant_id)
        if self._owed_keys:
            keys = list(self._owed_keys)
            await self.redis.delete(*keys)
            self._owed_keys.difference_update(keys)

    @staticmethod
    def key(*parts: object) -> str:
        return PREFIX + ":".join(str(part) for part in parts)

    async def generation(self, tenant_id: object) -> int | None:
        """The tenant's generation, or None when the cache cannot be trusted right now."""
        if not await self.ready():
            return None
        try:
            value = await self.redis.get(self.key("gen", tenant_id))
        except RedisError as error:
            self.failed(error, "a generation read")
            return None
        return int(value or 0)

    async def remember(self, tenant_id: object, name: str, load: Loader) -> Any:
        """``load()``'s value, kept in memory while the tenant's generation stands (at most
        MEMO_SECONDS). Only for facts every change to which bumps the generation. The value
        is shared by every request that asks: callers must not change it. A fact marked
        heard (no bump arrived between its generation's read and now) is used as it is."""
        key = (str(tenant_id), name)
        now = time.monotonic()
        held = self._memo.get(key)
        if held is not None and held.heard and now < held.until and self._hearing():
            return held.value
        epoch, hearing = self._memo_epoch, self._hearing()
        generation = await self.generation(tenant_id)
        if generation is None:
            return await load()
        now = time.monotonic()
        held = self._memo.get(key)
        if held is not None and held.generation == generation and now < held.until:
            until, value = held.until, held.value  # MEMO_SECONDS from the load, not from now
        else:
            until, value = now + MEMO_SECONDS, await load()  # read after the generation
        if len(self._memo) >= MEMO_ENTRIES:
            self.forget_facts()
        heard = hearing and epoch == self._memo_epoch  # no bump came in meanwhile
        self._memo[key] = _Fact(generation, until, value, heard)
        return value

    async def bump(self, tenant_id: object) -> None:
        """Make every cached entry of this tenant stale, now (or as soon as Redis answers)."""
        self._forget_tenant_facts(str(tenant_id))
        for listener in self.listeners:
            listener(str(tenant_id))
        try:
            await self._bump(tenant_id)
        except RedisError as error:
            self._owed.add(str(tenant_id))
            self.failed(error, f"invalidating tenant {tenant_id}")

    async def _bump(self, tenant_id: object) -> None:
        # One round trip; the publish follows the INCR, so whoever hears it reads the new
        # generation.
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.incr(self.key("gen", tenant_id))
            pipe.publish(INVALIDATIONS, str(tenant_id))
            await pipe.execute()

    async def forget(self, *keys: str) -> None:
        """Delete ``keys`` now, or as soon as Redis answers (owed like a bump)."""
        if not keys:
            return
        try:
            await self.redis.delete(*keys)
        except RedisError as error:
            self._owed_keys.update(keys)
            self.failed(error, f"forgetting {len(keys)} keys")

    async def get(self, key: str) -> Any:
        """The cached value, or None when absent or Redis cannot answer."""
        if not await self.ready():
            return None
        try:
            raw = await self.redis.get(key)
        except RedisError as error:
            self.failed(error, f"a read of {key}")
            return None
        return None if raw is None else json.loads(raw)

    async def put(self, key: str, value: Any, *, ttl: Ttl) -> None:
        if callable(ttl):
            ttl = ttl(value)
        if not self.available():
            return
        try:
            await self.redis.set(key, json.dumps(value, separators=(",", ":")), ex=ttl)
        except RedisError as error:
            self.failed(error, f"a write of {key}")

    async def get_or_load(self, key: str, load: Loader, *, ttl: Ttl) -> Any:
        """Cached value, or ``load()`` once however many ask at the same moment.

        Within a process, concurrent misses share one future; across processes, a
        short Redis lock lets one loader run while the others wait for its value.
        """
        value = await self.get(key)
        if value is not None:
            return value
        if key in self._inflight:
            return await asyncio.shield(self._inflight[key])
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            value = await self._load_once(key, load, ttl=ttl)
            future.set_result(value)
            return value
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved here, so a future nobody awaited logs nothing
            raise
        finally:
            del self._inflight[key]

    async def _load_once(self, key: str, load: Loader, *, ttl: Ttl) -> Any:
        token = uuid.uuid4().hex
        lock = key + ":lock"
        if not self.available():
            return await load()  # no Redis: nobody can coordinate, nor keep the value
        try:
            leader = await self.redis.set(lock, token, nx=True, px=LOCK_MS)
        except RedisError as error:
            self.failed(error, "taking a load lock")
            return await load()
        if not leader:
            for _ in range(WAIT_STEPS):
                await asyncio.sleep(WAIT_STEP_SECONDS)
                value = await self.get(key)
                if value is not None:
                    return value
        value = await load()
        if value is not None:
            await self.put(key, value, ttl=ttl)
        if leader:
            await self._release(lock, token)
        return value

    async def _release(self, lock: str, token: str) -> None:
        try:
            if await self.redis.get(lock) == token.encode():
                await self.redis.delete(lock)
        except RedisError:
            pass  # the lock expires by itself


@dataclass(frozen=True)
class _Fact:
    generation: int  # the tenant's generation, read before the value was
    until: float  # monotonic: MEMO_SECONDS after the load
    value: Any
    heard: bool  # read while the feed was trusted, and no bump came in meanwhile
