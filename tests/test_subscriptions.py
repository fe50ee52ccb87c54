"""Subscriptions over graphql-transport-ws, fanned out across two server processes."""

from __future__ import annotations

import asyncio
import contextlib
import json

import pytest
import websockets

from tests.factories import create_draft, create_tenant
from tests.live import until_heard
from tests.servers import serve
from tests.test_subject_requests import SUBMIT

PUBLISH = "mutation($id: ID!) { publishPolicyVersion(id: $id) { policyVersion { version } } }"


@contextlib.asynccontextmanager
async def subscription(port: int, query: str, token: str | None = None):
    async with websockets.connect(
        f"ws://127.0.0.1:{port}/graphql", subprotocols=["graphql-transport-ws"]
    ) as ws:
        payload = {"Authorization": f"Bearer {token}"} if token else {}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        await asyncio.sleep(0.5)  # usually live by now; tests.live.until_heard when it matters
        yield ws


async def next_event(ws) -> dict:
    message = json.loads(await asyncio.wait_for(ws.recv(), 15))
    return message


async def post(http, query, variables, token):
    response = await http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    return response.json()


async def test_an_event_on_one_process_reaches_a_subscriber_on_another(api, settings):
    _, owner = await create_tenant(api, slug="acme")
    draft = await create_draft(api, owner)
    async with serve(settings) as http_a, serve(settings) as http_b:
        port_b = http_b.base_url.port
        query = 'subscription { policyPublished(site: "acme") { version title locale } }'
        async with subscription(port_b, query) as ws:
            drafts = [draft["id"]]

            async def publish(attempt: int) -> None:
                if attempt:  # the subscription was not live yet: another version
                    drafts.append((await create_draft(api, owner))["id"])
                await post(http_a, PUBLISH, {"id": drafts[-1]}, owner)

            [event] = await until_heard([ws], publish)
            assert event["type"] == "next", event
            heard = event["payload"]["data"]["policyPublished"]
            assert heard["version"] in range(1, len(drafts) + 1), (heard, len(drafts))
            assert heard == {"version": heard["version"], "title": "Privacy", "locale": "en"}

        requests = "subscription { subjectRequestUpdated { type status } }"
        async with subscription(port_b, requests, token=owner) as ws:

            async def submit(attempt: int) -> None:
                subject = {"type": "ACCESS", "subjectId": f"v{attempt}", "verified": True}
                await post(http_a, SUBMIT, {"input": subject}, owner)

            [event] = await until_heard([ws], submit)
            assert event["payload"]["data"]["subjectRequestUpdated"] == {
                "type": "ACCESS",
                "status": "RECEIVED",
            }


async def test_tenant_subscriptions_need_a_key_of_that_tenant(api, settings):
    _, owner = await create_tenant(api, slug="acme")
    _, other = await create_tenant(api, slug="other")
    async with serve(settings) as http:
        port = http.base_url.port
        async with subscription(port, "subscription { breachUpdated { id } }") as ws:
            event = await next_event(ws)
            errors = event["payload"] if event["type"] == "error" else event["payload"]["errors"]
            assert [e["extensions"]["code"] for e in errors] == ["UNAUTHENTICATED"]
        async with subscription(port, "subscription { breachUpdated { id } }", token=other) as ws:
            report = 'mutation { reportBreach(input: {title: "t", risk: LOW, detectedAt: "2026-11-20T10:00:00+00:00"}) { breach { id } } }'
            await post(http, report, {}, owner)
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(ws.recv(), 2)  # another tenant's breach: silence
        with pytest.raises(websockets.exceptions.ConnectionClosed):
            async with subscription(
                port, "subscription { breachUpdated { id } }", token="sk_revoked"
            ):
                pass
