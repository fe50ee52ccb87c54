"""The operation gate: every GraphQL operation passes here, whatever carried it.

    authenticate → origin policy → text → document (parse, limits and cost,
    validation; cached) → rate-limit charge → admitted

A transport turns its protocol into a ``Caller`` (once per request or socket: the token,
the client IP behind trusted proxies, the Origin) and an ``Operation`` (once per
operation), calls ``Gate.admit``, and then either executes the ``Admission`` or renders
the ``Refused`` in its own protocol: HTTP (``server.edge``, ``server.graphql``) answers
with a status and headers, graphql-transport-ws (``server.websocket``) with an ``error``
message. The gate knows no protocol: no request, no socket, no status line of its own
(``STATUS`` only says what each refusal means over HTTP, for the HTTP transport).

Public surface: ``Caller``, ``Operation``, ``Admission``, ``Refused``, ``Gate``,
``text_problem`` (the text rule, also used by the fast path) and ``STATUS``.

Every step refuses with a stable ``extensions.code``:
  UNAUTHENTICATED   a token was sent but stands for nobody (after the charge: guessing
                    tokens is metered like anything else)
  FORBIDDEN         a publishable key used from an origin its tenant does not own
  BAD_USER_INPUT    NUL or a lone surrogate anywhere in the query or variables: no
                    database stores them, and Redis keys and UTF-8 columns choke on them;
                    or variables that do not coerce to their types (``schema.documents``)
  GRAPHQL_PARSE_FAILED / QUERY_TOO_COMPLEX / GRAPHQL_VALIDATION_FAILED   the document
                    (``schema.documents``)
  OPERATION_RESOLUTION_FAILURE   no operation picked (GraphQL spec §6.1 GetOperation: an
                    operationName naming none, or several operations and no name). The
                    gate picks the operation once; every later step, and execution, uses it
  RATE_LIMITED      the charge, from ``schema.costs``, was refused by a bucket; an
                    anonymous operation reading several sites pays into each site's bucket
Refused documents and text still charge one unit: checking them was work.

Principals come from this process's memory when it holds the key (``server.principals``,
dropped at once on revocation); ETag, CORS headers and error media types live in
``server.edge``, around ``admit``, never inside it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from graphql import GraphQLError
from starlette.requests import HTTPConnection

from schema import documents
from schema.costs import MAX_COST
from server import leases, limits
from server.auth import Rejected, principal_for
from server.client_ip import client_ip
from server.cors import origin_allowed
from server.leases import Leases, RenewalFailed
from server.principals import Principals
from server.ratelimit import Decision, Limit, RateLimiter, RateLimiterUnavailable, headers
from server.settings import Settings
from tenants import sites
from tenants.cache import Cache
from tenants.policies.published import tenant_of_site
from tenants.tenancy import service
from tenants.tenancy.principal import ANONYMOUS, Principal

__all__ = ["STATUS", "Admission", "Caller", "Gate", "Operation", "Refused", "text_problem"]

log = logging.getLogger("charter.gate")

# What each refusal means over HTTP: (status with application/graphql-response+json,
# status with application/json). The GraphQL over HTTP spec wants a 4xx whenever no data
# could be produced; application/json keeps its legacy 200 for GraphQL-level errors.
STATUS = {
    "UNAUTHENTICATED": (401, 200),
    "FORBIDDEN": (403, 403),
    "BAD_USER_INPUT": (400, 400),
    "QUERY_TOO_COMPLEX": (400, 200),
    "GRAPHQL_PARSE_FAILED": (400, 200),
    "GRAPHQL_VALIDATION_FAILED": (400, 200),
    "OPERATION_RESOLUTION_FAILURE": (400, 200),  # operationName picks no operation
    "RATE_LIMITED": (429, 429),
}


@dataclass(frozen=True)
class Caller:
    """Who is calling and from where, resolved once per request or socket."""

    token: str | None  # the bearer token, or None
    ip: str  # the client's address (X-Forwarded-For only from trusted proxies)
    origin: str | None = None  # a browser's Origin header
    malformed: bool = False  # credentials were sent, but as no bearer token

    @classmethod
    def of(cls, connection: HTTPConnection, settings: Settings, authorization: object = None):
        """From a request's headers, or from ``authorization`` when given (a socket's
        connection_init payload carries it: ``{"Authorization": "Bearer sk_…"}``)."""
        header = connection.headers.get("authorization") if authorization is None else None
        if authorization is not None:
            header = str(authorization)
        token, malformed = None, False
        if header is not None:
            scheme, _, value = header.partition(" ")
            token = value.strip() if scheme.lower() == "bearer" and value.strip() else None
            malformed = token is None
        return cls(
            token=token,
            ip=client_ip(connection, settings.edge.trusted_proxies),
            origin=connection.headers.get("origin"),
            malformed=malformed,
        )


@dataclass(frozen=True)
class Operation:
    query: str | None
    variables: dict | None = None
    operation_name: str | None = None


@dataclass(frozen=True)
class Admission:
    """What the gate let through, and why: everything execution needs from it."""

    caller: Caller
    principal: Principal
    operation: Operation
    checked: documents.Checked
    decision: Decision | None  # None: the limiter could not answer and the call went on
    site: str | None  # the canonical site a public read names (tenants.sites)

    @property
    def kind(self) -> str:
        return self.checked.measured.operation

    def limit_headers(self) -> dict[str, str]:
        return headers(self.decision) if self.decision is not None else {}


class Refused(Exception):
    """A coded refusal: ``errors`` (each with ``extensions.code``) and HTTP ``headers``."""

    def __init__(self, errors: list[GraphQLError], headers: dict | None = None) -> None:
        super().__init__(errors[0].message)
        self.errors = errors
        self.headers = headers or {}

    @classmethod
    def of(cls, code: str, message: str, headers: dict | None = None) -> Refused:
        return cls([GraphQLError(message, extensions={"code": code})], headers)

    @property
    def code(self) -> str:
        return (self.errors[0].extensions or {}).get("code", "GRAPHQL_VALIDATION_FAILED")


def text_problem(value: object, *, document: bool = False) -> str | None:
    """Why ``value`` (a JSON value: variables, a name; or, with ``document``, a query's
    text) holds text no store takes, or None. NUL is refused raw and, in a document, as
    the GraphQL escapes ``\\u0000`` and ``\\u{0}`` the parser would decode; a lone
    surrogate has no UTF-8 form at all (the parser refuses its escapes itself)."""
    if isinstance(value, str):
        if "\x00" in value or (document and "\\u" in value and _NUL_ESCAPE.search(value)):
            return "text may not contain NUL characters"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "text may not contain lone surrogates (invalid Unicode)"
        return None
    if isinstance(value, dict):
        return next(
            (p for k, v in value.items() if (p := text_problem(k) or text_problem(v))), None
        )
    if isinstance(value, list):
        return next((p for item in value if (p := text_problem(item))), None)
    return None


# A GraphQL string spells NUL \u0000 or, since the 2021 spec, \u{0} (any number of zeros).
_NUL_ESCAPE = re.compile(r"\\u(?:0000|\{0+\})")


@dataclass
class Gate:
    settings: Settings
    limiter: RateLimiter
    cache: Cache
    schema: object = field(repr=False, default=None)  # graphql-core's schema
    principals: Principals | None = None  # keys held in memory (server.principals)
    leases: Leases = field(default_factory=Leases)  # shared with the fast path

    async def admit(
        self,
        caller: Caller,
        operation: Operation,
        *,
        charged: Decision | None = None,
        text_checked: bool = False,
    ) -> Admission:
        """The admission, or Refused. ``charged``: the decision the fast path already
        made for this very request (its rate-limit unit is spent; never charge twice).
        ``text_checked``: the transport has proof the text rule holds (a strictly
        decoded JSON body without a single backslash holds no NUL and no surrogate)."""
        principal, rejected = await self.authenticate(caller)
        if not await self._origin_allowed(principal, caller.origin):
            raise Refused.of("FORBIDDEN", "this key may not be used from that origin")
        problem = None
        if not text_checked:
            problem = text_problem(operation.query, document=True)
            problem = problem or text_problem(operation.variables)
            problem = problem or text_problem(operation.operation_name)
        if problem:
            await self._charge(caller, principal, None, 1, charged)
            raise Refused.of("BAD_USER_INPUT", problem)
        plan = (principal.tenant.limits or {}) if principal.tenant is not None else {}
        try:
            checked = documents.check(
                self.schema,
                operation.query,
                operation_name=operation.operation_name,
                variables=operation.variables,
                max_cost=plan.get("max_cost", MAX_COST),
                introspection=self._may_introspect(principal),
            )
        except documents.Refusal as refusal:
            await self._charge(caller, principal, None, 1, charged)
            raise Refused(refusal.errors) from None
        shares = _shares(checked, operation.variables)
        site = shares[0][0]
        decision = await self._charge_shares(caller, principal, shares, charged)
        if rejected:
            raise Refused.of("UNAUTHENTICATED", "the API key or token is unknown or revoked")
        return Admission(caller, principal, operation, checked, decision, site)

    async def authenticate(self, caller: Caller) -> tuple[Principal, bool]:
        """(the principal, whether a token was sent and refused). A refused token is
        charged as an anonymous caller, then refused."""
        if caller.malformed:
            return ANONYMOUS, True
        if caller.token is None:
            return ANONYMOUS, False
        try:
            try:
                return await principal_for(caller.token, self.settings, self.principals), False
            except Rejected:
                raise
            except Exception as error:  # a dropped database connection fails one query
                log.warning("authentication failed once (%s); trying again", type(error).__name__)
                return await principal_for(caller.token, self.settings, self.principals), False
        except Rejected:
            return ANONYMOUS, True

    async def _origin_allowed(self, principal: Principal, origin: str | None) -> bool:
        if origin is None or not principal.publishable:
            return origin_allowed(principal, origin, ())
        domains = await service.domains_of(tenant=principal.tenant, cache=self.cache)
        return origin_allowed(principal, origin, domains, strict=self.settings.production)

    def _may_introspect(self, principal: Principal) -> bool:
        """Production: secret keys and the platform token only. Anonymous and publishable
        callers are browsers and the public: they need the contract, not the schema."""
        if not self.settings.production:
            return True
        return principal.platform or (principal.key is not None and not principal.publishable)

    async def _charge_shares(
        self, caller: Caller, principal: Principal, shares: list[tuple[str | None, int]], charged
    ) -> Decision | None:
        """Each site's bucket pays its share. Only anonymous callers pay per site; a key
        pays the whole into its own buckets whatever sites it reads."""
        if charged is not None or len(shares) == 1 or principal.key is not None:
            return await self._charge(
                caller, principal, shares[0][0], sum(u for _, u in shares), charged
            )
        owed: dict[str | None, int] = {}  # sites nobody owns pay into one bucket (_known)
        for site, units in shares:
            known = await self._known(principal, site)
            owed[known] = owed.get(known, 0) + units
        decisions = [
            decision
            for site, units in owed.items()
            if (decision := await self._charge(caller, principal, site, units, None))
        ]
        return min(decisions, key=lambda d: (d.remaining, -d.reset_seconds), default=None)

    async def _charge(
        self, caller: Caller, principal: Principal, site: str | None, units: int, charged
    ) -> Decision | None:
        if charged is not None:
            return charged
        site = await self._known(principal, site)
        checks = limits.buckets(principal, ip=caller.ip, site=site, edge=self.settings.edge)
        try:
            if not self.cache.available():  # Redis just failed: do not wait on it again
                raise RateLimiterUnavailable
            if principal.platform:  # exact, whatever it costs: the operator's own token
                decision = await self.limiter.hit_all(checks, cost=_fit(units, checks))
            else:
                decision = await self._leased(checks, _fit(units, checks))
        except RateLimiterUnavailable as error:
            if self.cache.available():
                self.cache.failed(error, "the rate limiter")
            if principal.platform:  # the one caller that must never go unmetered
                raise Refused.of(
                    "RATE_LIMITED", "rate limiter unavailable", {"Retry-After": "1"}
                ) from None
            log.warning("rate limiter unavailable: request let through")
            return None
        if not decision.allowed:
            raise Refused.of("RATE_LIMITED", "rate limit exceeded", headers(decision))
        return decision

    async def _leased(self, checks: list[tuple[str, Limit]], units: int) -> Decision:
        """``units`` from every bucket, from leases held here (``server.leases``): Redis
        is asked once per lease, not once per request. A refusal from one bucket does not
        give back what another's lease already spent (the leases lapse within 1 s)."""
        keys, _ = self.limiter.prepare(checks, cost=units)
        decisions = []
        for key, (_, limit) in zip(keys, checks, strict=True):
            decision = self.leases.spend(key, limit, units)
            if decision is None:
                try:
                    decision = await self.leases.wait_for_renewal(key, limit, units)
                except RenewalFailed:
                    raise RateLimiterUnavailable("a lease renewal failed") from None
            if decision is None:
                with self.leases.renewing(key):
                    args = leases.ask(limit, units, self.leases.held(key))
                    raw = await self.limiter.call(leases.LEASE, [key], args)
                decision = self.leases.granted(key, limit, raw, units)
            decisions.append(decision)
            if not decision.allowed:
                # The buckets after it are not charged; their headers say what this
                # process last knew of them, if anything.
                later = zip(keys[len(decisions) :], checks[len(decisions) :], strict=True)
                decisions += [d for key, (_, limit) in later if (d := self.leases.peek(key, limit))]
                chosen = decision
                break
        else:
            chosen = min(decisions, key=lambda d: (d.remaining, -d.reset_seconds))
        return chosen._replace(buckets=tuple(decisions)) if len(decisions) > 1 else chosen

    async def _known(self, principal: Principal, site: str | None) -> str | None:
        """The site an anonymous caller pays for, if a tenant owns it. Buckets are per
        (site, IP): a site nobody owns would mint a fresh bucket for every name a client
        invents, so all such sites share one (None)."""
        if principal.key is not None or principal.platform or not site:
            return site
        if not self.cache.available():
            return site  # the limiter cannot answer either: nothing to share
        return site if await tenant_of_site(cache=self.cache, site=site) else None


def _shares(checked: documents.Checked, variables: dict | None) -> list[tuple[str | None, int]]:
    """What each canonical site the root fields name owes of the charge, first named
    first; root fields naming no site (or none a name can mean) go with the first. A
    single entry (None, charge) when the operation names no site at all."""
    owed: dict[str | None, int] = {}
    for (kind, value), units in checked.measured.sites:
        given = value if kind == "literal" else (variables or {}).get(value)
        name = sites.canonical(given)
        owed[name] = owed.get(name, 0) + units
    named = [name for name in owed if name is not None]
    first = named[0] if named else None
    rest = checked.measured.charge - sum(owed.get(name, 0) for name in named)
    shares = {first: rest} if rest > 0 or not named else {}
    for name in named:
        shares[name] = shares.get(name, 0) + owed[name]
    return list(shares.items())


def _fit(cost: int, checks) -> int:
    # A cost above a bucket's burst could never pass; charge the whole burst instead.
    return max(1, min([cost, *(limit.burst for _, limit in checks)]))
