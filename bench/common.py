"""Shared by the benchmarks: a real `charter serve` on PostgreSQL + Redis, timed in-run.

Every figure is printed next to a baseline measured in the same run on the same machine;
absolute numbers on a noisy 2-core box mean little, ratios mean more.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg

PG_URL = os.environ.get("CHARTER_BENCH_DATABASE_URL", "postgres://root@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("CHARTER_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
CHARTER = str(Path(sys.executable).with_name("charter"))
SECRET_KEY = "b" * 48


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.asynccontextmanager
async def scratch_database() -> AsyncIterator[str]:
    name = f"charter_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(PG_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


# The limiter stays on (every request pays into its buckets) but never refuses.
UNLIMITED = {
    "CHARTER_PUBLIC_RATE": "1000000:2000000",
    "CHARTER_KEY_RATE": "1000000:2000000",
    "CHARTER_TENANT_RATE": "1000000:2000000",
}


# The tree this bench was started from: the servers it spawns run its code too. The
# `charter` script alone would import the editable install's tree, and a bench run from
# another checkout (bench.bulk_cpu's trees, a worktree) would measure the wrong code.
ROOT = str(Path(__file__).resolve().parents[1])


def environment(database_url: str, data_dir: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARTER_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [ROOT, env.get("PYTHONPATH")]))
    env.update(
        CHARTER_DATABASE_URL=database_url,
        CHARTER_REDIS_URL=REDIS_URL,
        CHARTER_SECRET_KEY=SECRET_KEY,
        CHARTER_DATA_DIR=data_dir,
        CHARTER_LOG_LEVEL="WARNING",
        **UNLIMITED,
    )
    return env


async def run(*args: str, env: dict[str, str]) -> str:
    process = await asyncio.create_subprocess_exec(
        CHARTER, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    if process.returncode:
        raise RuntimeError(err.decode())
    return out.decode().strip()


class Timer:
    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start
