"""The graphql-http audit (GraphQL over HTTP spec) against a real `charter serve`:
no error and no warning."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.servers import serve

AUDIT = Path(__file__).with_name("http_audit")


@pytest.fixture(scope="module")
def audit_tool() -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed for the graphql-http audit; install Node.js 18+")
    if not (AUDIT / "node_modules" / "graphql-http").exists():
        subprocess.run(
            ["npm", "ci", "--silent", "--no-audit", "--no-fund"], cwd=AUDIT, check=True, timeout=300
        )
    return AUDIT / "audit.mjs"


async def test_graphql_over_http_audit_is_clean(settings, audit_tool):
    async with serve(settings) as http:
        port = http.base_url.port
        process = await asyncio.create_subprocess_exec(
            "node",
            str(audit_tool),
            f"http://127.0.0.1:{port}/graphql",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), 120)
    results = [json.loads(line) for line in out.decode().splitlines() if line.strip()]
    failing = [r for r in results if r["status"] != "ok"]
    assert len(results) > 50, err.decode()
    assert failing == [], failing
    assert process.returncode == 0
