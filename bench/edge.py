"""The edge under load, every row of issue 17's table, with its peers, in one run: ratios to
a bare Starlette route serving a body of the same size (the answer of `publishedPolicy`,
about 4 KB), all measured in the same run on the same machine.

    .venv/bin/python -m bench.edge [--duration 10] [--connections 32] [--threads 1]
        [--workers 1 2] [--json FILE]

Peers, answering `{ publishedPolicy { version title body } }` with the same 4 KB object:
bare strawberry with ParserCache and ValidationCache (bench.strawberry_app), and, when
node is installed, GraphQL Yoga and Apollo Server (bench/js, `npm ci` run here when its
node_modules is missing). Charter (`charter serve`, PostgreSQL + Redis, rate limiter on
but never refusing, response cache on) is measured with one worker and with two.

wrk drives the load (bench/wrk/request.lua); without wrk, the httpx generator of
bench.loadgen does, in its own process (then it is likely the bottleneck).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

import httpx

from bench.common import free_port
from bench.fixture import (
    PUBLISHED,
    RECORD,
    ROOT,
    VIEWER,
    charter_server,
    create_tenant,
    policy_markdown,
    publish_policy,
    publishable_key,
    raw_server,
    stack,
)
from bench.loadgen import Result, Target, drive
from bench.raw_app import constant_body

SITE = "bench"
POLICY_BYTES = 1900  # of Markdown: with its rendered HTML, a ~4 KB answer
WARM_UP = 2
JSON = {"Content-Type": "application/json"}
JS = Path(__file__).with_name("js")
PEER_QUERY = json.dumps({"query": "{ publishedPolicy { version title body } }"})
# Apollo Client's shape: a named operation, sent with its name, as an APQ GET.
NAMED = (
    "query PublishedPolicy($site: String!) "
    "{ publishedPolicy(site: $site) { version title body html locale } }"
)
STATE = "query($s: String!) { consentState(subjectId: $s) { purpose granted decidedAt } }"
SUBJECT = "bench-subject"

BASELINE = "raw Starlette GET"
STRAWBERRY = "bare strawberry (ParserCache, ValidationCache)"
APQ_NAMED = "publishedPolicy APQ GET + operationName"
APQ_PLAIN = "publishedPolicy APQ GET"
VIEWER_ROW = "viewer (secret key)"
STATE_ROW = "consentState (secret key)"
RECORD_ROW = "recordConsent (publishable key)"
# Issue 17's targets, as ratios to the baseline: (floor, stretch or None).
TARGETS = {
    APQ_NAMED: (0.70, 0.85),
    VIEWER_ROW: (0.12, 0.35),
    STATE_ROW: (0.10, None),
    RECORD_ROW: (0.06, None),
}


@dataclass
class Row:
    target: Target
    workers: int | None = None  # Charter's rows only
    result: Result | None = None


def persisted(query: str) -> dict:
    return {"persistedQuery": {"version": 1, "sha256Hash": hashlib.sha256(query.encode()).hexdigest()}}  # fmt: skip


def apq_query_string(query: str, operation_name: str | None) -> str:
    params = {"operationName": operation_name} if operation_name else {}
    params["variables"] = json.dumps({"site": SITE}, separators=(",", ":"))
    params["extensions"] = json.dumps(persisted(query), separators=(",", ":"))
    return urlencode(params, quote_via=quote)


def record_body() -> str:
    decision = {"purpose": "analytics.reporting", "granted": True}
    variables = {"i": {"subjectId": "__N__", "method": "BANNER", "decisions": [decision]}}
    return json.dumps({"query": RECORD, "variables": variables})


def charter_targets(base: str, secret: str, publishable: str) -> list[Target]:
    auth = {**JSON, "Authorization": f"Bearer {secret}"}
    site_auth = {**JSON, "Authorization": f"Bearer {publishable}"}
    state = json.dumps({"query": STATE, "variables": {"s": SUBJECT}})
    return [
        Target(APQ_NAMED, f"{base}/graphql?{apq_query_string(NAMED, 'PublishedPolicy')}"),
        Target(APQ_PLAIN, f"{base}/graphql?{apq_query_string(PUBLISHED, None)}"),
        Target(VIEWER_ROW, f"{base}/graphql", "POST", json.dumps({"query": VIEWER}), auth),
        Target(STATE_ROW, f"{base}/graphql", "POST", state, auth),
        Target(RECORD_ROW, f"{base}/graphql", "POST", record_body(), site_auth, unique=True),
    ]


async def prepare(http: httpx.AsyncClient, secret: str, publishable: str) -> int:
    """Registers the persisted documents and checks that every Charter target answers as
    it should (a broken set-up is never benchmarked). Returns the cached answer's size."""
    sizes = set()
    for query, name in ((NAMED, "PublishedPolicy"), (PUBLISHED, None)):
        url = f"/graphql?{apq_query_string(query, name)}"
        body = {"query": query, "variables": {"site": SITE}, "extensions": persisted(query)}
        registered = await http.post("/graphql", json={**body, "operationName": name})
        assert registered.json()["data"]["publishedPolicy"]["version"] == 1, registered.text
        for _ in range(2):  # the first fills the cache
            cached = await http.get(url)
        assert cached.status_code == 200 and cached.headers.get("etag"), cached.headers
        sizes.add(len(cached.content))
    recorded = await http.post(
        "/graphql",
        content=record_body().replace("__N__", SUBJECT),
        headers={**JSON, "Authorization": f"Bearer {publishable}"},
    )
    assert recorded.json()["data"]["recordConsent"]["userErrors"] == [], recorded.text
    for target in charter_targets(str(http.base_url).rstrip("/"), secret, publishable):
        body = (target.body or "").replace("__N__", f"check-{uuid.uuid4().hex[:8]}")
        answer = await http.request(target.method, target.url, content=body or None, headers=target.headers)  # fmt: skip
        assert answer.status_code == 200 and "errors" not in answer.json(), answer.text
    state = await http.post(
        "/graphql",
        json={"query": STATE, "variables": {"s": SUBJECT}},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert state.json()["data"]["consentState"][0]["granted"] is True, state.text
    return max(sizes)


@contextlib.asynccontextmanager
async def strawberry_server(answer_bytes: int) -> AsyncIterator[str]:
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "bench.strawberry_app:app", "--port", str(port)]
    env = {"BENCH_RAW_BYTES": str(answer_bytes)}
    async with _peer([*argv, "--log-level", "warning"], env, port) as base:
        yield base


@contextlib.asynccontextmanager
async def node_server(kind: str, answer_bytes: int) -> AsyncIterator[str]:
    answer = json.loads(constant_body(answer_bytes))["data"]["publishedPolicy"]
    with tempfile.NamedTemporaryFile("w", suffix=".json") as file:
        json.dump(answer, file)
        file.flush()
        port = free_port()
        env = {"BENCH_ANSWER_FILE": file.name, "NODE_ENV": "production"}
        async with _peer(["node", str(JS / "peers.mjs"), kind, str(port)], env, port) as base:
            yield base


@contextlib.asynccontextmanager
async def _peer(argv: list[str], env: dict[str, str], port: int) -> AsyncIterator[str]:
    """Starts a peer and waits until it gives the same answer as everyone (or no row)."""
    base = f"http://127.0.0.1:{port}"
    process = await asyncio.create_subprocess_exec(
        *argv, env={**os.environ, **env}, cwd=ROOT, stdout=asyncio.subprocess.DEVNULL
    )
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(300):
                with contextlib.suppress(httpx.TransportError):
                    answer = await http.post(f"{base}/graphql", content=PEER_QUERY, headers=JSON)
                    if answer.status_code == 200 and "errors" not in answer.json():
                        break
                if process.returncode is not None:
                    raise RuntimeError(f"{argv[:3]} exited with {process.returncode}")
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError(f"{argv[:3]} never answered on {base}")
        yield base
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()


def node_peers_ready() -> bool:
    """Node and bench/js's packages (installed from its lock file when missing)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return False
    if not (JS / "node_modules").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=JS, check=True)
    return True


async def measure(rows: list[Row], duration: int, connections: int, threads: int) -> None:
    run_id = uuid.uuid4().hex[:8]
    for index, row in enumerate(rows):
        print(f"  {row.target.name}{_workers(row)} ...", file=sys.stderr, flush=True)
        await drive(row.target, WARM_UP, connections, threads, f"w{index}-{run_id}")
        row.result = await drive(row.target, duration, connections, threads, f"m{index}-{run_id}")


def _workers(row: Row) -> str:
    return "" if row.workers is None else f", {row.workers} worker{'s' * (row.workers > 1)}"


def report(rows: list[Row]) -> dict:
    first, last = rows[0].result, rows[-1].result
    baseline = (first.rps + last.rps) / 2
    print(
        f"{'target':50} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} {'ratio':>6}  target"
    )
    figures = []
    for row in rows:
        result, name = row.result, row.target.name + _workers(row)
        ratio = result.rps / baseline
        goal = TARGETS.get(row.target.name)
        verdict = ""
        if goal:
            floor, stretch = goal
            verdict = f">= {floor:.2f} {'met' if ratio >= floor else 'NOT met'}"
            if stretch:
                verdict += f"; stretch {stretch:.2f} {'met' if ratio >= stretch else 'not met'}"
        print(
            f"{name:50} {result.rps:8.0f} {result.p50_ms:7.2f} {result.p99_ms:7.2f}"
            f" {result.failures:6d} {ratio:6.3f}  {verdict}"
        )
        figures.append({"target": row.target.name, "workers": row.workers, "rps": result.rps,
                        "p50_ms": result.p50_ms, "p99_ms": result.p99_ms,
                        "errors": result.failures, "ratio": ratio})  # fmt: skip
    drift = abs(first.rps - last.rps) / baseline
    print(
        f"(baseline = mean of the two raw runs, {baseline:.0f} req/s; they differ by {drift:.0%})"
    )
    failed = sum(row.result.failures for row in rows)
    if failed:
        print(f"WARNING: {failed} non-2xx answers or socket errors: figures are suspect")
    return {"baseline_rps": baseline, "baseline_drift": drift, "rows": figures}


async def main(options: argparse.Namespace) -> None:
    async with stack() as env:
        secret = await create_tenant(env, SITE)
        publishable = await publishable_key(env, SITE)
        async with contextlib.AsyncExitStack() as servers:
            charters = {}
            for workers in options.workers:
                base, _pid = await servers.enter_async_context(charter_server(env, workers))
                charters[workers] = base
            async with httpx.AsyncClient(base_url=charters[options.workers[0]], timeout=30) as http:
                await publish_policy(http, secret, policy_markdown(POLICY_BYTES))
            for base in charters.values():
                async with httpx.AsyncClient(base_url=base, timeout=30) as http:
                    answer_bytes = await prepare(http, secret, publishable)
            raw, _ = await servers.enter_async_context(raw_server(answer_bytes))
            base = await servers.enter_async_context(strawberry_server(answer_bytes))
            peers = [Row(Target(STRAWBERRY, f"{base}/graphql", "POST", PEER_QUERY, JSON))]
            if node_peers_ready():
                for kind, label in (("yoga", "GraphQL Yoga"), ("apollo", "Apollo Server")):
                    base = await servers.enter_async_context(node_server(kind, answer_bytes))
                    peers.append(Row(Target(label, f"{base}/graphql", "POST", PEER_QUERY, JSON)))
            rows = [Row(Target(BASELINE, f"{raw}/graphql")), *peers]
            for workers, base in charters.items():
                rows += [Row(t, workers) for t in charter_targets(base, secret, publishable)]
            rows.append(Row(Target(f"{BASELINE} (again)", f"{raw}/graphql")))
            tool = "wrk" if shutil.which("wrk") else "httpx fallback (likely the bottleneck)"
            print(
                f"load: {tool}, {options.threads} thread(s), {options.connections} connections, "
                f"{WARM_UP} s warm-up + {options.duration} s per target; answers of "
                f"{answer_bytes} B; PostgreSQL + Redis; {sys.platform}, "
                f"{len(os.sched_getaffinity(0))} CPUs"
            )
            await measure(rows, options.duration, options.connections, options.threads)
    figures = report(rows)
    if options.json:
        with open(options.json, "w") as file:  # noqa: ASYNC230 (after the run)
            json.dump(figures, file, indent=2)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=10, help="seconds per target")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (2 cores)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--json", help="also write the figures to this file")
    asyncio.run(main(parser.parse_args()))
