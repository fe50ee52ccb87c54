"""An anonymous operation reading several sites charges every one of them: each site's
(site, client IP) bucket pays its share, on HTTP GET and POST and over the socket, so
naming a fresh site first no longer reads another site's policy for free."""

from __future__ import annotations

import dataclasses
import json

import pytest

from server.settings import Rate
from tests.factories import create_draft, create_tenant, publish
from tests.servers import serve
from tests.test_gate_websocket import Socket

BOTH = (
    '{ b: publishedPolicy(site: "beta") { version } a: publishedPolicy(site: "acme") { version } }'
)
ONE = "query($s: String!) { publishedPolicy(site: $s) { version } }"
ACME = '{ publishedPolicy(site: "acme") { version } }'
BURST = 4


async def _two_sites(api) -> None:
    for slug in ("acme", "beta"):
        _, owner = await create_tenant(api, slug=slug)
        await publish(api, owner, (await create_draft(api, owner))["id"])


async def _ask(client, method: str, query: str, variables: dict | None = None):
    if method == "GET":
        params = {"query": query}
        if variables is not None:
            params["variables"] = json.dumps(variables)
        return await client.get("/graphql", params=params)
    return await client.post("/graphql", json={"query": query, "variables": variables})


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_each_site_an_anonymous_operation_reads_pays(app, client, api, method):
    await _two_sites(api)
    pipeline = app.state.pipeline
    normal = pipeline.settings
    pipeline.settings = dataclasses.replace(
        normal, edge=dataclasses.replace(normal.edge, public_rate=Rate(0.001, BURST))
    )
    try:
        both = [(await _ask(client, method, BOTH)).status_code for _ in range(BURST + 1)]
        # The second site named (acme) paid too: its bucket is as empty as beta's.
        acme = await _ask(client, method, ONE, {"s": "acme"})
        beta = await _ask(client, method, ONE, {"s": "beta"})
    finally:
        pipeline.settings = normal
    assert both == [200] * BURST + [429], both
    assert (acme.status_code, beta.status_code) == (429, 429), (acme.text, beta.text)


async def test_site_less_fields_go_with_the_first_site(app, client, api):
    await _two_sites(api)
    pipeline = app.state.pipeline
    normal = pipeline.settings
    pipeline.settings = dataclasses.replace(
        normal, edge=dataclasses.replace(normal.edge, public_rate=Rate(0.001, BURST))
    )
    query = '{ jurisdictions { code } a: publishedPolicy(site: "acme") { version } }'
    try:
        first = await _ask(client, "POST", query)  # 2 units, both from acme's bucket
        second = await _ask(client, "POST", query)
        third = await _ask(client, "POST", query)
        beta = await _ask(client, "POST", ONE, {"s": "beta"})
    finally:
        pipeline.settings = normal
    assert [first.status_code, second.status_code, third.status_code] == [200, 200, 429]
    assert beta.status_code == 200  # beta was named by nobody: it paid nothing


async def test_each_site_pays_over_the_socket(api, settings):
    await _two_sites(api)
    async with (
        serve(settings, CHARTER_PUBLIC_RATE=f"0.001:{BURST}") as http,
        Socket.open(http.base_url.port) as socket,
    ):
        codes = []
        for _ in range(BURST + 1):
            await socket.start(BOTH)
            message = await socket.receive()
            codes.append(
                message["payload"][0]["extensions"]["code"] if message["type"] == "error" else "ok"
            )
            if message["type"] == "next":
                assert (await socket.receive())["type"] == "complete"
        await socket.start(ACME)
        acme = await socket.receive()
    assert codes == ["ok"] * BURST + ["RATE_LIMITED"], codes
    assert acme["type"] == "error", acme
    assert acme["payload"][0]["extensions"]["code"] == "RATE_LIMITED"
