"""Set-up shared by the edge and soak benchmarks: a scratch stack with the rate limiter on
but never refusing, tenants with a published policy, and servers run as subprocesses
whose process id is known (for RSS readings).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import httpx
from redis.asyncio import Redis

from bench.common import CHARTER, REDIS_URL, environment, free_port, run, scratch_database

ROOT = Path(__file__).resolve().parent.parent
PUBLISHED = (
    "query($site: String!) { publishedPolicy(site: $site) { version title body html locale } }"
)
VIEWER = "{ viewer { tenant { slug name } key { name role } } }"
RECORD = "mutation($i: ConsentInput!) { recordConsent(input: $i) { receipt { id } userErrors { code } } }"
SUBMIT = "mutation($i: SubjectRequestInput!) { submitSubjectRequest(input: $i) { subjectRequest { id } userErrors { code } } }"
DRAFT = "mutation($input: PolicyDraftInput!) { createPolicyDraft(input: $input) { policyVersion { id } userErrors { code } } }"
PUBLISH = "mutation($id: ID!) { publishPolicyVersion(id: $id) { policyVersion { version } userErrors { code } } }"
PURPOSE = "analytics.reporting"


def policy_markdown(size: int) -> str:
    """Markdown of about ``size`` bytes: headings, paragraphs and a list."""
    paragraph = (
        "We process the personal data you give us, and data about how you use the site, "
        "to run the service, keep it secure and, with your consent, measure its use. "
    )
    parts, index = [], 0
    while sum(len(p) for p in parts) < size:
        index += 1
        parts.append(f"## Section {index}\n\n{paragraph * 2}\n\n- item one\n- item two\n\n")
    return "".join(parts)[:size].rstrip()


async def flush_redis() -> None:
    """Empties the benchmark's Redis database: a site cached by an earlier run (another
    scratch database, another tenant id) must not answer for this run's tenant."""
    redis = Redis.from_url(REDIS_URL)
    try:
        await redis.flushdb()
    finally:
        await redis.aclose()


@contextlib.asynccontextmanager
async def stack() -> AsyncIterator[dict[str, str]]:
    """A migrated scratch database, an empty Redis database; yields the server's env."""
    await flush_redis()
    async with scratch_database() as database_url:
        with tempfile.TemporaryDirectory() as data_dir:
            env = environment(database_url, data_dir)
            await run("migrate", env=env)
            try:
                yield env
            finally:
                await flush_redis()


async def create_tenant(env: dict[str, str], slug: str) -> str:
    """The tenant's OWNER key."""
    return await run(
        "tenant", "create", "--slug", slug, "--name", slug.title(), "--locale", "en",
        "--jurisdiction", "EU", env=env,
    )  # fmt: skip


async def publishable_key(env: dict[str, str], slug: str) -> str:
    return await run("key", "create", "--tenant", slug, "--name", "bench", "--publishable", env=env)


async def graphql(http: httpx.AsyncClient, query: str, variables: dict, key: str) -> dict:
    response = await http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {key}"},
    )
    body = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise RuntimeError(f"{response.status_code}: {body}")
    return body["data"]


async def publish_policy(http: httpx.AsyncClient, key: str, markdown: str) -> None:
    draft = {
        "kind": "PRIVACY",
        "translations": [{"locale": "en", "title": "Privacy policy", "body": markdown}],
        "disclosures": {
            # Receipts name the controller in full (tenants/policies/controller.py).
            "controller": {
                "name": "Bench",
                "email": "p@bench.example",
                "address": "A",
                "phone": "1",
            },
            "purposes": [{"key": PURPOSE, "legalBasis": "CONSENT"}],
        },
    }
    made = (await graphql(http, DRAFT, {"input": draft}, key))["createPolicyDraft"]
    if made["userErrors"]:
        raise RuntimeError(f"createPolicyDraft: {made['userErrors']}")
    version = made["policyVersion"]["id"]
    published = (await graphql(http, PUBLISH, {"id": version}, key))["publishPolicyVersion"]
    if published["userErrors"]:
        raise RuntimeError(f"publishPolicyVersion: {published['userErrors']}")


@contextlib.asynccontextmanager
async def spawned(
    argv: Sequence[str], env: dict[str, str], port: int, probe: str
) -> AsyncIterator[tuple[str, int]]:
    """Starts ``argv`` (which listens on ``port``), waits until ``probe`` answers 200;
    yields (base URL, process id). Terminated (killed if it lingers) on the way out."""
    with tempfile.TemporaryFile() as log:
        process = await asyncio.create_subprocess_exec(
            *argv, env=env, cwd=ROOT, stdout=asyncio.subprocess.DEVNULL, stderr=log
        )
        try:
            yield await _ready(process, f"http://127.0.0.1:{port}", probe, log), process.pid
        finally:
            if process.returncode is None:
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), 15)
                except TimeoutError:
                    process.kill()
                    await process.wait()


async def _ready(process: asyncio.subprocess.Process, base: str, probe: str, log) -> str:
    async with httpx.AsyncClient(base_url=base) as http:
        for _ in range(300):
            if process.returncode is not None:
                log.seek(0)
                raise RuntimeError(f"server exited: {log.read().decode()[-2000:]}")
            with contextlib.suppress(httpx.TransportError):
                if (await http.get(probe)).status_code == 200:
                    return base
            await asyncio.sleep(0.1)
    raise RuntimeError(f"server did not come up on {base}")


def charter_server(env: dict[str, str], workers: int = 1) -> contextlib.AbstractAsyncContextManager:
    """`charter serve`; with one worker, uvicorn runs in that very process."""
    port = free_port()
    argv = [CHARTER, "serve", "--port", str(port), "--workers", str(workers)]
    return spawned(argv, env, port, "/healthz")


def raw_server(body_bytes: int) -> contextlib.AbstractAsyncContextManager:
    port = free_port()
    env = {**os.environ, "BENCH_RAW_BYTES": str(body_bytes)}
    argv = [sys.executable, "-m", "uvicorn", "bench.raw_app:app", "--port", str(port)]
    return spawned([*argv, "--log-level", "warning"], env, port, "/graphql")


def rss_kib(pid: int) -> int:
    """VmRSS of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")
