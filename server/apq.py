"""Automatic persisted queries (Apollo's APQ): a client sends a document's SHA-256 instead
of the document; the first time, it sends both and the document is kept in Redis.
Only documents that parse and validate are kept, so the store cannot be stuffed."""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections import OrderedDict

from graphql import GraphQLSchema, parse, validate
from graphql.error import GraphQLSyntaxError
from redis.asyncio import Redis
from redis.exceptions import RedisError

PREFIX = "charter:apq:"
TTL_SECONDS = 30 * 86400
LOCAL_ENTRIES = 2048
SHA256 = re.compile(r"^[0-9a-f]{64}$")


class PersistedQueryError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


def digest(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


class PersistedQueries:
    def __init__(self, redis: Redis, schema: GraphQLSchema) -> None:
        self.redis = redis
        self.schema = schema
        self._local: OrderedDict[str, str] = OrderedDict()  # hot documents skip Redis

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
            if self._valid(query):
                await self._keep(wanted, query)
            return query
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
        else:
            self._local.move_to_end(wanted)
        return found

    def known(self, wanted: str | None) -> str | None:
        """A document this process already holds (no Redis): for the fast path."""
        return self._local.get(wanted) if wanted else None

    def _valid(self, query: str) -> bool:
        try:
            document = parse(query, max_tokens=5000)
        except GraphQLSyntaxError:
            return False
        return not validate(self.schema, document)

    async def _keep(self, wanted: str, query: str) -> None:
        self._remember(wanted, query)
        with contextlib.suppress(RedisError):  # without Redis this process still knows it
            await self.redis.set(PREFIX + wanted, query, ex=TTL_SECONDS)

    def _remember(self, wanted: str, query: str) -> None:
        self._local[wanted] = query
        if len(self._local) > LOCAL_ENTRIES:
            self._local.popitem(last=False)
