"""consentState on a ledger of ten million events, generated inside PostgreSQL.

Growing a ledger to 10M events by import runs at a few thousand events a second on the
development machine: hours. consentState never reads the chain: it is one read of
``consent_state`` through its ``(tenant, subject, purpose)`` unique index, joined to the
subject's flags (``tenants/consent/lookup.py``). So the rows can be made by
``generate_series`` straight into the real ``consent_event`` and ``consent_state``
tables of a tenant of their own, with every index the service keeps, shaped as the
service writes them (two purposes per event, one state row per subject and purpose).
Their hashes are placeholders: the chain of that tenant does not verify, and nothing
here asks it to. A small tenant made the same way in the same run is the baseline.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import uuid

import asyncpg
import httpx

from bench.ledger import STATE, STATE_SQL, _index_of

STEP = 500_000  # events per statement: progress, and no transaction of ten million rows
DECISIONS = (
    '[{"granted":true,"purpose":"analytics.reporting"},'
    '{"granted":true,"purpose":"marketing.communications.email"}]'
)
# Ids and subjects ascend with n (ids: the tenant's 8 hex digits, then n; subjects
# zero-padded), so every index grows at its right edge, as a live ledger's sequence and
# time-ordered keys do; random keys made generation several times slower.
_ID = "({0} || '-0000-4000-8000-' || lpad(to_hex({1}), 12, '0'))::uuid"
_SUBJECT = "$2 || lpad(n::text, 9, '0')"
EVENTS_SQL = f"""
INSERT INTO consent_event (
    id, tenant_id, sequence, subject_id, policy_kind, policy_version, locale, method,
    decisions, occurred_at, recorded_at, commitment, hash, client_event_id
)
SELECT {_ID.format("$5", "n")}, $1, n, {_SUBJECT}, 'PRIVACY', 1, 'en', 'BANNER',
    '{DECISIONS}', now(), now(), repeat('0', 64), repeat('f', 64), {_SUBJECT}
FROM generate_series($3::bigint, $4::bigint) AS n
"""
STATES_SQL = f"""
INSERT INTO consent_state (
    id, tenant_id, subject_id, purpose, granted, method, policy_kind, policy_version,
    decided_at, event_id
)
SELECT {_ID.format("$5", "n * 2 + k")}, $1, {_SUBJECT}, p, true, 'BANNER', 'PRIVACY', 1,
    now(), {_ID.format("$5", "n")}
FROM generate_series($3::bigint, $4::bigint) AS n,
    unnest(ARRAY['analytics.reporting', 'marketing.communications.email'])
        WITH ORDINALITY AS purposes(p, k)
"""
HEAD_SQL = """
INSERT INTO consent_chain_head (tenant_id, sequence, hash, announced)
VALUES ($1, $2, repeat('f', 64), $2)
ON CONFLICT (tenant_id) DO UPDATE SET sequence = EXCLUDED.sequence
"""


async def generate(database_url: str, slug: str, size: int) -> float:
    """``size`` events (and their state rows) for the tenant ``slug``; seconds taken. The
    two tables fill side by side, on two connections: two cores."""
    connection = await asyncpg.connect(database_url)
    started = time.perf_counter()
    try:
        tenant = await connection.fetchval("SELECT id FROM tenant WHERE slug = $1", slug)
        await asyncio.gather(
            *(_fill(database_url, sql, tenant, slug, size) for sql in (EVENTS_SQL, STATES_SQL))
        )
        await connection.execute(HEAD_SQL, tenant, size)
        await connection.execute("ANALYZE consent_event")
        await connection.execute("ANALYZE consent_state")
    finally:
        await connection.close()
    return time.perf_counter() - started


async def _fill(database_url: str, sql: str, tenant: uuid.UUID, slug: str, size: int) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        for first in range(1, size + 1, STEP):
            last = min(first + STEP - 1, size)
            await connection.execute(sql, tenant, f"{slug}-", first, last, tenant.hex[:8])
    finally:
        await connection.close()


def subject_of(slug: str, n: int) -> str:
    return f"{slug}-{n:09d}"


async def state_ms(http: httpx.AsyncClient, key: str, slug: str, size: int) -> float:
    """Median consentState latency over HTTP, 50 subjects spread over the ledger."""
    headers = {"Authorization": f"Bearer {key}"}
    samples = []
    for step in range(50):
        subject = subject_of(slug, (step * 7919) % size + 1)
        body = {"query": STATE, "variables": {"s": subject}}
        started = time.perf_counter()
        response = await http.post("/graphql", json=body, headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
        assert len(response.json()["data"]["consentState"]) == 2, response.text
    return statistics.median(samples)


async def sql_ms(database_url: str, slug: str, size: int) -> tuple[float, str]:
    """The read inside PostgreSQL: median execution time over 20 subjects, and its index."""
    connection = await asyncpg.connect(database_url)
    try:
        tenant = await connection.fetchval("SELECT id FROM tenant WHERE slug = $1", slug)
        times, indexes = [], set()
        for step in range(20):
            subject = subject_of(slug, (step * 7919) % size + 1)
            plan = json.loads(await connection.fetchval(STATE_SQL, tenant, subject))[0]
            times.append(plan["Execution Time"])
            indexes.add(_index_of(plan["Plan"]))
    finally:
        await connection.close()
    return statistics.median(times), ",".join(sorted(indexes))


async def rows(
    database_url: str, http: httpx.AsyncClient, tenants: dict[str, tuple[str, int]]
) -> list[tuple[str, int, float, float, float, str]]:
    """For each tenant slug -> (key, size): generate, then measure the small and the large
    alternately, five rounds, so a machine that slows down slows both."""
    made = {slug: await generate(database_url, slug, size) for slug, (_, size) in tenants.items()}
    await asyncio.sleep(1)
    samples: dict[str, list[float]] = {slug: [] for slug in tenants}
    for _ in range(5):
        for slug, (key, size) in tenants.items():
            samples[slug].append(await state_ms(http, key, slug, size))
    found = []
    for slug, (_, size) in tenants.items():
        inside, index = await sql_ms(database_url, slug, size)
        found.append((slug, size, made[slug], statistics.median(samples[slug]), inside, index))
    return found


def report(found: list[tuple[str, int, float, float, float, str]]) -> None:
    base_http, base_sql = found[0][3], found[0][4]
    for _slug, size, made, http_ms, inside, index in found:
        print(
            f"consentState at {size:>9} generated events ({made:5.0f} s to generate): "
            f"{http_ms:6.2f} ms over HTTP ({http_ms / base_http:.2f} of {found[0][1]}), "
            f"{inside:.3f} ms in PostgreSQL ({inside / base_sql:.2f}), {index}"
        )


def slug_for(size: int) -> str:
    return f"generated-{size}"
