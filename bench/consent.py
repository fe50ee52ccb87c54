"""The consent ledger at volume on PostgreSQL, every figure a ratio to a ceiling measured
in the same run.

    .venv/bin/python -m bench.consent [--batches 10] [--rounds 3] [--singles 300]
                                      [--sizes 10000,100000,1000000]
                                      [--generated 10000,10000000]

Ingest (issue 17): recordConsents of 500 over HTTP at >= 0.6 of the ledger's own raw
writes (COPY of the events plus the consent_state fold, one transaction, no checks, no
chain), `charter consent import`'s path at >= 0.8. The batch, the import, the raw COPY
and the raw ledger writes take turns, round after round, so a machine that slows down
mid-run slows them all; the median ratio is the figure. recordConsents is also measured
with two batches in flight (a client that sends the next batch before the answer to the
one before): not the target's shape, the figure a bulk client can reach.

The ledger at size (bench/ledger.py): a full verification at >= 50k events/s,
verifyConsentLedger under 1 s and consentState flat as the ledger grows to ``--sizes``;
``--generated`` measures consentState alone on ledgers made in SQL (bench/synthetic.py),
where growing by import would take hours.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import uuid
from datetime import UTC, datetime

import asyncpg
import httpx

from bench import ledger, synthetic
from bench.common import Timer
from bench.fixture import charter_server, create_tenant, graphql, stack
from tenants.consent import writes

BATCH_SIZE = 500
PUBLISH = """mutation($input: PolicyDraftInput!) { createPolicyDraft(input: $input) { policyVersion { id } } }"""
RECORD = "mutation($i: ConsentInput!) { recordConsent(input: $i) { receipt { id } userErrors { code } } }"
RECORD_MANY = (
    "mutation($i: [ConsentInput!]!) { recordConsents(inputs: $i) { recorded userErrors { code } } }"
)


def consent(index: int, prefix: str = "visitor") -> dict:
    """The bench's one consent input: two purposes, one granted every other subject."""
    return {
        "subjectId": f"{prefix}-{index}",
        "method": "BANNER",
        "decisions": [
            {"purpose": "analytics.reporting", "granted": index % 2 == 0},
            {"purpose": "marketing.communications.email", "granted": True},
        ],
        "sourceUrl": "https://bench.example/page",
    }


async def prepare(http: httpx.AsyncClient, key: str) -> None:
    draft = {
        "kind": "PRIVACY",
        "translations": [{"locale": "en", "title": "Privacy", "body": "Bench policy."}],
        "disclosures": {
            # Receipts name the controller in full (tenants/policies/controller.py).
            "controller": {
                "name": "Bench",
                "email": "p@bench.example",
                "address": "A",
                "phone": "1",
            },
            "purposes": [
                {"key": "analytics.reporting", "legalBasis": "CONSENT"},
                {"key": "marketing.communications.email", "legalBasis": "CONSENT"},
            ],
        },
    }
    made = (await graphql(http, PUBLISH, {"input": draft}, key))["createPolicyDraft"]
    publish = "mutation($id: ID!) { publishPolicyVersion(id: $id) { policyVersion { version } } }"
    await graphql(http, publish, {"id": made["policyVersion"]["id"]}, key)


async def singles(http: httpx.AsyncClient, key: str, count: int, concurrency: int = 8) -> float:
    headers = {"Authorization": f"Bearer {key}"}
    queue = iter(range(count))

    async def worker() -> None:
        for index in queue:
            response = await http.post(
                "/graphql",
                json={"query": RECORD, "variables": {"i": consent(index)}},
                headers=headers,
            )
            assert response.json()["data"]["recordConsent"]["userErrors"] == [], response.text

    with Timer() as timer:
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return count / timer.seconds


async def batches(
    http: httpx.AsyncClient, key: str, count: int, *, first: int = 0, in_flight: int = 1
) -> float:
    """Events per second for ``count`` batches, of subjects from ``first`` batches on,
    ``in_flight`` requests at a time (1: each sent when the one before was answered)."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    # Bodies are encoded before the clock starts, as raw_copy builds its rows first: what
    # is timed is the server's ingest, not this client's JSON encoder.
    bodies = [
        json.dumps(
            {
                "query": RECORD_MANY,
                "variables": {"i": [consent(b * BATCH_SIZE + i) for i in range(BATCH_SIZE)]},
            }
        ).encode()
        for b in range(first, first + count)
    ]
    queue = iter(bodies)

    async def sender() -> None:
        for body in queue:
            response = await http.post("/graphql", content=body, headers=headers, timeout=60)
            assert response.json()["data"]["recordConsents"]["recorded"] == BATCH_SIZE

    with Timer() as timer:
        await asyncio.gather(*(sender() for _ in range(in_flight)))
    return count * BATCH_SIZE / timer.seconds


COPY_COLUMNS = [
    "id", "tenant_id", "sequence", "subject_id", "policy_kind", "policy_version", "locale",
    "method", "decisions", "occurred_at", "recorded_at", "source_url", "commitment", "hash",
]  # fmt: skip


# What a bench event decides, as the decisions column holds it: two purposes.
DECISIONS = (
    '[{"granted":true,"purpose":"analytics.reporting"},'
    '{"granted":true,"purpose":"marketing.communications.email"}]'
)


def _event_row(tenant: uuid.UUID, index: int, now: datetime) -> tuple:
    return (
        uuid.uuid4(), tenant, index + 1, f"visitor-{index}", "PRIVACY", 1, "en", "BANNER",
        DECISIONS, now, now, "https://bench.example/page", "0" * 64, "f" * 64,
    )  # fmt: skip


async def raw_copy(database_url: str, count: int) -> float:
    """The floor nobody beats: COPY of rows shaped like ledger rows, no checks, no chain."""
    connection = await asyncpg.connect(database_url)
    await connection.execute(
        "CREATE TABLE IF NOT EXISTS bench_copy (LIKE consent_event INCLUDING ALL)"
    )
    tenant = uuid.uuid4()  # a fresh one each call: sequences start at 1 again
    now = datetime.now(UTC)
    batches = [
        [_event_row(tenant, b * BATCH_SIZE + i, now) for i in range(BATCH_SIZE)]
        for b in range(count)
    ]
    await connection.execute(
        "ALTER TABLE bench_copy DROP CONSTRAINT IF EXISTS bench_copy_tenant_id_fkey"
    )
    with Timer() as timer:
        for rows in batches:
            await connection.copy_records_to_table("bench_copy", records=rows, columns=COPY_COLUMNS)
    await connection.close()
    return count * BATCH_SIZE / timer.seconds


async def raw_ledger_writes(
    database_url: str, tenant: uuid.UUID, count: int, *, first: int = 0
) -> float:
    """The least the ledger itself must write, raw: per batch, one transaction with the
    COPY of 500 events into the real table and the statement that folds them into their
    1000 consent_state rows (two purposes each), as the service sends them. No checks, no
    chain, no GraphQL."""
    connection = await asyncpg.connect(database_url)
    now = datetime.now(UTC)
    batches = [
        [_event_row(tenant, b * BATCH_SIZE + i, now) for i in range(BATCH_SIZE)]
        for b in range(first, first + count)
    ]
    with Timer() as timer:
        for rows in batches:
            async with connection.transaction():
                await connection.copy_records_to_table(
                    "consent_event", records=rows, columns=COPY_COLUMNS
                )
                await connection.execute(writes.FOLD_SQL, tenant, rows[0][2], rows[-1][2])
    await connection.close()
    return count * BATCH_SIZE / timer.seconds


async def main(
    batch_count: int, rounds: int, single_count: int, sizes: list[int], generated: list[int]
) -> None:
    async with stack() as env:
        database_url = env["CHARTER_DATABASE_URL"]
        key = await create_tenant(env, "bench")
        importer = await create_tenant(env, "imports")
        scale = await create_tenant(env, "scale")
        await create_tenant(env, "raw")
        connection = await asyncpg.connect(database_url)
        raw_tenant = await connection.fetchval("SELECT id FROM tenant WHERE slug = 'raw'")
        await connection.close()
        made = {synthetic.slug_for(size): size for size in generated}
        made_keys = {slug: await create_tenant(env, slug) for slug in made}
        measured = []  # (COPY, raw ledger writes, recordConsents, import, 2 in flight) events/s
        async with (
            charter_server(env) as (base, _pid),
            httpx.AsyncClient(base_url=base, timeout=30) as http,
        ):
            for owner in (key, importer, scale, *made_keys.values()):
                await prepare(http, owner)
            await ledger.open_in_process(env)
            try:
                await singles(http, key, 20)  # warm-up
                single_rate = await singles(http, key, single_count)
                for round_ in range(rounds):
                    first = round_ * batch_count  # fresh subjects: every state row is new
                    batch_rate = await batches(http, key, batch_count, first=first)
                    paired_rate = await batches(
                        http, key, batch_count, first=first + rounds * batch_count, in_flight=2
                    )
                    import_rate = await ledger.import_rate(
                        "imports", first * BATCH_SIZE, batch_count * BATCH_SIZE
                    )
                    copy_rate = await raw_copy(database_url, batch_count)
                    floor_rate = await raw_ledger_writes(
                        database_url, raw_tenant, batch_count, first=first
                    )
                    measured.append((copy_rate, floor_rate, batch_rate, import_rate, paired_rate))
                verify_rate, walked = await ledger.full_verification_rate("imports")
                grown = await ledger.growth(http, scale, "scale", sizes)
                tenants = {slug: (made_keys[slug], size) for slug, size in made.items()}
                at_size = await synthetic.rows(database_url, http, tenants) if made else []
            finally:
                await ledger.close_in_process()
    report(measured, single_rate, verify_rate, walked, grown)
    if at_size:
        synthetic.report(at_size)


def report(measured, single_rate, verify_rate, walked, grown) -> None:
    def median(column: int) -> float:
        return statistics.median(m[column] for m in measured)

    def spread(column: int, base: int) -> str:
        ratios = [m[column] / m[base] for m in measured]
        return f"{statistics.median(ratios):.2f} (rounds {min(ratios):.2f}-{max(ratios):.2f})"

    print(f"raw asyncpg COPY            {median(0):8.0f} events/s   1.00 (baseline)")
    print(
        f"raw ledger writes           {median(1):8.0f} events/s   {spread(1, 0)} of COPY: "
        "events + consent_state, one transaction: the ceiling"
    )
    print(
        f"recordConsents x{BATCH_SIZE}        {median(2):8.0f} events/s   {spread(2, 1)} "
        "of the ceiling, target >= 0.60"
    )
    print(
        f"  the same, 2 in flight      {median(4):8.0f} events/s   {spread(4, 1)} "
        "of the ceiling (a client keeping a second batch in flight; not the target's shape)"
    )
    print(
        f"consent import (in-process) {median(3):8.0f} events/s   {spread(3, 1)} "
        "of the ceiling, target >= 0.80"
    )
    print(
        f"recordConsent (8 clients)   {single_rate:8.0f} events/s   "
        f"{single_rate / median(1):.3f} of the ceiling"
    )
    print(
        f"full verification           {verify_rate:8.0f} events/s   "
        f"({walked} events walked), target >= 50000"
    )
    for size, state_ms, warm, cold, cold_found, (sql_ms, index) in grown:
        print(
            f"at {size:>9} events: consentState {state_ms:6.2f} ms (median of 50; in "
            f"PostgreSQL {sql_ms:.3f} ms, {index}); "
            f"verifyConsentLedger {warm * 1000:5.0f} ms from a checkpoint 500 events back, "
            f"{cold * 1000:5.0f} ms with none (walked {cold_found['walked']}, "
            f"complete {cold_found['complete']}); target < 1 s"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=10, help="batches per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--singles", type=int, default=300)
    parser.add_argument("--sizes", default="10000,100000,1000000", help="ledger sizes to grow to")
    parser.add_argument(
        "--generated",
        default="",
        help="ledger sizes to generate in SQL for consentState alone (bench/synthetic.py), "
        "the first the baseline: 10000,10000000",
    )
    options = parser.parse_args()
    sizes = [int(size) for size in options.sizes.split(",") if size]
    generated = [int(size) for size in options.generated.split(",") if size]
    asyncio.run(main(options.batches, options.rounds, options.singles, sizes, generated))
