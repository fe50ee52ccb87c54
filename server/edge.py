"""GraphQL over HTTP around the gate: what a request must be before the gate sees it,
and what HTTP adds once it has admitted the operation.

Before: the body (size, strict UTF-8, JSON), persisted queries (Apollo APQ, over GET and
POST) and the caller (``server.gate.Caller``: token, client IP, origin, once). The gate
(``server.gate``) then authenticates, applies the origin policy and the text rule,
checks the document and charges the caller. After: a refusal becomes its HTTP status;
an admission gets its RateLimit and CORS headers, and a public read is answered from the
response cache (ETag, 304) or executed by strawberry with the admission in hand.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response

from server import cors
from server.apq import PersistedQueries, PersistedQueryError
from server.fastpath import CHARGED
from server.gate import STATUS, Caller, Gate, Operation, Refused
from server.http_spec import GRAPHQL_RESPONSE, content_type, negotiate, none_match
from server.local_answers import LocalAnswers
from server.ratelimit import RateLimiter
from server.response_cache import ResponseCache, cache_headers, public_document
from server.settings import Settings
from tenants import untrusted_json
from tenants.live import Hub

log = logging.getLogger("charter.edge")

Run = Callable[[Request], Awaitable[Response]]
# This request's body and what it decoded to: strawberry decodes the very same bytes
# again (a 1000-event batch is ~250 KB of JSON), and takes this instead (server.graphql).
PARSED_BODY: ContextVar[tuple[bytes, object] | None] = ContextVar("parsed_body", default=None)


class BodyTooLarge(Exception):
    pass


class BadBody(Exception):
    """The body cannot be a GraphQL request at all (400, BAD_USER_INPUT)."""


def error_response(
    request: Request, status: int, message: str, code: str, extra: dict | None = None
) -> Response:
    """An error of the edge (413, 415, 405, 503, persisted queries ...) as a GraphQL
    response, ``{"errors": [{message, extensions: {code}}]}``, in the media type the
    client accepts (GraphQL over HTTP §7): never text/plain, so Apollo, urql and Relay
    read the code as they read any GraphQL error."""
    return _errors(request, [{"message": message, "extensions": {"code": code}}], status, extra)


def refusal_response(request: Request, refused: Refused) -> Response:
    """A gate refusal in HTTP: its status (server.gate.STATUS), no data entry, in the
    negotiated media type; 429, 403 and 400 whatever the media type."""
    media = negotiate(request.headers.get("accept"))
    status = STATUS.get(refused.code, (400, 200))[0 if media == GRAPHQL_RESPONSE else 1]
    errors = [error.formatted for error in refused.errors]
    return _errors(request, errors, status, refused.headers)


def _errors(request: Request, errors: list, status: int, extra: dict | None) -> Response:
    media = negotiate(request.headers.get("accept"))
    code = (errors[0].get("extensions") or {}).get("code", "") if errors else ""
    token = Caller.of(request, request.app.state.settings).token
    allowed = cors.refusal_headers(token, request.headers.get("origin"), code)
    response = Response(
        json.dumps({"errors": errors}),
        status_code=status,
        headers={**(extra or {}), **allowed},
        media_type=content_type(media),
    )
    add_vary(response, "Accept")
    return response


def add_vary(response: Response, *names: str) -> None:
    """Adds ``names`` to the response's Vary, keeping what it already names."""
    present = [v.strip() for v in response.headers.get("vary", "").split(",") if v.strip()]
    wanted = present + [n for n in names if n.lower() not in {p.lower() for p in present}]
    if wanted:
        response.headers["Vary"] = ", ".join(wanted)


class Pipeline:
    def __init__(
        self,
        settings: Settings,
        *,
        limiter: RateLimiter,
        persisted: PersistedQueries,
        cache: ResponseCache,
        gate: Gate,
        hub: Hub,
    ) -> None:
        self.limiter = limiter
        self.persisted = persisted
        self.cache = cache
        self.gate = gate
        self.settings = settings
        self.local = LocalAnswers(cache.cache, hub)  # the fast path's copies, in memory
        self.leases = gate.leases  # rate-limit units taken a few at a time, one set per process

    @property
    def settings(self) -> Settings:
        return self.gate.settings  # one copy: the fast path and the gate read the same

    @settings.setter
    def settings(self, value: Settings) -> None:
        self.gate.settings = value

    async def handle(self, request: Request, run: Run) -> Response:
        params = await self._params(request)
        if params is None:  # the IDE, or a body strawberry will refuse on its own terms
            return await run(request)
        query, variables, name, extensions, text_checked = params
        try:
            query = await self.persisted.resolve(query, extensions)
        except PersistedQueryError as error:
            status = error.status
            if negotiate(request.headers.get("accept")) == GRAPHQL_RESPONSE:
                status = 400  # no data: a 4xx (GraphQL over HTTP §7.2.1)
            return error_response(request, status, error.message, error.code)
        caller = Caller.of(request, self.settings)
        try:
            admission = await self.gate.admit(
                caller,
                Operation(query, variables, name),
                charged=request.scope.get(CHARGED),
                text_checked=text_checked,
            )
        except Refused as refused:
            return refusal_response(request, refused)
        if admission.kind == "subscription":  # a stream, which this transport cannot carry
            return error_response(
                request,
                400,
                "subscriptions are served over WebSocket (graphql-transport-ws)",
                "BAD_REQUEST",
            )
        await self.persisted.register(query, extensions)  # admitted: valid, and not too large
        request.state.admission = admission
        request.state.query = query
        allowed = cors.headers(admission.principal, caller.origin)
        extra = {**admission.limit_headers(), **allowed}
        # Only anonymous reads are cached: a key's request is not even looked at for one.
        anonymous = admission.principal.key is None
        public = public_document(query) if anonymous and query and _plain_read(request) else None
        if public is not None and not public.answers(name):
            public = None  # the gate admitted another operation than the cached one
        site = public.site(variables) if public is not None else None
        if public is not None and site:
            response = await self._cached(request, run, public, query, variables, site)
        else:
            response = await run(request)
        vary = extra.pop("Vary", None)
        _update(response, extra)
        if vary:
            add_vary(response, vary)
        return response

    async def _params(self, request: Request):
        """(query, variables, operationName, extensions, text proven clean), or None."""
        if request.method == "GET":
            args = request.query_params
            if "query" not in args and "extensions" not in args:
                return None
            try:
                variables = untrusted_json.loads(args["variables"]) if "variables" in args else None
                extensions = (
                    untrusted_json.loads(args["extensions"]) if "extensions" in args else None
                )
            except untrusted_json.TooDeep as error:
                raise BadBody(error.msg) from None
            except ValueError:
                return None
            if not _well_formed(
                args.get("query"), variables, args.get("operationName"), extensions
            ):
                return None
            name = args.get("operationName")
            return args.get("query"), variables, name, extensions, False
        content_length = int(request.headers.get("content-length") or 0)
        if content_length > self.settings.edge.max_body_bytes:
            raise BodyTooLarge
        raw = await request.body()
        try:  # RFC 8259 §8.1; GraphQL documents are Unicode too
            text = untrusted_json.utf8_body(raw).decode("utf-8")
        except UnicodeDecodeError:
            raise BadBody("the request body is not valid UTF-8") from None
        try:
            body = untrusted_json.loads(text)
        except untrusted_json.TooDeep as error:
            raise BadBody(error.msg) from None
        except ValueError:
            return None
        PARSED_BODY.set((raw, body))
        if not isinstance(body, dict):
            return None
        query, name = body.get("query"), body.get("operationName")
        variables, extensions = body.get("variables"), body.get("extensions")
        if not _well_formed(query, variables, name, extensions):
            return None
        return (
            query,
            variables,
            name,
            extensions,
            # Strict UTF-8 and not one backslash: no NUL (JSON refuses it raw) and no
            # lone surrogate can be in there; skips walking a thousand-event batch.
            b"\\" not in raw,
        )

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
            if get and none_match(request.headers.get("if-none-match"), hit.etag):
                return Response(status_code=304, headers=extra)
            return Response(hit.body, headers={**extra, "content-type": content_type(media)})
        response = await run(request)
        until = getattr(request.state, "fresh_until", None)
        if response.status_code == 200 and until is not None and b'"errors"' not in response.body:
            ttl = int((until - datetime.now(UTC)).total_seconds())
            etag = await self.cache.store(hit, variant, response.body, ttl, media)
            if get:
                response.headers.update(cache_headers(etag))
        return response


def _update(response: Response, values: dict[str, str]) -> None:
    """``response.headers.update(values)``: appended to the raw headers at once when the
    response has none of them yet, where MutableHeaders scans and rebuilds the list for
    each name (~5 µs for the two RateLimit headers every admitted answer carries)."""
    encoded = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in values.items()]
    present = {name for name, _ in response.raw_headers}
    if present.isdisjoint(name for name, _ in encoded):
        response.raw_headers.extend(encoded)
    else:
        response.headers.update(values)


def _plain_read(request: Request) -> bool:
    """A request the response cache may answer: any GET, and a POST only as JSON, the
    one body strawberry would accept too. The operation's name is checked against the
    document (``Public.answers``): the cache key holds the document, which names it."""
    if request.method == "GET":
        return True
    parsed = PARSED_BODY.get()
    media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    return media == "application/json" and parsed is not None and isinstance(parsed[1], dict)


def _well_formed(query, variables, name, extensions) -> bool:
    """The GraphQL over HTTP request shape; anything else strawberry refuses (400) in the
    words of the spec, and the gate never sees it: it cannot run."""
    return (
        isinstance(query, str | None)
        and isinstance(variables, dict | None)
        and isinstance(name, str | None)
        and isinstance(extensions, dict | None)
        and (query is not None or extensions is not None)
    )
