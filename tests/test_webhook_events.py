"""Webhook events, as a real receiver gets them: every event a tenant may subscribe to is
raised, subject_request.created when a request is received, and the payload's timestamp
is the event's while the webhook-timestamp header is the attempt's (Standard Webhooks)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

from tenants.outbound import events, schedule, signing
from tests.factories import create_draft, create_key, create_tenant, publish
from tests.outbound import drain, webhook_receiver
from tests.test_breaches import NOTIFY, UPDATE, report
from tests.test_consent import grant, publish_policy, record
from tests.test_outbound import endpoint
from tests.test_subject_identity import code_sent_to, submit
from tests.test_subject_requests import UPDATE as ACT
from tests.test_subject_requests import VERIFY


def received(receiver) -> list[dict]:
    return [json.loads(body) for _, body in receiver.calls]


async def test_every_event_a_tenant_may_subscribe_to_is_raised(api):
    """Driven through the API and the worker's sweeps; the expected set is events.ALL, so
    a name accepted at subscription and never raised fails here."""
    _, owner = await create_tenant(api, slug="kz", jurisdictions=["KZ"])
    async with webhook_receiver() as receiver:
        await endpoint(api, owner, receiver.url, list(events.ALL))
        await publish_policy(api, owner)  # policy.published
        await record(api, owner, subjectId="s-1", method="FORM",
                     decisions=grant("analytics.reporting"))  # fmt: skip
        await schedule.consent_batches()  # consent.recorded
        past = (datetime.now(UTC) - timedelta(days=3)).isoformat()
        made = await submit(
            api, owner, type="ACCESS", subjectId="s-1", verified=True, receivedAt=past
        )  # subject_request.created
        await api(ACT, {"id": made["subjectRequest"]["id"], "action": "START"}, token=owner)
        await schedule.due_soon(now=datetime.now(UTC))  # subject_request.due_soon
        breach = (await report(api, owner, risk="HIGH", detectedAt=past))["breach"]
        await api(UPDATE, {"id": breach["id"], "input": {"note": "contained"}}, token=owner)
        await schedule.overdue_clocks(now=datetime.now(UTC))  # breach.clock_overdue
        message = [{"locale": "en", "title": "Leak", "body": "Sorry."}]
        await api(
            NOTIFY,
            {"id": breach["id"], "input": {"subjectIds": ["s-1"], "message": message}},
            token=owner,
        )  # breach.notice: Charter has no address for s-1
        draft = await create_draft(api, owner, material=True)
        await publish(api, owner, draft["id"])  # policy.material_change for s-1
        await drain()
        kinds = {event["type"] for event in received(receiver)}
    assert kinds == set(events.ALL), f"never raised: {set(events.ALL) - kinds}"


async def test_subject_request_created_is_sent_when_the_request_is_received(api):
    _, owner = await create_tenant(api, slug="shop")
    _, site = await create_key(api, owner, name="site", publishable=True)
    async with webhook_receiver() as receiver:
        _, secret = await endpoint(
            api, owner, receiver.url, ["subject_request.created", "subject_request.updated"]
        )
        made = await submit(api, site, type="ERASURE", subjectId="v-9", email="v9@example.uz")
        request_id = made["subjectRequest"]["id"]
        await drain()
        assert receiver.calls == []  # an unverified request is nobody's business yet
        token = await code_sent_to("v9@example.uz", request_id)
        await api(VERIFY, {"id": request_id, "token": token}, token=site)
        logged = await submit(api, owner, type="ACCESS", subjectId="v-10", verified=True)
        await drain()
        calls = list(receiver.calls)
    assert all(signing.verify(secret=secret, headers=h, body=b) for h, b in calls)
    created = [json.loads(body) for _, body in calls]
    assert [(e["type"], e["data"]["id"]) for e in created] == [
        ("subject_request.created", request_id),
        ("subject_request.created", logged["subjectRequest"]["id"]),
    ]
    first = created[0]["data"]
    assert first["status"] == "RECEIVED" and first["identity_proof"] == "EMAIL"
    assert first["type"] == "ERASURE" and first["subject_id"] == "v-9"
    assert "v9@example.uz" not in json.dumps(created)  # the tenant's own id, no address
    assert created[1]["data"]["identity_proof"] == "STAFF"


async def test_the_payload_timestamp_is_the_events_and_the_header_the_attempts(api):
    _, owner = await create_tenant(api, slug="shop")
    async with webhook_receiver(failures=1) as receiver:
        _, secret = await endpoint(api, owner, receiver.url, ["breach.reported"])
        before = datetime.now(UTC)
        await report(api, owner)
        after = datetime.now(UTC)
        await asyncio.sleep(2.2)  # the delivery comes well after the event
        await drain()
        calls = list(receiver.calls)
    assert len(calls) == 2  # refused once, then taken
    (first_headers, first_body), (headers, body) = calls
    assert first_body == body  # a retry carries the same event, byte for byte
    assert first_headers["webhook-id"] == headers["webhook-id"]
    assert signing.verify(secret=secret, headers=headers, body=body)
    event_at = datetime.fromisoformat(json.loads(body)["timestamp"])
    assert before - timedelta(seconds=1) <= event_at <= after
    attempt_at = datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)
    assert attempt_at - event_at >= timedelta(seconds=1)
    assert json.loads(body)["timestamp"].endswith("Z")


async def test_an_unverified_request_is_never_announced(api):
    """Not as created, and not as due soon either: KZ's three working days fall inside the
    due-soon window at once, yet nobody has verified the request."""
    _, owner = await create_tenant(api, slug="kz", jurisdictions=["KZ"])
    _, site = await create_key(api, owner, name="site", publishable=True)
    async with webhook_receiver() as receiver:
        await endpoint(api, owner, receiver.url, list(events.ALL))
        await submit(api, site, type="ACCESS", email="k@example.kz")
        assert await schedule.due_soon(now=datetime.now(UTC)) == 0
        await drain()
        assert receiver.calls == []
