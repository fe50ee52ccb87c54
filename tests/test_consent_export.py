"""`charter consent export`: the whole ledger, as JSON lines or CSV, streamed."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import sys
from pathlib import Path

import pytest

from tests import backends as tb
from tests.factories import create_tenant
from tests.test_consent import grant, publish_policy

CHARTER = str(Path(sys.executable).with_name("charter"))
BATCH = "mutation($i: [ConsentInput!]!) { recordConsents(inputs: $i) { recorded } }"


async def export(settings, *args: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARTER_")}
    env.update(tb.environment(tb.BACKEND, str(settings.data_dir), settings.database_url))
    process = await asyncio.create_subprocess_exec(
        CHARTER,
        "consent",
        "export",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode, out.decode(), err.decode()


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
async def test_export_streams_every_event_in_chain_order(api, settings, fmt):
    _, owner = await create_tenant(api, slug="acme")
    await publish_policy(api, owner)
    inputs = [
        {"subjectId": f"s-{i}", "method": "IMPORT", "decisions": grant("analytics.reporting")}
        for i in range(2500)
    ]
    assert (await api(BATCH, {"i": inputs[:1000]}, token=owner))["data"]["recordConsents"][
        "recorded"
    ] == 1000
    assert (await api(BATCH, {"i": inputs[1000:2000]}, token=owner))["data"]["recordConsents"][
        "recorded"
    ] == 1000
    assert (await api(BATCH, {"i": inputs[2000:]}, token=owner))["data"]["recordConsents"][
        "recorded"
    ] == 500

    code, out, err = await export(settings, "--site", "acme", "--format", fmt)
    assert code == 0, err
    if fmt == "jsonl":
        rows = [json.loads(line) for line in out.splitlines()]
    else:
        rows = list(csv.DictReader(io.StringIO(out)))
    assert [int(r["sequence"]) for r in rows] == list(range(1, 2501))
    assert rows[0]["subject_id"] == "s-0"
    assert "2500/2500" in err  # the progress bar reached the end


async def test_export_since_a_future_date_is_empty(api, settings):
    await create_tenant(api, slug="acme")
    code, out, _ = await export(settings, "--site", "acme", "--since", "2999-01-01", "--quiet")
    assert code == 0 and out == ""
    code, _, err = await export(settings, "--site", "nobody", "--quiet")
    assert code == 1 and err.strip() == "charter: no tenant with slug or domain 'nobody'"
