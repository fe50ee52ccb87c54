"""`charter serve` in a process of its own, on the test's backend, for what only a real
server shows: two processes sharing Redis, WebSockets, faults, fuzzing, its logs."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from redis.asyncio import Redis

from tests import backends as tb
from tests.outbound import free_port

CHARTER = str(Path(sys.executable).with_name("charter"))
# A deadline, not a count of tries: on a loaded machine (two suites on two cores) each try
# takes longer and start-up takes seconds; a server that never comes up still fails.
STARTUP_SECONDS = 120.0
STOP_SECONDS = 15.0


async def stop(process: asyncio.subprocess.Process, seconds: float = STOP_SECONDS) -> None:
    """Stops a process a test started, for sure: SIGTERM, then SIGKILL past ``seconds``.
    A worker that outlives its test (one left by a failed assertion, or one ignoring
    SIGTERM while its Redis is gone) keeps taking jobs from the shared Redis database,
    and every later test's worker finds its outbox already claimed."""
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            await asyncio.wait_for(process.wait(), seconds)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
    await process.wait()


async def wait_until_serving(http: httpx.AsyncClient, process, seconds: float = STARTUP_SECONDS):
    """Until ``/healthz`` answers 200. Fails at once if ``process`` (an asyncio or psutil-
    like process with ``returncode``) exited, and after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        if process.returncode is not None:
            raise AssertionError(f"the server exited ({process.returncode}) before answering")
        with contextlib.suppress(httpx.TransportError):
            if (await http.get("/healthz")).status_code == 200:
                return
        if time.monotonic() > deadline:
            raise AssertionError(f"the server did not answer /healthz within {seconds:.0f} s")
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def serve(settings, **extra: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a fresh server (its port is ``http.base_url.port``); ``extra`` is added
    to its environment. Its output goes to ``serve-<port>.log`` in the data directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARTER_")}
    env.update(tb.environment(tb.BACKEND, str(settings.data_dir), settings.database_url))
    env.update(extra)
    if settings.redis_url:  # a fresh server: no bucket an earlier test or run drained
        redis = Redis.from_url(settings.redis_url)
        try:
            await redis.flushdb()
        finally:
            await redis.aclose()
    port = free_port()
    log = open(settings.data_dir / f"serve-{port}.log", "wb")  # noqa: SIM115, ASYNC230
    process = await asyncio.create_subprocess_exec(
        CHARTER, "serve", "--port", str(port), env=env, stdout=log, stderr=log
    )
    try:
        # 120 s: beside two suites and two CPU hogs, a hostile request of the loop-lag test
        # took over 30 s; only a hang should fail on time here.
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120) as http:
            http.server_pid = process.pid  # its main thread runs the loop (tests/lag.py)
            http.server_process = process  # to signal it as an operator would
            await wait_until_serving(http, process)
            yield http
    finally:
        await stop(process)
        log.close()
