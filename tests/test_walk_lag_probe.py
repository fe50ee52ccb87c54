"""The loop-lag probe (tests/lag.py) can fail: a server whose loop computes or blocks for
150 ms shows a stall of about that, while CPU hogs competing for the machine's cores do
not make an idle loop look held. Without this, tests/test_loop_lag.py could pass by
measuring nothing."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import sys
import time

import httpx
import pytest

from tests.lag import probing
from tests.outbound import free_port
from tests.servers import wait_until_serving

HOLD = 0.150  # seconds the toy server holds its loop
APP = """
import time
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

# Async, as Charter's is. A plain def runs in a worker thread, whose waits for a CPU the
# probe does not take out (it watches the loop's thread): on a loaded machine they showed
# as a 167 ms "stall" of an idle loop.
async def healthz(request):
    return PlainTextResponse("ok")

async def compute(request):
    end = time.thread_time() + {hold}
    while time.thread_time() < end:  # CPU time: a hog cannot shorten what it computes
        pass
    return PlainTextResponse("computed")

async def block(request):
    time.sleep({hold})  # blocks the loop without computing
    return PlainTextResponse("blocked")

app = Starlette(routes=[Route("/healthz", healthz), Route("/compute", compute),
                        Route("/block", block)])
"""


@contextlib.asynccontextmanager
async def toy_server(tmp_path):
    (tmp_path / "toy.py").write_text(APP.format(hold=HOLD))
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "uvicorn", "toy:app", "--port", str(port), "--log-level", "error",
        cwd=tmp_path,
    )  # fmt: skip
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            await wait_until_serving(http, process)
            yield http, process.pid
    finally:
        process.terminate()
        await process.wait()


def _hog(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


@pytest.mark.parametrize("how", ["compute", "block"])
async def test_a_held_loop_is_seen(tmp_path, how):
    async with toy_server(tmp_path) as (http, pid):
        with probing(str(http.base_url), pid) as probe:
            assert probe.attributed
            await asyncio.sleep(0.3)
            for _ in range(3):
                assert (await http.get(f"/{how}")).status_code == 200
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.2)
    print(f"{how}: {probe.summary()}")
    assert probe.worst >= HOLD * 0.6, probe.summary()


async def test_a_busy_machine_is_not_a_held_loop(tmp_path):
    context = multiprocessing.get_context("spawn")
    async with toy_server(tmp_path) as (http, pid):
        with probing(str(http.base_url), pid) as probe:
            hogs = [context.Process(target=_hog, args=(3.0,)) for _ in range(4)]
            for hog in hogs:  # four busy processes on a machine of two cores
                hog.start()
            await asyncio.sleep(3.0)
            for hog in hogs:
                hog.join()
    print(f"hogs: {probe.summary()}")
    # Whatever the hogs did to wall times, the loop itself was never held.
    assert probe.worst < HOLD * 0.6, probe.summary()
