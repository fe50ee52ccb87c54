"""The ledger at volume, in the bench's own process on the bench's database: `charter
consent import`'s path, a full verification's rate, and how verifyConsentLedger and
consentState (over HTTP, on the running server) hold as the ledger grows.

Used by bench/consent.py, which prints these rows next to the raw-write ceiling measured
in the same run.
"""

from __future__ import annotations

import gc
import json
import statistics
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
from tortoise import connections

from bench.common import Timer
from server import backends
from server.settings import Settings
from tenants import crypto
from tenants.consent import importing, verification
from tenants.tenancy.models import Tenant

VERIFY = "{ verifyConsentLedger { ok checked walked complete } }"
STATE = "query($s: String!) { consentState(subjectId: $s) { purpose granted } }"


async def open_in_process(env: dict[str, str]) -> None:
    settings = Settings.from_env(env)
    crypto.configure(settings.secret_key, settings.encryption_keys)
    await backends.open_database(settings)
    gc.freeze()  # as `charter consent import` does before importing


async def close_in_process() -> None:
    await backends.close_database()


def generated(first: int, count: int, prefix: str) -> Iterator[tuple[int, dict]]:
    """Records as a file from another platform would hold them: two decisions each."""
    for index in range(first, first + count):
        yield (
            index + 1,
            {
                "subjectId": f"{prefix}-{index}",
                "decisions": [
                    {"purpose": "analytics.reporting", "granted": index % 2 == 0},
                    {"purpose": "marketing.communications.email", "granted": True},
                ],
                "method": "BANNER",
                "occurredAt": "2025-03-01T10:00:00+00:00",
                "clientEventId": f"{prefix}-{index}",
                "sourceUrl": "https://bench.example/page",
            },
        )


async def _nothing(totals: importing.Totals) -> None:
    if totals.problems:
        raise RuntimeError(f"import refused records: {totals.problems[:3]}")


async def import_rate(slug: str, first: int, count: int, prefix: str = "imported") -> float:
    """Events per second of the import path (parse, check, chain, write), as the CLI runs
    it, minus the file: the records are made as they are read."""
    tenant = await Tenant.get(slug=slug)
    with Timer() as timer:
        totals = await importing.import_records(
            tenant=tenant,
            actor="bench",
            source=generated(first, count, prefix),
            cache=None,
            done=_nothing,
        )
    assert totals.imported == count, totals
    return count / timer.seconds


async def full_verification_rate(slug: str) -> tuple[float, int]:
    """Events per second of a full walk from genesis, and how many events it walked."""
    tenant = await Tenant.get(slug=slug)
    head, _ = await verification._head(tenant)
    with Timer() as timer:
        outcome = await verification.walk_full(tenant=tenant, through=head, now=datetime.now(UTC))
    assert outcome.ok, outcome
    return head / timer.seconds, head


async def timed(
    http: httpx.AsyncClient, key: str, query: str, variables: dict
) -> tuple[float, dict]:
    started = time.perf_counter()
    response = await http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {key}"},
        timeout=60,
    )
    seconds = time.perf_counter() - started
    body = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise RuntimeError(f"{response.status_code}: {body}")
    return seconds, body["data"]


async def state_ms(http: httpx.AsyncClient, key: str, size: int, prefix: str) -> float:
    """Median consentState latency over 50 subjects spread across the ledger."""
    samples = []
    for step in range(50):
        subject = f"{prefix}-{(step * 7919) % size}"
        seconds, data = await timed(http, key, STATE, {"s": subject})
        assert data["consentState"], subject
        samples.append(seconds * 1000)
    return statistics.median(samples)


STATE_SQL = (
    "EXPLAIN (ANALYZE, FORMAT JSON) SELECT * FROM consent_state "
    "WHERE tenant_id = $1 AND subject_id = $2 ORDER BY purpose"
)


async def state_sql_ms(slug: str, size: int, prefix: str) -> tuple[float, str]:
    """consentState's read inside PostgreSQL: median execution time over 20 subjects, and
    the index the plan used (flat means an index scan whatever the size)."""
    tenant = await Tenant.get(slug=slug)
    client = connections.get("default")
    times, indexes = [], set()
    for step in range(20):
        subject = f"{prefix}-{(step * 7919) % size}"
        _, rows = await client.execute_query(STATE_SQL, [tenant.id, subject])
        plan = json.loads(rows[0]["QUERY PLAN"])[0]
        times.append(plan["Execution Time"])
        indexes.add(_index_of(plan["Plan"]))
    return statistics.median(times), ",".join(sorted(indexes))


def _index_of(node: dict) -> str:
    if "Index Name" in node:
        return f"{node['Node Type']} on {node['Index Name']}"
    for child in node.get("Plans", []):
        found = _index_of(child)
        if found != "no index":
            return found
    return "no index"


async def verify_s(http: httpx.AsyncClient, key: str) -> tuple[float, dict]:
    seconds, data = await timed(http, key, VERIFY, {})
    return seconds, data["verifyConsentLedger"]


async def growth(http: httpx.AsyncClient, key: str, slug: str, sizes: list[int]) -> list[tuple]:
    """For each size: grow the ledger to it by import, then consentState's median, the
    first verifyConsentLedger after a checkpoint and 500 new events, and a cold one with
    no checkpoint at all (bounded by its budget)."""
    rows, done = [], 0
    for size in sizes:
        await import_rate(slug, done, size - done, prefix="scale")
        done = size
        tenant = await Tenant.get(slug=slug)
        await verification.ConsentCheckpoint.filter(tenant_id=tenant.id).delete()
        cold, cold_found = await verify_s(http, key)
        # Bring the checkpoint to the head, as the verifications before would have.
        while not (await verify_s(http, key))[1]["complete"]:
            pass
        await import_rate(slug, done, 500, prefix="scale")
        done += 500
        warm, warm_found = await verify_s(http, key)
        assert warm_found["ok"] and warm_found["complete"], warm_found
        median = await state_ms(http, key, size, "scale")
        inside = await state_sql_ms(slug, size, "scale")
        rows.append((size, median, warm, cold, cold_found, inside))
    return rows
