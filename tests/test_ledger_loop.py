"""Verifying a long ledger never holds a real server's event loop: verifyConsentLedger
hashes a thousand links between two database turns, and stops after its budget."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from tests.conftest import Api
from tests.factories import create_tenant
from tests.lag import probing, queued
from tests.servers import serve
from tests.test_consent import grant, publish_policy

LAG_LIMIT = 0.100  # seconds: the bound for any request holding the loop
BATCH = "mutation($i: [ConsentInput!]!) { recordConsents(inputs: $i) { recorded } }"
VERIFY = "{ verifyConsentLedger { ok checked walked complete } }"


@pytest.fixture
async def server(app, settings):  # app: its clean_state empties the tables first
    async with serve(settings) as http:
        yield http


async def test_verifying_20k_events_keeps_the_loop_free_and_answers_in_a_second(server):
    http, api = server, Api(server)
    _, owner = await create_tenant(api, slug="acme")
    await publish_policy(api, owner)
    for batch in range(20):
        inputs = [
            {
                "subjectId": f"s-{batch}-{i}",
                "method": "IMPORT",
                "decisions": grant("analytics.reporting"),
            }
            for i in range(1000)
        ]
        assert (await api(BATCH, {"i": inputs}, token=owner))["data"]["recordConsents"][
            "recorded"
        ] == 1000
    headers = {"Authorization": f"Bearer {owner}", "Content-Type": "application/json"}
    body = json.dumps({"query": VERIFY}).encode()
    with probing(str(http.base_url), http.server_pid) as probe:
        await asyncio.sleep(1.0)  # what the machine adds by itself is allowed on top
        noise = probe.worst
        checked, calls, slowest, slowest_wall = 0, 0, 0.0, 0.0
        while True:
            started, waited = time.perf_counter(), queued(http.server_pid)
            response = await http.post("/graphql", content=body, headers=headers)
            wall = time.perf_counter() - started
            slowest = max(slowest, wall - (queued(http.server_pid) - waited))
            slowest_wall = max(slowest_wall, wall)
            found = response.json()["data"]["verifyConsentLedger"]
            assert found["ok"], found
            checked, calls = found["checked"], calls + 1
            if found["complete"]:
                break
    print(f"verify: {calls} calls, slowest {slowest:.2f} s less waits ({slowest_wall:.2f} s)")
    assert checked == 20_000
    # Wall time less the scheduler's waits (the server's loop thread, this thread), as the
    # probe counts a stall: under two CPU hogs a call took 1.64 s of wall time, mostly
    # waiting for a CPU (0.23 s without). A call ignoring its 0.8 s budget
    # (tenants.consent.verification) walks all 20,000: about 2 s even so.
    assert slowest < 1.5, f"a verifyConsentLedger call took {slowest:.2f} s ({calls} calls)"
    assert probe.worst < LAG_LIMIT + noise, probe.summary()
