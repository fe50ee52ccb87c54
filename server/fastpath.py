"""The hot path, in front of everything else: an anonymous GET of a published policy
that the response cache already holds is answered here, before Starlette builds a
request, in one Redis round trip that both charges the caller's rate-limit bucket and
finds the cached answer. Whatever it cannot answer alone goes on down the usual road,
already charged.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs

from redis.exceptions import RedisError
from starlette.types import ASGIApp, Receive, Scope, Send

from server import limits
from server.client_ip import client_ip_of
from server.http_spec import GRAPHQL_RESPONSE, negotiate
from server.ratelimit import _GCRA as GCRA
from server.ratelimit import headers as limit_headers
from server.response_cache import LOOKUP, ResponseCache, cache_headers, public_document
from server.security import ALWAYS
from tenants.cache import Cache
from tenants.tenancy.principal import ANONYMOUS

REFUSED = b'{"errors":[{"message":"rate limit exceeded","extensions":{"code":"RATE_LIMITED"}}]}'
CHARGED = "charter.charged"  # scope key: the rate-limit headers of a charge already made


class FastPath:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"] == "/graphql":
            pipeline = getattr(scope["app"].state, "pipeline", None)
            if pipeline is not None and await answer(pipeline, scope, send):
                return
        await self.app(scope, receive, send)


async def answer(pipeline, scope: Scope, send: Send) -> bool:
    """True when the request was answered here."""
    headers = {k: v for k, v in scope["headers"] if k in WANTED}
    if b"authorization" in headers:
        return False  # keys take the usual road: they have more to check
    args = parse_qs(scope["query_string"].decode("latin-1"))
    query, variables = _document(pipeline, args)
    public = public_document(query) if query else None
    site = public.site(variables) if public else None
    cache: Cache = pipeline.cache.cache
    if site is None or not cache.available() or cache.owed:
        return False
    edge = pipeline.settings.edge
    forwarded = headers.get(b"x-forwarded-for", b"").decode("latin-1")
    ip = client_ip_of(
        scope["client"][0] if scope.get("client") else "unknown", forwarded, edge.trusted_proxies
    )
    checks = limits.buckets(ANONYMOUS, ip=ip, site=site, edge=edge)
    keys, rate_args = pipeline.limiter.prepare(checks, cost=1)
    if len(keys) != 1:  # the combined script charges exactly one bucket
        return False
    media = negotiate(headers.get(b"accept", b"").decode("latin-1") or None)
    variant = pipeline.cache.variant(
        query, variables, headers.get(b"accept-language", b"").decode("latin-1"), media
    )
    try:
        script = _script(pipeline, cache)
        rate_raw, found = await script(
            keys=[*keys, *ResponseCache._keys(site)],
            args=[*rate_args, *ResponseCache._args(variant)],
        )
    except RedisError as error:
        cache.failed(error, "the fast path")
        return False
    decision = pipeline.limiter.decide(checks, rate_raw)
    extra = limit_headers(decision)
    if not decision.allowed:
        body = (
            b'{"errors":[{"message":"rate limit exceeded","extensions":{"code":"RATE_LIMITED"}}]}'
        )
        await _send(send, 429, body, {**extra, "content-type": "application/json"})
        return True
    hit = pipeline.cache.hit_from(found)
    if hit.body is None:
        scope[CHARGED] = extra  # the usual road must not charge twice
        return False
    extra.update(cache_headers(hit.etag))
    if b"origin" in headers:
        extra["Access-Control-Allow-Origin"] = "*"  # public data, no credentials
    if headers.get(b"if-none-match", b"").decode("latin-1") == extra["ETag"]:
        await _send(send, 304, b"", extra)
        return True
    content_type = (
        f"{GRAPHQL_RESPONSE}; charset=utf-8" if media == GRAPHQL_RESPONSE else "application/json"
    )
    await _send(send, 200, hit.body, {**extra, "content-type": content_type})
    return True


# The rate-limit charge and the cache lookup as one script: one command, one round trip.
# The limiter's script becomes a function whose KEYS and ARGV are its own slices.
COMBINED = (
    "local function gcra(KEYS, ARGV)\n"
    + GCRA
    + "\nend\nlocal function lookup(KEYS, ARGV)\n"
    + LOOKUP
    + "\nend\n"
    + "return {gcra({KEYS[1]}, {ARGV[1], ARGV[2], ARGV[3]}), "
    + "lookup({KEYS[2]}, {ARGV[4], ARGV[5], ARGV[6]})}\n"
)


def _script(pipeline, cache: Cache):
    script = getattr(pipeline, "fast_script", None)
    if script is None:  # registered once per app; redis-py reloads it after a Redis restart
        script = pipeline.fast_script = cache.redis.register_script(COMBINED)
    return script


WANTED = {
    b"authorization",
    b"accept",
    b"accept-language",
    b"if-none-match",
    b"origin",
    b"x-forwarded-for",
}


def _document(pipeline, args: dict[str, list[str]]) -> tuple[str | None, dict | None]:
    try:
        variables = json.loads(args["variables"][0]) if "variables" in args else None
        extensions = json.loads(args["extensions"][0]) if "extensions" in args else None
    except ValueError:
        return None, None
    if not isinstance(variables, dict | None) or not isinstance(extensions, dict | None):
        return None, None
    if "query" in args:
        return (None, None) if extensions else (args["query"][0], variables)
    persisted = (extensions or {}).get("persistedQuery")
    wanted = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
    return pipeline.persisted.known(wanted), variables


async def _send(send: Send, status: int, body: bytes, headers: dict[str, str]) -> None:
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw + ALWAYS})
    await send({"type": "http.response.body", "body": body})
