"""The rate-limit charge for the site's pages and files: the same buckets, limiter and
failure policy as the GraphQL edge, in one small function.

A page, a script or a stylesheet costs what a read costs; a form posted costs what its
mutation costs (`server.limits`). Anonymous visitors pay per (site, client IP), as they
do for `publishedPolicy`, and a site no tenant owns never reaches here (it is a 404
first), so inventing names mints no buckets. When the gate lands, this is the one place
to call its charge instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from schema import documents, schema
from server import limits
from server.client_ip import client_ip
from server.ratelimit import RateLimiterUnavailable, headers
from tenants.tenancy.principal import ANONYMOUS

log = logging.getLogger("charter.site")


@dataclass(frozen=True)
class Charged:
    allowed: bool
    headers: dict[str, str]  # RateLimit-Policy and RateLimit, Retry-After when refused


async def charge(request: Request, *, site: str, document: str | None = None) -> Charged:
    """Charge the visitor's bucket for this request. ``document`` is the GraphQL
    operation a posted form will run (it costs what the API charges for it)."""
    settings = request.app.state.settings
    pipeline = request.app.state.pipeline
    ip = client_ip(request, settings.edge.trusted_proxies)
    checks = limits.buckets(ANONYMOUS, ip=ip, site=site, edge=settings.edge)
    cost = max(1, min([_units(document), *(limit.burst for _, limit in checks)]))
    try:
        if not pipeline.cache.cache.available():  # Redis just failed: do not wait on it
            raise RateLimiterUnavailable
        decision = await pipeline.limiter.hit_all(checks, cost=cost)
    except RateLimiterUnavailable:  # as for reads over GraphQL: fail open, logged
        log.warning("rate limiter unavailable: site request let through")
        return Charged(True, {})
    return Charged(decision.allowed, headers(decision))


def _units(document: str | None) -> int:
    """What the gate charges for ``document`` (schema.costs, from the parsed document)."""
    if not document:
        return 1
    try:
        checked = documents.check(
            schema._schema, document, operation_name=None, variables=None, coerce=False
        )
        return checked.measured.charge
    except documents.Refusal:
        return 1


def too_many(charged: Charged) -> Response:
    return Response(
        "Too many requests: wait a moment and try again.",
        status_code=429,
        media_type="text/plain; charset=utf-8",
        headers=charged.headers,
    )
