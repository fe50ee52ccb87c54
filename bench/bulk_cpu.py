"""CPU time per event of the two bulk paths of the ledger, code trees taking turns: the
A/B that survives a shared machine, where events/s does not.

    .venv/bin/python -m bench.bulk_cpu TREE [TREE ...] [--rounds 3] [--batches 4]
        [--records 10000] [--profile DIR]

Each TREE is a directory holding a copy of the code (``git archive REV | tar -x -C DIR``,
or the worktree itself). One scratch PostgreSQL database and Redis database serve every
tree; round after round, each tree in turn (the order reversed every other round) runs
in a process of its own, importing its code from TREE:

- ``recordConsents`` of 500 (``bench.consent``'s events: two decisions, a source URL),
  posted ``--batches`` times to the app in-process (httpx's ASGI transport, the request
  body encoded beforehand), after one batch of warm-up;
- ``charter consent import``'s path (``importing.import_records``, ``gc.freeze()``
  first as the CLI does) of ``--records`` generated records, after 1,000 of warm-up.

Figures are per event: ``time.process_time()`` of that process around the work, and
PostgreSQL's, the utime + stime (``/proc/PID/stat``) of the database's backends
(``pg_stat_activity``) around it. Medians of the rounds are printed per tree. With
``--profile DIR`` each tree's first round also writes cProfile stats of one batch and
of one import to DIR.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

from bench.consent import consent

TICKS = os.sysconf("SC_CLK_TCK")
BATCH = 500
RECORD_MANY = (
    "mutation($i: [ConsentInput!]!) { recordConsents(inputs: $i) { recorded userErrors { code } } }"
)


def _record(index: int, prefix: str) -> tuple[int, dict]:
    return index + 1, {
        **consent(index, prefix),
        "occurredAt": "2025-03-01T10:00:00+00:00",
        "clientEventId": f"{prefix}-{index}",
    }


def _proc_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


class _Backends:
    """CPU seconds of every PostgreSQL backend on the database, so far."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def __call__(self) -> dict[int, float]:
        import asyncpg

        connection = await asyncpg.connect(self.url)
        try:
            pids = await connection.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            )
        finally:
            await connection.close()
        return {row["pid"]: _proc_cpu(row["pid"]) for row in pids}


def _spent(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(after[pid] - before.get(pid, 0.0) for pid in after)


async def _child(options: argparse.Namespace) -> dict:
    import cProfile
    import gc
    import time

    import httpx

    from server import backends
    from server.app import app_from_env
    from server.settings import Settings
    from tenants import crypto
    from tenants.consent import importing
    from tenants.tenancy.models import Tenant

    settings = Settings.from_env(os.environ)
    backend_cpu = _Backends(os.environ["CHARTER_DATABASE_URL"])
    prefix = f"r{options.round}-{Path(options.tree).name}"
    result = {"tree": options.tree, "where": backends.__file__}
    app = app_from_env()  # as `charter serve` builds it: gc.freeze() included
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=120
        ) as http,
    ):
        headers = {"Authorization": f"Bearer {options.key}", "Content-Type": "application/json"}

        async def post(first: int) -> None:
            body = json.dumps(
                {
                    "query": RECORD_MANY,
                    "variables": {"i": [consent(first + n, prefix) for n in range(BATCH)]},
                }
            ).encode()
            backends_before = await backend_cpu()  # its own connection: not counted
            started = time.process_time()
            response = await http.post("/graphql", content=body, headers=headers)
            spent = (time.process_time() - started, _spent(backends_before, await backend_cpu()))
            data = response.json()
            assert data["data"]["recordConsents"]["recorded"] == BATCH, data
            return spent

        await post(0)  # warm-up
        if options.profile:
            profile = cProfile.Profile()
            profile.enable()
            await post(BATCH)
            profile.disable()
            profile.dump_stats(f"{options.profile}/record-{Path(options.tree).name}.prof")
        spent = [await post((2 + n) * BATCH) for n in range(options.batches)]
        result["record_process_us"] = sum(s[0] for s in spent) / (len(spent) * BATCH) * 1e6
        result["record_pg_us"] = sum(s[1] for s in spent) / (len(spent) * BATCH) * 1e6

    crypto.configure(settings.secret_key, settings.encryption_keys)
    await backends.open_database(settings)
    gc.freeze()
    try:
        tenant = await Tenant.get(slug="imports")

        async def nothing(totals) -> None:
            if totals.problems:
                raise RuntimeError(f"import refused records: {totals.problems[:3]}")

        async def run(first: int, count: int) -> tuple[float, float]:
            backends_before = await backend_cpu()
            started = time.process_time()
            totals = await importing.import_records(
                tenant=tenant,
                actor="bench",
                source=(_record(first + n, prefix) for n in range(count)),
                cache=None,
                done=nothing,
            )
            assert totals.imported == count, totals
            return time.process_time() - started, _spent(backends_before, await backend_cpu())

        await run(0, 1000)
        if options.profile:
            profile = cProfile.Profile()
            profile.enable()
            await run(1000, options.records)
            profile.disable()
            profile.dump_stats(f"{options.profile}/import-{Path(options.tree).name}.prof")
        process, pg = await run(1000 + options.records, options.records)
        result["import_process_us"] = process / options.records * 1e6
        result["import_pg_us"] = pg / options.records * 1e6
    finally:
        await backends.close_database()
    return result


async def _prepare(env: dict[str, str]) -> str:
    from bench.consent import prepare
    from bench.fixture import charter_server, create_tenant

    key = await create_tenant(env, "bulk")
    imports = await create_tenant(env, "imports")
    import httpx

    async with (
        charter_server(env) as (base, _pid),
        httpx.AsyncClient(base_url=base, timeout=30) as http,
    ):
        await prepare(http, key)
        await prepare(http, imports)
    return key


async def _main(options: argparse.Namespace) -> None:
    from bench.fixture import stack

    figures: dict[str, list[dict]] = {tree: [] for tree in options.trees}
    async with stack() as env:
        key = await _prepare(env)
        for number in range(options.rounds):
            for tree in options.trees if number % 2 == 0 else options.trees[::-1]:
                argv = [
                    sys.executable, __file__, "--child", "--tree", tree, "--key", key,
                    "--round", str(number), "--batches", str(options.batches),
                    "--records", str(options.records),
                ]  # fmt: skip
                if options.profile and number == 0:
                    argv += ["--profile", options.profile]
                child = await asyncio.create_subprocess_exec(
                    *argv,
                    env={**env, "PYTHONPATH": tree},
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                )
                out, err = await child.communicate()
                if child.returncode:
                    raise RuntimeError(err.decode()[-4000:])
                figure = json.loads(out.decode().strip().splitlines()[-1])
                print(json.dumps(figure), flush=True)
                figures[tree].append(figure)
    names = ("record_process_us", "record_pg_us", "import_process_us", "import_pg_us")
    print(f"{'tree':40} " + " ".join(f"{n:>18}" for n in names))
    for tree, rows in figures.items():
        medians = [statistics.median(row[n] for row in rows) for n in names]
        print(f"{tree:40} " + " ".join(f"{m:18.1f}" for m in medians))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs="*")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batches", type=int, default=4)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--profile")
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--tree")
    parser.add_argument("--key")
    parser.add_argument("--round", type=int, default=0)
    options = parser.parse_args()
    if options.child:
        sys.path.insert(0, options.tree)
        print(json.dumps(asyncio.run(_child(options))))
        return
    options.trees = [str(Path(tree).resolve()) for tree in options.trees]
    if options.profile:
        os.makedirs(options.profile, exist_ok=True)
    with tempfile.TemporaryDirectory():
        asyncio.run(_main(options))


if __name__ == "__main__":
    main()
