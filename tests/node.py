"""Real JavaScript clients and a real browser, run by node from ``tests/js``.

Each script prints JSON lines; ``run`` returns them decoded. The packages are pinned in
``tests/js/package-lock.json`` and installed on first use (``.ci/run`` installs them, and
Chromium, beforehand). Without node, or without Chromium for browser scripts, the tests
skip with the reason, except where CHARTER_TEST_REQUIRE_CLIENTS=1 (CI), where that is a
failure.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

JS = Path(__file__).with_name("js")
CHROMIUM = os.environ.get("CHARTER_CHROMIUM", "/usr/bin/chromium")
REQUIRED = os.environ.get("CHARTER_TEST_REQUIRE_CLIENTS") == "1"


def _missing(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"CHARTER_TEST_REQUIRE_CLIENTS=1 but {reason}")
    pytest.skip(reason)


def installed(*, browser: bool = False) -> Path:
    """The scripts' folder with its packages installed; skips (or fails in CI) when node,
    npm or, for ``browser``, Chromium is missing."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        _missing("node and npm are needed for the client tests; install Node.js 18+")
    if browser and not Path(CHROMIUM).exists():
        _missing(f"Chromium is needed at {CHROMIUM} (apt-get install -y chromium)")
    stamp = JS / "node_modules" / ".package-lock.json"
    lock = JS / "package-lock.json"
    if not stamp.exists() or stamp.stat().st_mtime < lock.stat().st_mtime:
        subprocess.run(
            ["npm", "ci", "--silent", "--no-audit", "--no-fund"], cwd=JS, check=True, timeout=600
        )
    return JS


async def run(script: str, *args: str, seconds: float = 120, env: dict | None = None) -> list:
    """Runs ``tests/js/<script>`` with ``args``; returns its JSON lines. Fails the test
    with the script's stderr when it exits non-zero."""
    process = await asyncio.create_subprocess_exec(
        "node",
        str(JS / script),
        *args,
        cwd=JS,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), seconds)
    except TimeoutError:
        process.kill()
        await process.wait()
        pytest.fail(f"{script} took longer than {seconds} s")
    if process.returncode != 0:
        pytest.fail(f"{script} exited {process.returncode}:\n{err.decode()[-4000:]}")
    return [json.loads(line) for line in out.decode().splitlines() if line.startswith(("{", "["))]
