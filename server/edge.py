"""Everything a GraphQL request meets before strawberry: the caller, the rate limit, the
body limit, persisted queries, and the response cache for public reads.

Order matters: the caller decides the bucket, the bucket is charged before any work, and
a cached public answer is the cheapest work of all.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server import cors, limits
from server.apq import PersistedQueries, PersistedQueryError
from server.auth import Rejected, authenticate
from server.client_ip import client_ip
from server.fastpath import CHARGED
from server.http_spec import content_type, negotiate
from server.leases import Leases
from server.local_answers import LocalAnswers
from server.ratelimit import RateLimiter, RateLimiterUnavailable, headers
from server.response_cache import ResponseCache, cache_headers, plausible_site, public_document
from server.settings import Settings
from tenants.policies.published import tenant_of_site
from tenants.tenancy.principal import ANONYMOUS

log = logging.getLogger("charter.edge")

Run = Callable[[Request], Awaitable[Response]]
# This request's body and what it decoded to: strawberry decodes the very same bytes
# again (a 1000-event batch is ~250 KB of JSON), and takes this instead (server.graphql).
PARSED_BODY: ContextVar[tuple[bytes, object] | None] = ContextVar("parsed_body", default=None)


class BodyTooLarge(Exception):
    pass


def error_response(status: int, message: str, code: str, extra: dict | None = None) -> Response:
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code}}]},
        status_code=status,
        headers=extra,
    )


class Pipeline:
    def __init__(
        self,
        settings: Settings,
        *,
        limiter: RateLimiter,
        persisted: PersistedQueries,
        cache: ResponseCache,
    ) -> None:
        self.settings = settings
        self.limiter = limiter
        self.persisted = persisted
        self.cache = cache
        self.local = LocalAnswers(cache.cache)  # the fast path's copies, kept in memory
        self.leases = Leases()  # the fast path's rate-limit units, taken a few at a time

    async def handle(self, request: Request, run: Run) -> Response:
        params = await self._params(request)
        if params is None:  # the IDE, or a body strawberry will refuse on its own terms
            return await run(request)
        query, variables, extensions = params
        if _may_hold_nul(request) and (_has_nul(query) or _has_nul(variables)):
            # No database stores NUL in text (PostgreSQL refuses it): say so up front.
            return error_response(400, "text may not contain NUL characters", "BAD_USER_INPUT")
        try:
            principal = await _authenticate_once_more(request, self.settings)
            request.state.principal, request.state.rejected = principal, False
        except Rejected:
            principal = ANONYMOUS
            request.state.principal, request.state.rejected = ANONYMOUS, True

        try:
            query = await self.persisted.resolve(query, extensions)
        except PersistedQueryError as error:
            if error.code:
                return error_response(error.status, error.message, error.code)
            return Response(error.message, status_code=error.status, media_type="text/plain")
        request.state.query = query

        public = public_document(query) if query and _plain_read(request) else None
        site = public.site(variables) if public else _site(variables)
        charged = request.scope.get(CHARGED)
        if charged is not None:  # the fast path charged this request already
            refused, limit_headers = None, dict(charged)
        else:
            refused, limit_headers = await self._charge(request, principal, site, query)
        if refused is not None:
            return refused
        permitted, cors_headers = await cors.allowed(request, principal)
        if not permitted:
            return error_response(403, "this key may not be used from that origin", "FORBIDDEN")
        limit_headers.update(cors_headers)
        if public is not None and site and not request.state.rejected:
            response = await self._cached(request, run, public, query, variables, site)
        else:
            response = await run(request)
        response.headers.update(limit_headers)
        return response

    async def _params(self, request: Request) -> tuple[str | None, dict | None, dict | None] | None:
        if request.method == "GET":
            args = request.query_params
            if "query" not in args and "extensions" not in args:
                return None
            try:
                variables = json.loads(args["variables"]) if "variables" in args else None
                extensions = json.loads(args["extensions"]) if "extensions" in args else None
            except ValueError:
                return None
            return args.get("query"), _dict(variables), _dict(extensions)
        content_length = int(request.headers.get("content-length") or 0)
        if content_length > self.settings.edge.max_body_bytes:
            raise BodyTooLarge
        raw = await request.body()
        try:
            body = json.loads(raw)
        except ValueError:
            return None
        PARSED_BODY.set((raw, body))
        if not isinstance(body, dict):
            return None
        query = body.get("query")
        return (
            (query if isinstance(query, str) else None),
            _dict(body.get("variables")),
            _dict(body.get("extensions")),
        )

    async def _charge(self, request: Request, principal, site: str | None, query: str | None):
        ip = client_ip(request, self.settings.edge.trusted_proxies)
        site = await self._known(principal, site)
        checks = limits.buckets(principal, ip=ip, site=site, edge=self.settings.edge)
        try:
            if not self.cache.cache.available():  # Redis just failed: do not wait on it again
                raise RateLimiterUnavailable
            decision = await self.limiter.hit_all(checks, cost=_fit(limits.cost_of(query), checks))
        except RateLimiterUnavailable as error:
            if self.cache.cache.available():
                self.cache.cache.failed(error, "the rate limiter")
            if principal.platform:  # the one caller that must never go unmetered
                return error_response(
                    429, "rate limiter unavailable", "RATE_LIMITED", {"Retry-After": "1"}
                ), {}
            log.warning("rate limiter unavailable: request let through")
            return None, {}
        if not decision.allowed:
            return error_response(429, "rate limit exceeded", "RATE_LIMITED", headers(decision)), {}
        return None, headers(decision)

    async def _known(self, principal, site: str | None) -> str | None:
        """The site an anonymous caller pays for, if a tenant owns it. Buckets are per
        (site, IP): a site nobody owns would mint a fresh bucket for every name a client
        invents, so all such sites share one (None)."""
        if principal.key is not None or principal.platform or not site:
            return site
        if not self.cache.cache.available():
            return site  # the limiter cannot answer either: nothing to share
        return site if await tenant_of_site(cache=self.cache.cache, site=site) else None

    async def _cached(
        self, request: Request, run: Run, public, query: str, variables, site: str
    ) -> Response:
        media = negotiate(request.headers.get("accept"))
        variant = ResponseCache.variant(
            query, variables, request.headers.get("accept-language", ""), media
        )
        hit = await self.cache.find(site, variant)
        get = request.method == "GET"  # HTTP caches keep GET answers only: POST gets no ETag
        if hit.body is not None:
            extra = cache_headers(hit.etag) if get else {}
            if get and request.headers.get("if-none-match") == extra["ETag"]:
                return Response(status_code=304, headers=extra)
            return Response(hit.body, headers={**extra, "content-type": content_type(media)})
        response = await run(request)
        until = getattr(request.state, "fresh_until", None)
        if response.status_code == 200 and until is not None and b'"errors"' not in response.body:
            ttl = int((until - datetime.now(UTC)).total_seconds())
            etag = await self.cache.store(hit, variant, response.body, ttl)
            if get:
                response.headers.update(cache_headers(etag))
        return response


def _plain_read(request: Request) -> bool:
    """A request the response cache may answer: no operation named (the cache key does
    not hold one), and a POST only as JSON, the one body strawberry would accept too."""
    if request.method == "GET":
        return "operationName" not in request.query_params
    parsed = PARSED_BODY.get()
    media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    return (
        media == "application/json"
        and parsed is not None
        and isinstance(parsed[1], dict)
        and parsed[1].get("operationName") is None
    )


def _dict(value) -> dict | None:
    return value if isinstance(value, dict) else None


def _site(variables: dict | None) -> str | None:
    return plausible_site((variables or {}).get("site"))


def _fit(cost: int, checks) -> int:
    # A cost above a bucket's burst could never pass; charge the whole burst instead.
    return max(1, min([cost, *(limit.burst for _, limit in checks)]))


async def _authenticate_once_more(request: Request, settings: Settings):
    """A dropped database connection fails one query; the pool gives the retry a new one."""
    try:
        return await authenticate(request, settings)
    except Rejected:
        raise
    except Exception as error:  # the database's own errors, whatever the driver calls them
        log.warning("authentication failed once (%s); trying again", type(error).__name__)
        return await authenticate(request, settings)


def _may_hold_nul(request: Request) -> bool:
    """False for a JSON body without a single backslash: it has no escapes, so none of its
    strings can hold NUL (JSON refuses it raw) or a GraphQL escape of one. Skips walking
    a thousand-event batch to find nothing."""
    parsed = PARSED_BODY.get()
    return request.method == "GET" or parsed is None or b"\\" in parsed[0]


# A GraphQL string spells NUL \u0000 or, since the 2021 spec, \u{0} (any number of zeros).
_NUL_ESCAPE = re.compile(r"\\u(?:0000|\{0+\})")


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value or _NUL_ESCAPE.search(value) is not None
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False
