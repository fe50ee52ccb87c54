"""The edge under load: `charter serve` (one worker, PostgreSQL + Redis, rate limiter and
response cache on) as ratios to a bare Starlette app serving a body of the same size,
both measured in the same run.

    .venv/bin/python -m bench.edge [--duration 10] [--connections 32] [--threads 1]

Targets (issue): publishedPolicy over APQ GET >= 0.60 of the baseline (stretch 0.80),
over POST >= 0.45. wrk drives the load (bench/wrk/request.lua); without wrk, the httpx
generator of bench.loadgen does, in its own process.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import shutil
import uuid
from urllib.parse import quote, urlencode

import httpx

from bench.fixture import (
    PUBLISHED,
    RECORD,
    VIEWER,
    charter_server,
    create_tenant,
    policy_markdown,
    publish_policy,
    raw_server,
    stack,
)
from bench.loadgen import Result, Target, drive

SITE = "bench"
POLICY_BYTES = 1900  # of Markdown: with its rendered HTML, a ~4 KB answer
WARM_UP = 2
JSON = {"Content-Type": "application/json"}
GOALS = [  # (label, target name, ratio)
    ("APQ GET >= 0.60", "publishedPolicy APQ GET", 0.60),
    ("POST publishedPolicy >= 0.45", "publishedPolicy POST", 0.45),
    ("stretch APQ GET >= 0.80", "publishedPolicy APQ GET", 0.80),
]


def persisted() -> dict:
    digest = hashlib.sha256(PUBLISHED.encode()).hexdigest()
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


def apq_query_string() -> str:
    params = {
        "extensions": json.dumps(persisted(), separators=(",", ":")),
        "variables": json.dumps({"site": SITE}, separators=(",", ":")),
    }
    return urlencode(params, quote_via=quote)


def consent_body() -> str:
    decision = {"purpose": "analytics.reporting", "granted": True}
    variables = {"i": {"subjectId": "__N__", "method": "BANNER", "decisions": [decision]}}
    return json.dumps({"query": RECORD, "variables": variables})


async def check(http: httpx.AsyncClient, key: str) -> int:
    """Registers the persisted document, then checks every target answers as it should
    (so a broken set-up is never benchmarked). Returns the size of the cached answer."""
    url = f"/graphql?{apq_query_string()}"
    missing = (await http.get(url)).json()
    assert missing["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND", missing
    registered = await http.post(
        "/graphql",
        json={"query": PUBLISHED, "variables": {"site": SITE}, "extensions": persisted()},
    )
    assert registered.json()["data"]["publishedPolicy"]["version"] == 1, registered.text
    await http.get(url)  # a miss fills the cache
    cached = await http.get(url)
    policy = cached.json()["data"]["publishedPolicy"]
    assert cached.status_code == 200 and policy["title"] == "Privacy policy", cached.text
    assert cached.headers.get("etag"), f"no ETag on the cached answer: {cached.headers}"
    etag = cached.headers["etag"]
    assert (await http.get(url, headers={"If-None-Match": etag})).status_code == 304

    posted = await http.post("/graphql", json={"query": PUBLISHED, "variables": {"site": SITE}})
    assert posted.json()["data"]["publishedPolicy"]["body"] == policy["body"], posted.text
    auth = {"Authorization": f"Bearer {key}"}
    viewer = await http.post("/graphql", json={"query": VIEWER}, headers=auth)
    assert viewer.json()["data"]["viewer"]["tenant"]["slug"] == SITE, viewer.text
    body = consent_body().replace("__N__", "check-1")
    recorded = await http.post("/graphql", content=body, headers={**JSON, **auth})
    payload = recorded.json()["data"]["recordConsent"]
    assert payload["userErrors"] == [] and payload["receipt"]["id"], recorded.text
    return len(cached.content)


def targets(base: str, raw: str, key: str) -> list[Target]:
    auth = {**JSON, "Authorization": f"Bearer {key}"}
    plain = json.dumps({"query": PUBLISHED, "variables": {"site": SITE}})
    query_string = apq_query_string()
    return [
        Target("raw Starlette GET (baseline)", f"{raw}/graphql?{query_string}"),
        Target("publishedPolicy APQ GET", f"{base}/graphql?{query_string}"),
        Target("publishedPolicy POST", f"{base}/graphql", "POST", plain, JSON),
        Target("viewer POST (secret key)", f"{base}/graphql", "POST", json.dumps({"query": VIEWER}), auth),
        Target("recordConsent POST (secret key)", f"{base}/graphql", "POST", consent_body(), auth, unique=True),
        Target("raw Starlette GET (again)", f"{raw}/graphql?{query_string}"),
    ]  # fmt: skip


async def measure(
    all_targets: list[Target], duration: int, connections: int, threads: int
) -> list[Result]:
    results = []
    run_id = uuid.uuid4().hex[:8]
    for index, target in enumerate(all_targets):
        await drive(target, WARM_UP, connections, threads, f"w{index}-{run_id}")
        results.append(await drive(target, duration, connections, threads, f"m{index}-{run_id}"))
    return results


def report(all_targets: list[Target], results: list[Result]) -> None:
    baseline = (results[0].rps + results[-1].rps) / 2
    print(
        f"{'target':34} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx/err':>11} {'ratio':>6}"
    )
    for target, result in zip(all_targets, results, strict=True):
        print(
            f"{target.name:34} {result.rps:9.0f} {result.p50_ms:8.2f} {result.p99_ms:8.2f}"
            f" {result.failures:11d} {result.rps / baseline:6.2f}"
        )
    print(
        f"(baseline = mean of the two raw runs, {baseline:.0f} req/s; "
        f"they differ by {abs(results[0].rps - results[-1].rps) / baseline:.0%})"
    )
    by_name = {t.name: r for t, r in zip(all_targets, results, strict=True)}
    goals = []
    for label, name, wanted in GOALS:
        ratio = by_name[name].rps / baseline
        goals.append(f"{label}: {ratio:.3f} {'met' if ratio >= wanted else 'NOT met'}")
    print("targets: " + "; ".join(goals))
    failed = sum(r.failures for r in results)
    if failed:
        print(f"WARNING: {failed} non-2xx answers or socket errors: figures are suspect")


async def main(duration: int, connections: int, threads: int) -> None:
    async with stack() as env:
        key = await create_tenant(env, SITE)
        async with charter_server(env) as (base, _pid):
            async with httpx.AsyncClient(base_url=base, timeout=30) as http:
                await publish_policy(http, key, policy_markdown(POLICY_BYTES))
                answer_bytes = await check(http, key)
            async with raw_server(answer_bytes) as (raw, _raw_pid):
                async with httpx.AsyncClient() as http:
                    raw_bytes = len((await http.get(f"{raw}/graphql")).content)
                tool = "wrk" if shutil.which("wrk") else "httpx fallback (likely the bottleneck)"
                print(
                    f"load: {tool}, {threads} thread(s), {connections} connections, "
                    f"{WARM_UP} s warm-up + {duration} s per target; answer {answer_bytes} B "
                    f"(publishedPolicy), {raw_bytes} B (raw)"
                )
                all_targets = targets(base, raw, key)
                results = await measure(all_targets, duration, connections, threads)
    report(all_targets, results)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=10, help="seconds per target")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (2 cores)")
    options = parser.parse_args()
    asyncio.run(main(options.duration, options.connections, options.threads))
