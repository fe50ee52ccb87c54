"""CPU time of the server process per request, code trees taking turns: the A/B that
survives a shared machine, where req/s does not.

    .venv/bin/python -m bench.cpu TREE [TREE ...] [--rounds 5] [--duration 4]
        [--connections 8] [--targets NAME ...] [--json FILE]

Each TREE is a directory holding a copy of the code (``git archive REV | tar -x -C DIR``,
or the worktree itself); each gets its own `charter serve` (one worker, so the process
that serves is the one measured) on one shared stack: the scratch database, tenant, keys
and published policy of ``bench.edge``, whose targets (``--targets``, by row name) these
are. Round after round, each tree in turn (the order reversed every other round) takes a
1 s warm-up and a ``--duration`` wrk run per target; utime + stime of its process, read
from ``/proc/PID/stat`` around the run, divided by the requests wrk counted, is the
figure. Medians of the rounds are printed per tree and target.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
from pathlib import Path

import httpx

from bench import edge
from bench.common import free_port
from bench.fixture import create_tenant, publish_policy, publishable_key, spawned, stack
from bench.loadgen import drive

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (the fields after its name, which may hold spaces)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def tree_server(tree: str, env: dict[str, str]) -> contextlib.AbstractAsyncContextManager:
    """`charter serve` with one worker, its code imported from ``tree``."""
    port = free_port()
    code = (
        f"import sys; sys.path.insert(0, {tree!r}); from server.cli import main; "
        f"sys.argv = ['charter', 'serve', '--port', '{port}', '--workers', '1']; main()"
    )
    argv = [sys.executable, "-c", code]
    return spawned(argv, {**env, "PYTHONPATH": tree}, port, "/healthz")


async def main(options: argparse.Namespace, trees: list[str]) -> dict:
    async with stack() as env:
        secret = await create_tenant(env, edge.SITE)
        publishable = await publishable_key(env, edge.SITE)
        async with contextlib.AsyncExitStack() as servers:
            running = {}
            for tree in trees:
                running[tree] = await servers.enter_async_context(tree_server(tree, env))
            async with httpx.AsyncClient(base_url=running[trees[0]][0], timeout=30) as http:
                await publish_policy(http, secret, edge.policy_markdown(edge.POLICY_BYTES))
            for base, _ in running.values():
                async with httpx.AsyncClient(base_url=base, timeout=30) as http:
                    await edge.prepare(http, secret, publishable)
            figures = {(tree, name): [] for tree in trees for name in options.targets}
            for number in range(options.rounds):
                for tree in trees if number % 2 == 0 else trees[::-1]:
                    base, pid = running[tree]
                    targets = {t.name: t for t in edge.charter_targets(base, secret, publishable)}
                    for name in options.targets:
                        target = targets[name]
                        await drive(target, 1, options.connections, 1, f"w{number}")
                        before = cpu_seconds(pid)
                        result = await drive(
                            target, options.duration, options.connections, 1, f"m{number}"
                        )
                        per_request = (cpu_seconds(pid) - before) / result.requests * 1e6
                        figures[(tree, name)].append(per_request)
                        failed = f", {result.failures} FAILED" if result.failures else ""
                        print(
                            f"round {number} {tree} {name}: {per_request:.0f} µs/request "
                            f"({result.requests} requests{failed})",
                            flush=True,
                        )
    for (tree, name), values in figures.items():
        rounds = ", ".join(f"{v:.0f}" for v in values)
        print(f"{tree} {name}: median {statistics.median(values):.0f} µs/request ({rounds})")
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("trees", nargs="+", help="directories holding the code to compare")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=4, help="seconds per target and turn")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--targets", nargs="+", default=[edge.VIEWER_ROW, edge.STATE_ROW])
    parser.add_argument("--json", help="also write the figures to this file")
    options = parser.parse_args()
    figures = asyncio.run(main(options, [str(Path(t).resolve()) for t in options.trees]))
    if options.json:
        rows = [{"tree": t, "target": n, "us_per_request": v} for (t, n), v in figures.items()]
        Path(options.json).write_text(json.dumps(rows, indent=2))
