"""CPU per event of a full ledger verification, code trees taking turns: the A/B of
``verification.walk_full`` that survives a shared machine, where events/s does not.

    .venv/bin/python -m bench.walk_cpu TREE [TREE ...] [--events 200000] [--rounds 3]
        [--walks 2] [--worker-heap]

One scratch database holds one ledger of ``--events`` events with real hashes and
commitments, made by the import path (`charter consent import`'s, this tree's code). Round
after round each TREE (a copy of the code: ``git archive REV | tar -x -C DIR``, or the
worktree), in a process of its own, the order reversed every other round, walks it from
genesis ``--walks`` times. Per walk: the process's CPU (``time.process_time``), its
PostgreSQL backends' CPU (``/proc``) and the wall clock, each per event; medians per tree.
Walks run in a process whose start-up heap is frozen, as `charter serve` and the worker
freeze theirs; ``--worker-heap`` loads the worker's modules and leaves them unfrozen.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
from pathlib import Path

import asyncpg
import httpx

from bench.common import environment, run, scratch_database
from bench.consent import prepare
from bench.fixture import charter_server

SLUG = "walk"

# Run in each tree's own process: what it prints last is one JSON list of walks.
CHILD = """
import asyncio, gc, json, os, sys, time
sys.path.insert(0, {tree!r})
if {worker_heap!r}:
    gc.freeze = lambda: None
    import server.worker  # noqa: F401  (the worker's modules, unfrozen)
from datetime import UTC, datetime
import asyncpg
from bench import ledger
from bench.cpu import cpu_seconds
from tenants.consent import verification
from tenants.tenancy.models import Tenant
assert verification.__file__.startswith({tree!r}), verification.__file__

async def backends(admin, database):
    rows = await admin.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1", database)
    return {{row[0]: cpu_seconds(row[0]) for row in rows}}

async def main():
    env = json.loads(os.environ["WALK_ENV"])
    database = env["CHARTER_DATABASE_URL"].rsplit("/", 1)[1]
    await ledger.open_in_process(env)
    admin = await asyncpg.connect(env["CHARTER_DATABASE_URL"])
    walks = []
    try:
        tenant = await Tenant.get(slug={slug!r})
        head, _ = await verification._head(tenant)
        for _ in range({walks}):
            before = await backends(admin, database)
            cpu, wall = time.process_time(), time.perf_counter()
            outcome = await verification.walk_full(tenant=tenant, through=head, now=datetime.now(UTC))
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            after = await backends(admin, database)
            assert outcome.ok, outcome
            pg = sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())
            walks.append({{"cpu": cpu / head * 1e6, "pg": pg / head * 1e6, "wall": wall / head * 1e6}})
    finally:
        await admin.close()
        await ledger.close_in_process()
    print(json.dumps(walks))

asyncio.run(main())
"""


async def make_ledger(env: dict[str, str], events: int) -> None:
    """A tenant with a published policy and ``events`` imported events."""
    from bench import ledger

    key = await run(
        "tenant", "create", "--slug", SLUG, "--name", "Walk", "--locale", "en",
        "--jurisdiction", "EU", env=env,
    )  # fmt: skip
    async with (
        charter_server(env) as (base, _pid),
        httpx.AsyncClient(base_url=base, timeout=30) as http,
    ):
        await prepare(http, key)
    await ledger.open_in_process(env)
    try:
        for first in range(0, events, 50_000):
            await ledger.import_rate(SLUG, first, min(50_000, events - first))
    finally:
        await ledger.close_in_process()
    connection = await asyncpg.connect(env["CHARTER_DATABASE_URL"])
    try:
        await connection.execute("VACUUM ANALYZE consent_event")
    finally:
        await connection.close()


async def walk_in(tree: str, env: dict[str, str], walks: int, worker_heap: bool) -> list[dict]:
    code = CHILD.format(tree=tree, slug=SLUG, walks=walks, worker_heap=worker_heap)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code,
        env={**env, "PYTHONPATH": tree, "WALK_ENV": json.dumps(env)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    if process.returncode:
        raise RuntimeError(f"{tree}: {err.decode()[-2000:]}")
    return json.loads(out.decode().strip().splitlines()[-1])


async def main(options: argparse.Namespace, trees: list[str]) -> None:
    async with scratch_database() as database_url:
        with tempfile.TemporaryDirectory() as data_dir:
            env = environment(database_url, data_dir)
            await run("migrate", env=env)
            await make_ledger(env, options.events)
            print(f"ledger of {options.events} imported events", flush=True)
            figures: dict[str, list[dict]] = {tree: [] for tree in trees}
            for number in range(options.rounds):
                for tree in trees if number % 2 == 0 else trees[::-1]:
                    walks = await walk_in(tree, env, options.walks, options.worker_heap)
                    figures[tree] += walks
                    for walk in walks:
                        print(f"round {number} {tree}: " + _spelled(walk), flush=True)
    for tree, walks in figures.items():
        medians = {name: statistics.median(w[name] for w in walks) for name in walks[0]}
        print(f"{tree}: median " + _spelled(medians))


def _spelled(figures: dict) -> str:
    return (
        f"process {figures['cpu']:.2f} µs/event, PostgreSQL {figures['pg']:.2f} µs/event, "
        f"wall {figures['wall']:.2f} µs/event ({1e6 / figures['wall']:,.0f} events/s)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("trees", nargs="+", help="directories holding the code to compare")
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--walks", type=int, default=2, help="walks per tree and turn")
    parser.add_argument(
        "--worker-heap", action="store_true", help="walk beside the worker's unfrozen modules"
    )
    options = parser.parse_args()
    asyncio.run(main(options, [str(Path(t).resolve()) for t in options.trees]))
