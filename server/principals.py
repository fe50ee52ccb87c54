"""Principals kept in this process's memory, keyed by the key's hash, so a request with a
known key asks nothing of the database (``Gate.authenticate``).

Revocation takes effect at once: the revoking process drops the key before its mutation
answers, every other process when it hears ``tenants.live.REVOKED`` (milliseconds). A
message lost on the way cannot keep a revoked key alive for long: every ``CHECK_SECONDS``
a process reads the revocation generation (``tenants.tenancy.revocations.GENERATION``)
and drops everything when it moved, and it trusts its copies only while its last good
check is under ``TRUST_SECONDS`` old and its live feed answered pings within
``tenants.live.SILENCE_SECONDS``. So a revocation whose message was lost is honoured
everywhere within ``TRUST_SECONDS`` (2 s); Redis trouble makes the cache step aside, never
serve longer. A change to the tenant (its cache generation bump, heard over
``tenants.cache.INVALIDATIONS``) drops its keys; ``TTL_SECONDS`` bounds everything else.

Entries are counted in bytes (the tenant's JSON settings plus a measured overhead per
entry) within ``MAX_BYTES``; a hit hands out shallow copies, so a request that changes
its tenant or key object (``updateTenant``) never changes the cached one.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from tenants.cache import INVALIDATIONS, Cache
from tenants.live import REVOKED, SILENCE_SECONDS, Hub
from tenants.tenancy import keys
from tenants.tenancy.principal import Principal
from tenants.tenancy.revocations import GENERATION

log = logging.getLogger("charter.principals")

CHECK_SECONDS = 0.5
TRUST_SECONDS = 2.0
TTL_SECONDS = 60.0
MAX_BYTES = 16 * 1024 * 1024
# A cached Tenant + ApiKey pair with empty settings, measured with tracemalloc (the two
# model instances, their dicts, UUIDs, datetimes and strings, and the entry): ~3.3 KB.
ENTRY_OVERHEAD = 4096
_JSON_FIELDS = ("locales", "jurisdictions", "promises", "email_templates", "policy_urls")
_JSON_FIELDS += ("limits", "branding")


@dataclass(frozen=True)
class _Entry:
    principal: Principal
    size: int
    until: float  # monotonic


class Principals:
    def __init__(self, redis: Redis, hub: Hub, cache: Cache) -> None:
        self._redis = redis
        self._hub = hub
        self._entries: dict[str, _Entry] = {}
        self._bytes = 0
        self._generation: bytes | None = None
        self._checked = float("-inf")  # monotonic instant of the last good check
        self.epoch = 0  # moves with every drop: a fill that saw an older epoch is not kept
        hub.on(REVOKED, self.forget_key)
        hub.on(INVALIDATIONS, self.forget_tenant)
        cache.listeners.append(self.forget_tenant)  # this process's own bumps, at once
        hub.on_lost(self.forget_all)

    def usable(self) -> bool:
        return time.monotonic() - self._checked < TRUST_SECONDS and self._hub.heard_within(
            SILENCE_SECONDS
        )

    async def get(self, key_hash: str) -> Principal | None:
        entry = self._entries.get(key_hash)
        if entry is None:
            return None
        if entry.until <= time.monotonic() or not self.usable():
            self._drop(key_hash)
            return None
        await keys.note_use(entry.principal.key)
        return _copy(entry.principal)

    def put(self, key_hash: str, principal: Principal, *, epoch: int) -> Principal:
        """Keeps ``principal``, read from the database after ``epoch`` was taken, and
        returns a copy for the caller to use."""
        if epoch != self.epoch or principal.key is None or not self.usable():
            return principal  # a drop may have overtaken the read: not kept
        tenant = principal.tenant
        settings = [getattr(tenant, name, None) for name in _JSON_FIELDS]
        size = ENTRY_OVERHEAD + len(json.dumps(settings, default=str))
        if size > MAX_BYTES // 64:
            return principal  # one tenant's settings may not crowd out everyone's keys
        self._drop(key_hash)
        while self._entries and self._bytes + size > MAX_BYTES:
            self._drop(next(iter(self._entries)))  # the oldest first
        self._entries[key_hash] = _Entry(principal, size, time.monotonic() + TTL_SECONDS)
        self._bytes += size
        return _copy(principal)

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def forget_key(self, key_id: str) -> None:
        self.epoch += 1
        for key_hash, entry in list(self._entries.items()):
            if str(entry.principal.key.id) == key_id:
                self._drop(key_hash)

    def forget_tenant(self, tenant_id: str) -> None:
        self.epoch += 1
        for key_hash, entry in list(self._entries.items()):
            if str(entry.principal.tenant.id) == tenant_id:
                self._drop(key_hash)

    def forget_all(self) -> None:
        self.epoch += 1
        self._entries.clear()
        self._bytes = 0

    async def keep_checked(self) -> None:
        """For the life of the app: reads the revocation generation every CHECK_SECONDS."""
        while True:
            await self.check()
            await asyncio.sleep(CHECK_SECONDS)

    async def check(self) -> None:
        started = time.monotonic()
        try:
            async with asyncio.timeout(TRUST_SECONDS / 2):
                generation = await self._redis.get(GENERATION)
        except (RedisError, OSError, TimeoutError) as error:
            log.debug("revocation generation unread (%s)", error)
            return  # the copies stop being trusted TRUST_SECONDS after the last good check
        if generation != self._generation:
            self.forget_all()  # a revocation we may not have heard of
            self._generation = generation
        self._checked = started  # as of when the read was sent, not when it answered

    def _drop(self, key_hash: str) -> None:
        entry = self._entries.pop(key_hash, None)
        if entry is not None:
            self._bytes -= entry.size


def _copy(principal: Principal) -> Principal:
    # Shallow: requests replace a field's value (setattr), never mutate it in place.
    key, tenant = _shallow(principal.key), _shallow(principal.tenant)
    object.__setattr__(key, "_tenant", tenant)
    return Principal(tenant=tenant, key=key)


def _shallow(model):
    # What copy.copy makes of a model (its class's __new__, then its __dict__; Tortoise
    # models define no __copy__ or __getstate__) without the trip through __reduce_ex__
    # and copyreg, which cost a quarter of the cache hit it serves.
    twin = type(model).__new__(type(model))
    twin.__dict__.update(model.__dict__)
    return twin
