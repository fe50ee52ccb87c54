"""A scheduled version stays private until it takes effect, on every public path: the
public read (POST, GET, persisted GET, so the response cache too), consent with a
publishable key, and the subscription."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import create_draft, create_key, create_tenant, publish
from tests.servers import serve
from tests.test_consent import grant, publish_policy, record
from tests.test_subscriptions import subscription

POLICY = (
    "query($site: String!, $v: Int) { publishedPolicy(site: $site, version: $v) { version title } }"
)
HASH = hashlib.sha256(POLICY.encode()).hexdigest()
FAR = "2030-01-01T00:00:00+00:00"


async def read(client, version: int | None, how: str) -> dict | None:
    variables = {"site": "acme.example", "v": version}
    if how == "POST":
        response = await client.post("/graphql", json={"query": POLICY, "variables": variables})
    elif how == "GET":
        params = {"query": POLICY, "variables": json.dumps(variables)}
        response = await client.get("/graphql", params=params)
    else:  # Apollo's persisted query over GET, registered first as Apollo does
        extensions = {"persistedQuery": {"version": 1, "sha256Hash": HASH}}
        await client.post(
            "/graphql", json={"query": POLICY, "variables": variables, "extensions": extensions}
        )
        params = {"variables": json.dumps(variables), "extensions": json.dumps(extensions)}
        response = await client.get("/graphql", params=params)
    body = response.json()
    assert "errors" not in body, body
    return body["data"]["publishedPolicy"]


@pytest.fixture
async def scheduled(api):
    _, owner = await create_tenant(api, slug="acme", domains=["acme.example"])
    await publish_policy(api, owner)
    draft = await create_draft(
        api, owner, translations=[{"locale": "en", "title": "Next", "body": "B"}]
    )
    await publish(api, owner, draft["id"], effective_at=FAR)
    _, site = await create_key(api, owner, name="site", publishable=True)
    return {"owner": owner, "site": site}


@pytest.mark.parametrize("how", ["POST", "GET", "APQ"])
async def test_a_scheduled_version_is_not_served_by_number(client, scheduled, how):
    assert await read(client, 2, how) is None  # as unknown as a version that never was
    assert await read(client, 3, how) is None
    assert await read(client, None, how) == {"version": 1, "title": "Privacy"}
    assert await read(client, 1, how) == {"version": 1, "title": "Privacy"}


async def test_nobody_consents_to_a_scheduled_version(api, scheduled):
    scheduled_one = await record(
        api, scheduled["site"], policyVersion=2, decisions=grant("analytics.reporting")
    )
    unknown = await record(
        api, scheduled["site"], policyVersion=3, decisions=grant("analytics.reporting")
    )
    assert scheduled_one["receipt"] is None
    # The same answer as for a version that does not exist: nothing of v2 shows through.
    assert scheduled_one["userErrors"] == unknown["userErrors"]
    assert [e["code"] for e in unknown["userErrors"]] == ["NOT_FOUND"]
    secret = await record(
        api, scheduled["owner"], policyVersion=2, decisions=grant("analytics.reporting")
    )
    assert [e["code"] for e in secret["userErrors"]] == ["NOT_FOUND"]


async def test_a_version_is_public_from_its_effective_time(api, client):
    _, owner = await create_tenant(api, slug="acme", domains=["acme.example"])
    await publish_policy(api, owner)
    draft = await create_draft(
        api, owner, translations=[{"locale": "en", "title": "Next", "body": "B"}]
    )
    # The publish and six reads must fit before `soon`: 3 s of room for a loaded machine's
    # stalls (at 1.5 s, with the draft made inside the window, one stall was enough).
    soon = datetime.now(UTC) + timedelta(seconds=3)
    await publish(api, owner, draft["id"], effective_at=soon.isoformat())
    for how in ("POST", "GET", "APQ"):
        assert await read(client, 2, how) is None
        assert (await read(client, None, how))["version"] == 1  # cached, but only until `soon`
    await asyncio.sleep((soon - datetime.now(UTC)).total_seconds() + 0.2)
    for how in ("POST", "GET", "APQ"):
        assert await read(client, 2, how) == {"version": 2, "title": "Next"}
        assert await read(client, None, how) == {"version": 2, "title": "Next"}
    receipt = await record(api, owner, policyVersion=2, decisions=grant("analytics.reporting"))
    assert receipt["receipt"]["policyVersion"] == 2


async def test_the_subscription_is_not_told_of_a_scheduled_version(api, settings):
    _, owner = await create_tenant(api, slug="acme")
    async with serve(settings) as http:
        port = http.base_url.port
        query = 'subscription { policyPublished(site: "acme") { version } }'
        async with subscription(port, query) as ws:
            draft = await create_draft(api, owner)
            await publish(api, owner, draft["id"], effective_at=FAR)
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(ws.recv(), 2)
