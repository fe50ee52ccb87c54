"""Automatic persisted queries (Apollo's APQ): a client sends a document's SHA-256 instead
of the document; the first time, it sends both and the document is kept in Redis.

Only documents the gate admitted (parsed, within the limits, valid) and of at most
``max_bytes`` (``CHARTER_APQ_MAX_BYTES``, 16 KB by default) are kept, for ``TTL_SECONDS``
in Redis, and the process keeps the hottest in memory bounded in bytes: the store is no
free storage (a 1.9 MB comment is executed, never kept)."""

from __future__ import annotations

import contextlib
import hashlib
import re

from redis.asyncio import Redis
from redis.exceptions import RedisError

from tenants.memory import Bounded

PREFIX = "charter:apq:"
TTL_SECONDS = 7 * 86400  # refreshed by every registration; clients re-register after
LOCAL_ENTRIES = 2048
LOCAL_BYTES = 8 * 2**20
SHA256 = re.compile(r"^[0-9a-f]{64}$")


class PersistedQueryError(Exception):
    """Apollo's codes: PERSISTED_QUERY_NOT_FOUND (the client sends the document again),
    BAD_REQUEST (a wrong version or hash: the client's bug)."""

    def __init__(self, status: int, message: str, code: str = "BAD_REQUEST") -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


def digest(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


class PersistedQueries:
    def __init__(self, redis: Redis, *, max_bytes: int) -> None:
        self.redis = redis
        self.max_bytes = max_bytes
        self._local = Bounded(entries=LOCAL_ENTRIES, budget=LOCAL_BYTES)  # hot ones skip Redis

    async def resolve(self, query: str | None, extensions: dict | None) -> str | None:
        """The document to run: ``query`` itself, or the one its hash names."""
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            return query
        if not isinstance(persisted, dict) or persisted.get("version") != 1:
            raise PersistedQueryError(400, "persistedQuery must be {version: 1, sha256Hash}")
        wanted = persisted.get("sha256Hash")
        if not isinstance(wanted, str) or not SHA256.match(wanted):
            raise PersistedQueryError(400, "sha256Hash must be 64 lowercase hex characters")
        if query is not None:
            if digest(query) != wanted:
                raise PersistedQueryError(400, "provided sha256Hash does not match the query")
            return query  # kept by `register` once the gate has admitted it
        found = self._local.get(wanted)
        if found is None:
            try:
                raw = await self.redis.get(PREFIX + wanted)
            except RedisError:
                raw = None  # no store: the client sends the document again
            if raw is None:
                raise PersistedQueryError(
                    200, "PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND"
                )
            found = raw.decode()
            self._remember(wanted, found)
        return found

    async def register(self, query: str | None, extensions: dict | None) -> None:
        """Keeps an admitted document sent with its hash, when it is small enough."""
        persisted = (extensions or {}).get("persistedQuery")
        if query is None or not isinstance(persisted, dict):
            return
        if len(query.encode()) > self.max_bytes:
            return  # executed this once, never stored: the store is no free storage
        wanted = digest(query)
        self._remember(wanted, query)
        with contextlib.suppress(RedisError):  # without Redis this process still knows it
            await self.redis.set(PREFIX + wanted, query, ex=TTL_SECONDS)

    def known(self, wanted: str | None) -> str | None:
        """A document this process already holds (no Redis): for the fast path."""
        return self._local.get(wanted) if wanted else None

    def _remember(self, wanted: str, query: str) -> None:
        self._local.put(wanted, query, weight=len(query) + 128)
