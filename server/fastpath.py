"""The hot path, in front of everything else: an anonymous read of a published policy that
is already cached is answered here, before Starlette builds a request.

Usually from memory alone: the answer from `LocalAnswers` (kept correct by pub/sub
invalidation) and the rate-limit unit from a lease (`Leases`). When either is missing,
one Redis call fetches what is: the lease and the cached answer together when both are.
Whatever cannot be answered here goes on down the usual road, already charged.

It answers only what the operation gate (server.gate) would answer the same way. An
answer is in the response cache only if the gate admitted that very request (document,
variables, language, media type) from an anonymous caller and execution answered it
without errors; every step of the gate but the charge depends on nothing else, and the
charge is the same: the bucket of (canonical site, client IP) and one unit
(`public_document` takes one-field documents only, which schema.costs charges 1).
tests/test_gate_http.py sends the same generated requests down both roads.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qs

from redis.exceptions import RedisError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server import cors, leases, limits
from server.client_ip import client_ip_of
from server.http_spec import content_type, negotiate, none_match
from server.leases import RenewalFailed
from server.local_answers import TTL_SECONDS, Answer
from server.ratelimit import Limit, policies_header, remaining_header
from server.ratelimit import headers as limit_headers
from server.response_cache import LOOKUP, ResponseCache, cache_headers, public_document
from server.security import ALWAYS
from tenants import untrusted_json
from tenants.tenancy.principal import ANONYMOUS

log = logging.getLogger("charter.fastpath")

REFUSED = b'{"errors":[{"message":"rate limit exceeded","extensions":{"code":"RATE_LIMITED"}}]}'
ANY_ORIGIN = [  # public data, no credentials (server.cors)
    (b"access-control-allow-origin", b"*"),
    (b"access-control-expose-headers", cors.EXPOSED.encode()),
]
CHARGED = "charter.charged"  # scope key: the Decision of a charge already made
SPENT = "charter.spent"  # scope key: the decision of a leased unit this request spent
STARTED = "charter.started"  # scope key: the answer has begun
WANTED = {
    b"authorization",
    b"accept",
    b"accept-language",
    b"content-length",
    b"content-type",
    b"if-none-match",
    b"origin",
    b"x-forwarded-for",
}
JSON_BODIES = {b"application/json", b"application/json; charset=utf-8"}
MEMO_ENTRIES = 4096
MEMO_BYTES = 4 * 1024


@dataclass(frozen=True)
class Read:
    """What a request asks for, once its query string or body has been understood."""

    site: str  # as the client wrote it
    variant: str  # the response cache's key for (document, variables, language, media)
    media: str


class FastPath:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.enabled = True  # off: every request takes the usual road (tests compare both)
        self._reads: dict[tuple, Read] = {}  # raw request -> Read: parse each shape once

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/graphql" or not self.enabled:
            return await self.app(scope, receive, send)
        pipeline = getattr(scope["app"].state, "pipeline", None)
        method = scope["method"]
        if pipeline is not None and method in ("GET", "POST"):
            headers = {k: v for k, v in scope["headers"] if k in WANTED}
            if b"authorization" not in headers:  # keys take the usual road: more to check
                body = None
                if method == "POST":
                    body = await _body(headers, receive, pipeline.settings.edge.max_body_bytes)
                    if not isinstance(body, bytes):  # not ours, or the client has gone
                        receive = receive if body is None else _replay(body, receive)
                        return await self.app(scope, receive, send)
                    receive = _replay({"type": "http.request", "body": body}, receive)
                try:
                    read = self._read(pipeline, scope["query_string"] if body is None else body,
                                      headers, post=body is not None)  # fmt: skip
                    if read is not None and await answer(pipeline, scope, send, headers, read):
                        return
                except RenewalFailed:
                    pass  # Redis is failing: the usual road knows what to do without it
                except Exception:  # a fault here must cost the shortcut, never the request
                    log.exception("the fast path failed; taking the usual road")
                    if scope.get(STARTED):
                        return  # an answer is already on its way: a second would be worse
                    spent = scope.get(SPENT)
                    if spent is not None:
                        scope[CHARGED] = spent
        await self.app(scope, receive, send)

    def _read(self, pipeline, raw: bytes, headers: dict, *, post: bool) -> Read | None:
        memo = (post, raw, headers.get(b"accept"), headers.get(b"accept-language"))
        read = self._reads.get(memo)
        if read is None:
            read = _understand(pipeline, raw, headers, post=post)
            # Only hits are kept (an unknown hash may be registered later), and only small
            # requests: a few thousand bodies of megabytes each would be a memory attack.
            if read is not None and len(raw) <= MEMO_BYTES:
                if len(self._reads) >= MEMO_ENTRIES:
                    self._reads.clear()
                self._reads[memo] = read
        return read


async def answer(pipeline, scope: Scope, send: Send, headers: dict, read: Read) -> bool:
    """True when the request was answered here."""
    cache = pipeline.cache
    local = pipeline.local
    if not cache.cache.available() or cache.cache.owed:
        return False
    key, limit, limiter_args = _bucket(pipeline, scope, headers, read.site)
    decision = pipeline.leases.spend(key, limit) or await pipeline.leases.wait_for_renewal(
        key, limit
    )
    found = local.get(read.site, read.variant) if local.usable() else None
    if decision is None or found is None:
        epoch = local.epoch
        try:
            decision, hit = await _ask_redis(
                pipeline, key, limit, limiter_args, read, decision, have_answer=found is not None
            )
        except RedisError as error:
            cache.cache.failed(error, "the fast path")
            if decision is not None:  # a leased unit was spent: don't charge twice
                scope[CHARGED] = decision
            return False
        if decision is None:  # a site of no known tenant: the usual road charges it
            return False
        if decision.allowed and found is None:
            if hit is None or hit.body is None:
                scope[CHARGED] = decision  # the usual road must not charge again
                return False
            found = _remember(local, read, hit, epoch)
    cross_origin = ANY_ORIGIN if b"origin" in headers else []
    if not decision.allowed:  # as server.edge refuses it: the client's media type, CORS
        head = [(b"content-type", content_type(read.media).encode()), (b"vary", b"Accept")]
        extra = [*_encoded(limit_headers(decision)), *cross_origin]
        await _send(send, 429, REFUSED, head, extra, scope)
        return True
    scope[SPENT] = decision
    post = scope["method"] == "POST"
    extra = [*_limit_head(decision), *cross_origin]
    if not post and _none_match(headers.get(b"if-none-match"), found.etag):
        await _send(send, 304, b"", _head(found.etag, read.media, post, validators_only=True),
                    extra, scope)  # fmt: skip
        return True
    await _send(send, 200, found.body, _head(found.etag, read.media, post), extra, scope)
    return True


async def _ask_redis(pipeline, key, limit, args, read: Read, decision, *, have_answer: bool):
    """One Redis call for whatever memory lacked: a lease, the cached answer, or both."""
    cache = pipeline.cache
    leased = pipeline.leases
    if decision is None:
        lease_args = [leases.size(limit), *args[1:]]
        with leased.renewing(key):
            if have_answer:
                lease = _script(pipeline, "lease_script", leases.LEASE)
                raw = await lease(keys=[key], args=lease_args)
                return leased.granted(key, limit, raw), None
            raw, found = await _script(pipeline, "fast_script", COMBINED)(
                keys=[key, *ResponseCache._keys(read.site)],
                args=[*lease_args, *ResponseCache._args(read.variant)],
            )
            if raw is None:  # no tenant known for the site: nothing leased
                return None, None
            return leased.granted(key, limit, raw), cache.hit_from(found)
    found = await _script(pipeline, "lookup_script", LOOKUP)(
        keys=ResponseCache._keys(read.site), args=ResponseCache._args(read.variant)
    )
    return decision, cache.hit_from(found)


def _remember(local, read: Read, hit, epoch: int) -> Answer:
    lives = min(TTL_SECONDS, hit.ttl_ms / 1000)  # never past the Redis entry's own end
    found = Answer(hit.tenant, hit.etag, hit.body, time.monotonic() + lives)
    local.put(read.site, read.variant, found, epoch=epoch)
    return found


def _understand(pipeline, raw: bytes, headers: dict, *, post: bool) -> Read | None:
    query, variables, name = (_from_body if post else _from_query_string)(pipeline, raw)
    public = public_document(query) if query else None
    site = public.site(variables) if public and public.answers(name) else None
    if site is None:
        return None
    media = negotiate(headers.get(b"accept", b"").decode("latin-1") or None)
    language = headers.get(b"accept-language", b"").decode("latin-1")
    return Read(site, ResponseCache.variant(query, variables, language, media), media)


def _from_query_string(pipeline, raw: bytes) -> tuple[str | None, dict | None, str | None]:
    # keep_blank_values: `operationName=` names the operation "", which no document
    # has: the usual road refuses it, as strawberry reads it.
    args = {k: v[0] for k, v in parse_qs(raw.decode("latin-1"), keep_blank_values=True).items()}
    if set(args) - FIELDS:
        return None, None, None  # strawberry's own reading decides what else means
    query, variables = _document(
        pipeline, args.get("query"), args.get("variables"), args.get("extensions")
    )
    return query, variables, args.get("operationName")


def _from_body(pipeline, raw: bytes) -> tuple[str | None, dict | None, str | None]:
    try:  # read as the edge reads it (utf8_body): what it refuses goes its way
        body = untrusted_json.loads(untrusted_json.utf8_body(raw))
    except ValueError:
        return None, None, None
    if not isinstance(body, dict) or set(body) - FIELDS:
        return None, None, None  # anything else: the usual road decides
    query, name = body.get("query"), body.get("operationName")
    if not isinstance(name, str | None):
        return None, None, None
    query, variables = _document(
        pipeline, query if isinstance(query, str) else None, body.get("variables"),
        body.get("extensions"),
    )  # fmt: skip
    return query, variables, name


# The GraphQL over HTTP request's members; Apollo, urql and Relay always send
# operationName, so it is understood here like the rest (Public.answers).
FIELDS = {"query", "variables", "extensions", "operationName"}


def _document(pipeline, query, variables, extensions) -> tuple[str | None, dict | None]:
    try:
        variables = untrusted_json.loads(variables) if isinstance(variables, str) else variables
        extensions = untrusted_json.loads(extensions) if isinstance(extensions, str) else extensions
    except ValueError:
        return None, None
    if not isinstance(variables, dict | None) or not isinstance(extensions, dict | None):
        return None, None
    # Other extensions (Apollo Client 4 sends {"clientLibrary": …} with every request)
    # mean nothing to the server, here as on the usual road (server.apq).
    persisted = (extensions or {}).get("persistedQuery")
    if query is not None:  # a document sent with a hash registers it: the usual road does
        return (None, None) if persisted is not None else (query, variables)
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        return None, None  # the usual road refuses it (BAD_REQUEST) in its own words
    return pipeline.persisted.known(persisted.get("sha256Hash")), variables


def _bucket(pipeline, scope: Scope, headers: dict, site: str) -> tuple[str, Limit, list[int]]:
    edge = pipeline.settings.edge
    peer = scope["client"][0] if scope.get("client") else "unknown"
    if edge.trusted_proxies:
        forwarded = headers.get(b"x-forwarded-for", b"").decode("latin-1")
        peer = client_ip_of(peer, forwarded, edge.trusted_proxies)
    known = _BUCKETS.get((site, peer))
    if known is None or known[0] is not edge:  # settings are replaced whole, never edited
        checks = limits.buckets(ANONYMOUS, ip=peer, site=site, edge=edge)
        (_, limit), = checks  # fmt: skip
        keys, args = pipeline.limiter.prepare(checks, cost=1)
        if len(_BUCKETS) >= MEMO_ENTRIES:
            _BUCKETS.clear()
        known = _BUCKETS[(site, peer)] = (edge, (keys[0], limit, args))
    return known[1]


_BUCKETS: dict[tuple[str, str], tuple[object, tuple[str, Limit, list[int]]]] = {}


def _limit_head(decision) -> list[tuple[bytes, bytes]]:
    policy = policies_header(decision).encode()
    return [(b"ratelimit-policy", policy), (b"ratelimit", remaining_header(decision).encode())]


def _encoded(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


def _none_match(header: bytes | None, etag: str) -> bool:
    return header is not None and none_match(header.decode("latin-1"), etag)


@lru_cache(maxsize=4096)
def _head(
    etag: str, media: str, post: bool, *, validators_only: bool = False
) -> list[tuple[bytes, bytes]]:
    head = [] if validators_only else [(b"content-type", content_type(media).encode())]
    if not post:  # HTTP caches keep GET answers only
        head += _encoded(cache_headers(etag))
    return head


# The lease and the cache lookup as one script: one command, one round trip. Each
# script becomes a function whose KEYS and ARGV are its own slices.
COMBINED = (
    "local function lease(KEYS, ARGV)\n"
    + leases.LEASE
    + "\nend\nlocal function lookup(KEYS, ARGV)\n"
    + LOOKUP
    + "\nend\n"
    + "local found = lookup({KEYS[2]}, {ARGV[4], ARGV[5], ARGV[6]})\n"
    # A site not known to belong to a tenant leases nothing: the usual road charges it,
    # in the one bucket all such sites share (server.edge), so invented names mint none.
    + "if not found[1] then return {false, found} end\n"
    + "return {lease({KEYS[1]}, {ARGV[1], ARGV[2], ARGV[3]}), found}\n"
)


def _script(pipeline, name: str, source: str):
    script = getattr(pipeline, name, None)
    if script is None:  # registered once per app; redis-py reloads it after a Redis restart
        script = pipeline.cache.redis.register_script(source)
        setattr(pipeline, name, script)
    return script


async def _body(headers: dict, receive: Receive, limit: int) -> bytes | Message | None:
    """The whole body of a small JSON POST; None to leave the request untouched; the
    disconnect message when the client left before sending all of it."""
    if headers.get(b"content-type", b"").lower() not in JSON_BODIES:
        return None
    length = headers.get(b"content-length", b"")
    if not (0 < len(length) <= 18 and length.isdigit()) or int(length) > limit:
        return None
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return message
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _replay(first: Message, receive: Receive) -> Receive:
    """`receive` as if `first` had not been taken from it yet."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return first

    return replay


async def _send(send: Send, status: int, body: bytes, head: list, extra: list, scope) -> None:
    raw = [*head, *extra, (b"content-length", str(len(body)).encode()), *ALWAYS]
    scope[STARTED] = True
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
