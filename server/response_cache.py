"""The response cache for public reads: `publishedPolicy` over GET, answered from Redis
without parsing, validating or executing anything.

An entry lives under the tenant's generation number, so a publish (which bumps it) makes
every cached answer of that tenant unreachable at once. One Lua call finds the site's
tenant, its generation and the entry: a hit costs one Redis round trip.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache

from graphql import FieldNode, OperationDefinitionNode, OperationType, VariableNode, parse
from graphql.error import GraphQLSyntaxError
from redis.exceptions import RedisError

from tenants import sites
from tenants.cache import Cache

MAX_AGE = 60
STALE_WHILE_REVALIDATE = 300
MAX_TTL = 300
ROOT_FIELD = "publishedPolicy"

LOOKUP = """
local site = redis.call('GET', KEYS[1])
if not site then return {false, false, false, false} end
local ok, decoded = pcall(cjson.decode, site)
if not ok or type(decoded) ~= 'table' or type(decoded['tenant']) ~= 'string' then
  return {false, false, false, false}
end
local tenant = decoded['tenant']
local generation = redis.call('GET', ARGV[1] .. tenant) or '0'
local key = ARGV[2] .. tenant .. ':' .. generation .. ':' .. ARGV[3]
local entry = redis.call('GET', key)
if not entry then return {tenant, generation, false, false} end
return {tenant, generation, entry, redis.call('PTTL', key)}
"""


@dataclass(frozen=True)
class Public:
    """A document that only reads published policies: where its site comes from."""

    site_literal: str | None
    site_variable: str | None
    name: str | None = None  # the operation's own name, if it has one

    def answers(self, operation_name: str | None) -> bool:
        """Whether a request naming ``operation_name`` runs this very operation, as one
        naming none does: Apollo, urql and Relay always name it. Any other name is an
        error only the gate gives (GraphQL spec §6.1, GetOperation)."""
        return operation_name is None or operation_name == self.name

    def site(self, variables: dict | None) -> str | None:
        """The canonical site (tenants.sites), or None when the value names none."""
        if self.site_literal is not None:
            return sites.canonical(self.site_literal)
        return sites.canonical((variables or {}).get(self.site_variable or ""))


def public_document(query: str) -> Public | None:
    """Cacheable when it is one query of one root field, publishedPolicy (so it is
    charged one unit, as the gate charges it: schema.costs); anything else takes the
    ordinary road."""
    # A public read is a few hundred bytes; anything much larger is not worth keeping
    # (and thousands of large ones kept would be a memory attack).
    return _public_document(query) if len(query) <= MAX_PUBLIC_DOCUMENT else None


MAX_PUBLIC_DOCUMENT = 4 * 1024  # x 1024 cached: at most 4 MB of keys


@lru_cache(maxsize=1024)
def _public_document(query: str) -> Public | None:
    try:
        document = parse(query, max_tokens=2000)
    except GraphQLSyntaxError:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(document.definitions) != 1 or len(operations) != 1:
        return None
    operation = operations[0]
    if operation.operation != OperationType.QUERY or operation.directives:
        return None
    if len(operation.selection_set.selections) != 1:
        return None
    selection = operation.selection_set.selections[0]
    if not isinstance(selection, FieldNode) or selection.name.value != ROOT_FIELD:
        return None
    argument = next((a for a in selection.arguments or () if a.name.value == "site"), None)
    if argument is None:
        return None
    value = argument.value
    if isinstance(value, VariableNode):
        kind, name = "var", value.name.value
    else:
        kind, name = "lit", getattr(value, "value", None)
    return Public(
        site_literal=name if kind == "lit" else None,
        site_variable=name if kind == "var" else None,
        name=operation.name.value if operation.name else None,
    )


@dataclass(frozen=True)
class Hit:
    tenant: str | None
    generation: str | None
    etag: str | None
    body: bytes | None
    ttl_ms: int = 0  # how much longer the entry lives in Redis


class ResponseCache:
    def __init__(self, cache: Cache) -> None:
        self.cache = cache  # shares its view of Redis health and owed invalidations
        self.redis = cache.redis
        self._lookup = cache.redis.register_script(LOOKUP)

    @staticmethod
    def variant(query: str, variables: dict | None, accept_language: str, media: str) -> str:
        raw = json.dumps(
            [query, variables or {}, accept_language.strip().lower(), media], sort_keys=True
        )
        return hashlib.sha256(raw.encode()).hexdigest()

    @staticmethod
    def _keys(site: str) -> list[str]:
        return [Cache.key("site", site)]  # canonical (tenants.sites): one key per site

    @staticmethod
    def _args(variant: str) -> list[str]:
        return [Cache.key("gen", ""), Cache.key("resp", ""), variant]

    @staticmethod
    def hit_from(found) -> Hit:
        tenant, generation, entry, ttl_ms = found
        if entry:
            etag, _, body = entry.partition(b"\n")
            return Hit(tenant.decode(), generation.decode(), etag.decode(), body, int(ttl_ms))
        return Hit(tenant and tenant.decode(), generation and generation.decode(), None, None)

    async def find(self, site: str, variant: str) -> Hit:
        if not await self.cache.ready():
            return Hit(None, None, None, None)
        try:
            found = await self._lookup(keys=self._keys(site), args=self._args(variant))
        except RedisError as error:
            self.cache.failed(error, "a response cache lookup")
            return Hit(None, None, None, None)
        return self.hit_from(found)

    async def store(self, hit: Hit, variant: str, body: bytes, ttl: int, media: str) -> str:
        # One ETag per representation (RFC 9110 §8.8.3): the same bytes served as
        # application/json and as application/graphql-response+json are two of them.
        etag = hashlib.sha256(media.encode() + b"\n" + body).hexdigest()[:32]
        if hit.tenant is None or ttl <= 0:
            return etag
        key = Cache.key("resp", f"{hit.tenant}:{hit.generation}:{variant}")
        with contextlib.suppress(RedisError):  # uncached is slower, not wrong
            await self.redis.set(key, etag.encode() + b"\n" + body, ex=min(ttl, MAX_TTL))
        return etag


def cache_headers(etag: str) -> dict[str, str]:
    return {
        "ETag": f'"{etag}"',
        "Cache-Control": (
            f"public, max-age={MAX_AGE}, stale-while-revalidate={STALE_WHILE_REVALIDATE}"
        ),
        "Vary": "Accept, Accept-Language",
    }
