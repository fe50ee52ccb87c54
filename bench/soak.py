"""A bounded soak: mixed traffic against `charter serve` (one worker, PostgreSQL + Redis,
rate limiter on with limits it never reaches) for five tenants, watching errors, p99
latency and the server's resident memory.

    .venv/bin/python -m bench.soak [--duration 60] [--warm-up 5] [--concurrency 16]

Traffic, by share of requests: publishedPolicy over GET (50%), recordConsent with a
publishable key (30%), submitSubjectRequest with an e-mail and a publishable key (10%),
viewer with a secret key (10%). RSS is read from /proc (uvicorn runs inside `charter
serve` with one worker) after the warm-up and at the end. Exits 1 when any request
failed (not 200, GraphQL `errors`, or `userErrors`) or RSS grew by 10% or more.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import httpx

from bench.fixture import (
    PUBLISHED,
    PURPOSE,
    RECORD,
    SUBMIT,
    VIEWER,
    charter_server,
    create_tenant,
    policy_markdown,
    publish_policy,
    publishable_key,
    rss_kib,
    stack,
)
from bench.loadgen import percentile

TENANTS = 5
MAX_REQUESTS = 1_000_000  # per phase: the duration ends it long before
MAX_GROWTH = 0.10
# Ten slots: which operation the n-th request of a phase is.
MIX = ["read"] * 5 + ["consent"] * 3 + ["request", "viewer"]


@dataclass
class Site:
    slug: str
    secret: str
    publishable: str


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    kinds: Counter = field(default_factory=Counter)
    errors: int = 0
    samples: list[str] = field(default_factory=list)
    seconds: float = 0.0


async def call(http: httpx.AsyncClient, kind: str, site: Site, tag: str) -> str | None:
    """One request; None when it went right, else what went wrong."""
    if kind == "read":
        variables = json.dumps({"site": site.slug})
        response = await http.get("/graphql", params={"query": PUBLISHED, "variables": variables})
        root, data_field = "publishedPolicy", None
    else:
        if kind == "viewer":
            query, variables, key, root = VIEWER, {}, site.secret, "viewer"
        elif kind == "consent":
            decision = {"purpose": PURPOSE, "granted": True}
            consent = {"subjectId": f"soak-{tag}", "method": "BANNER", "decisions": [decision]}
            query, variables, key, root = RECORD, {"i": consent}, site.publishable, "recordConsent"
        else:
            ask = {"type": "ACCESS", "email": f"soak-{tag}@example.com"}
            query, variables, key = SUBMIT, {"i": ask}, site.publishable
            root = "submitSubjectRequest"
        response = await http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {key}"},
        )
        data_field = "userErrors" if kind in ("consent", "request") else None
    if response.status_code != 200:
        return f"{kind}: HTTP {response.status_code} {response.text[:200]}"
    body = response.json()
    if body.get("errors") or not (body.get("data") or {}).get(root):
        return f"{kind}: {response.text[:200]}"
    if data_field and body["data"][root][data_field]:
        return f"{kind}: userErrors {body['data'][root][data_field]}"
    return None


async def phase(
    http: httpx.AsyncClient, sites: list[Site], seconds: float, concurrency: int, name: str
) -> Tally:
    tally = Tally()
    issued = 0
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal issued
        while time.perf_counter() < deadline and issued < MAX_REQUESTS:
            n, issued = issued, issued + 1
            kind, site = MIX[n % len(MIX)], sites[n % len(sites)]
            start = time.perf_counter()
            try:
                problem = await call(http, kind, site, f"{name}-{n}")
            except (httpx.HTTPError, ValueError) as error:
                problem = f"{kind}: {type(error).__name__}: {error}"
            tally.latencies.append((time.perf_counter() - start) * 1000)
            tally.kinds[kind] += 1
            if problem:
                tally.errors += 1
                if len(tally.samples) < 5:
                    tally.samples.append(problem)

    began = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(client() for _ in range(concurrency))), seconds + 60)
    tally.seconds = time.perf_counter() - began
    tally.latencies.sort()
    return tally


def describe(name: str, tally: Tally) -> None:
    count = len(tally.latencies)
    mix = ", ".join(f"{kind} {n}" for kind, n in sorted(tally.kinds.items()))
    print(
        f"{name}: {count} requests in {tally.seconds:.1f} s ({count / tally.seconds:.0f}/s; {mix}); "
        f"errors {tally.errors}; p50 {percentile(tally.latencies, 0.5):.1f} ms, "
        f"p99 {percentile(tally.latencies, 0.99):.1f} ms, max {tally.latencies[-1]:.1f} ms"
    )
    for sample in tally.samples:
        print(f"  error: {sample}")


async def main(duration: float, warm_up: float, concurrency: int) -> int:
    run_id = uuid.uuid4().hex[:6]
    async with stack() as env:
        keys = []
        for index in range(1, TENANTS + 1):
            slug = f"soak-{index}"
            keys.append((slug, await create_tenant(env, slug), await publishable_key(env, slug)))
        sites = [Site(slug, secret, public) for slug, secret, public in keys]
        async with charter_server(env) as (base, pid):
            limits = httpx.Limits(max_connections=concurrency)
            async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as http:
                for index, site in enumerate(sites):
                    await publish_policy(http, site.secret, policy_markdown(1500 + 200 * index))
                boot = rss_kib(pid)
                warm = await phase(http, sites, warm_up, concurrency, f"w{run_id}")
                start = rss_kib(pid)
                soak = await phase(http, sites, duration, concurrency, f"s{run_id}")
                end = rss_kib(pid)
    growth = (end - start) / start
    print(f"server pid {pid}, {TENANTS} tenants, {concurrency} concurrent clients")
    describe(f"warm-up ({warm_up:g} s)", warm)
    describe(f"soak ({duration:g} s)", soak)
    errors = warm.errors + soak.errors
    print(
        f"total: {len(warm.latencies) + len(soak.latencies)} requests, {errors} errors; "
        f"RSS boot {boot / 1024:.1f} MiB, after warm-up {start / 1024:.1f} MiB, "
        f"end {end / 1024:.1f} MiB: growth {growth:+.1%} over the soak (limit < {MAX_GROWTH:.0%})"
    )
    failed = [m for m, bad in (("errors", errors), ("RSS growth", growth >= MAX_GROWTH)) if bad]
    print("FAIL: " + ", ".join(failed) if failed else "PASS")
    return 1 if failed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=60, help="seconds of measured soak")
    parser.add_argument("--warm-up", type=float, default=5, help="seconds before RSS is taken")
    parser.add_argument("--concurrency", type=int, default=16)
    options = parser.parse_args()
    sys.exit(asyncio.run(main(options.duration, options.warm_up, options.concurrency)))
