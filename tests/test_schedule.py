"""The worker's scheduled announcements, run as the worker runs them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tenants.outbound import schedule
from tenants.outbound.models import OutboxMessage
from tenants.outbound.outbox import opened
from tests.factories import PUBLISH, create_draft, create_tenant, publish
from tests.outbound import drain, smtp_server, webhook_receiver
from tests.test_breaches import report
from tests.test_consent import grant, publish_policy, record
from tests.test_outbound import endpoint
from tests.test_subject_requests import SUBMIT

EVENTS = [
    "subject_request.due_soon",
    "breach.clock_overdue",
    "policy.published",
    "policy.material_change",
    "consent.recorded",
]


async def events_received(receiver) -> list[dict]:
    return [json.loads(body) for _, body in receiver.calls]


async def test_due_soon_and_overdue_clocks_are_announced_once(api):
    _, owner = await create_tenant(api, slug="kz", jurisdictions=["KZ"])
    async with webhook_receiver() as receiver:
        await endpoint(api, owner, receiver.url, EVENTS)
        received = (datetime.now(UTC) - timedelta(days=3)).isoformat()
        await api(
            SUBMIT,
            {
                "input": {
                    "type": "ACCESS",
                    "subjectId": "v",
                    "verified": True,
                    "receivedAt": received,
                }
            },
            token=owner,
        )
        await api(
            SUBMIT,
            {"input": {"type": "ACCESS", "subjectId": "w", "jurisdiction": "EU", "verified": True}},
            token=owner,
        )
        await report(api, owner, detectedAt="2026-01-05T10:00:00+05:00")  # long overdue
        now = datetime.now(UTC)
        assert await schedule.due_soon(now=now) == 1  # KZ's 3 working days, not EU's month
        assert await schedule.overdue_clocks(now=now) == 1
        assert await schedule.due_soon(now=now) == 0 and await schedule.overdue_clocks(now=now) == 0
        await drain()
        kinds = sorted(e["type"] for e in await events_received(receiver))
    assert kinds == ["breach.clock_overdue", "subject_request.due_soon"]


async def test_a_scheduled_material_version_is_announced_when_it_takes_effect(api):
    _, owner = await create_tenant(api, slug="acme", locales=["ru"])
    await publish_policy(api, owner)
    await record(
        api, owner, subjectId="ana", method="FORM", locale="ru", email="ana@example.uz",
        decisions=grant("analytics.reporting"),
    )  # fmt: skip
    await record(api, owner, subjectId="bek", method="FORM", decisions=grant("analytics.reporting"))
    async with webhook_receiver() as receiver:
        await endpoint(api, owner, receiver.url, EVENTS)
        draft = await create_draft(api, owner, material=True, changeSummary="new purposes")
        # The worker's clock is given, so the effective time can lie a minute ahead: a
        # second ahead, a stall between the publish and the check made it "due" already.
        soon = datetime.now(UTC) + timedelta(minutes=1)
        await publish(api, owner, draft["id"], effective_at=soon.isoformat())
        just_before = soon - timedelta(milliseconds=1)
        assert await schedule.effective_policies(now=just_before) == []  # not yet
        assert [v.number for v in await schedule.effective_policies(now=soon)] == [2]
        assert await schedule.effective_policies(now=soon) == []
        with smtp_server() as (port, mailbox):
            await drain(smtp_port=port)
            [mail] = mailbox.received()
        events = await events_received(receiver)
    assert mail["To"] == "ana@example.uz" and mail["Content-Language"] == "ru"
    kinds = sorted(e["type"] for e in events)
    assert kinds == ["policy.material_change", "policy.published"]
    notice = next(e for e in events if e["type"] == "policy.material_change")
    assert notice["data"]["subject_id"] == "bek" and notice["data"]["version"] == 2


async def test_material_notices_can_be_switched_off(api):
    _, owner = await create_tenant(api, slug="acme")
    await publish_policy(api, owner)
    await api(
        "mutation { updateTenant(input: {notifyMaterialChanges: false}) { tenant { notifyMaterialChanges } } }",
        token=owner,
    )
    await record(
        api, owner, subjectId="ana", method="FORM", email="ana@example.uz",
        decisions=grant("analytics.reporting"),
    )  # fmt: skip
    draft = await create_draft(api, owner, material=True)
    await api(PUBLISH, {"id": draft["id"]}, token=owner)
    assert await OutboxMessage.filter(kind="policy.material_change").count() == 0


async def test_consent_is_announced_in_batches(api):
    _, owner = await create_tenant(api, slug="acme")
    await publish_policy(api, owner)
    batch = "mutation($i: [ConsentInput!]!) { recordConsents(inputs: $i) { recorded } }"
    async with webhook_receiver() as receiver:
        await endpoint(api, owner, receiver.url, ["consent.recorded"])
        items = [
            {"subjectId": f"s{i}", "method": "IMPORT", "decisions": grant("analytics.reporting")}
            for i in range(30)
        ]
        await api(batch, {"i": items}, token=owner)
        assert await schedule.consent_batches() == 1
        assert await schedule.consent_batches() == 0
        await drain()
        [event] = await events_received(receiver)
    assert event["data"]["from_sequence"] == 1 and event["data"]["to_sequence"] == 30
    assert len(event["data"]["events"]) == 30


async def test_tenant_email_wording_and_sender_are_used(api):
    _, owner = await create_tenant(api, slug="acme")
    body = await api(
        """mutation($t: [EmailTemplateInput!]) { updateTenant(input: {mailFrom: "privacy@acme.example", emailTemplates: $t}) {
             tenant { mailFrom } userErrors { field code message } } }""",
        {
            "t": [
                {
                    "kind": "subject_request.verification",
                    "locale": "en",
                    "subject": "Confirm please",
                    "text": "Your code: {{ token }}",
                }
            ]
        },
        token=owner,
    )
    assert body["data"]["updateTenant"]["userErrors"] == []
    bad = await api(
        """mutation($t: [EmailTemplateInput!]) { updateTenant(input: {emailTemplates: $t}) { userErrors { code } } }""",
        {
            "t": [
                {
                    "kind": "subject_request.verification",
                    "locale": "en",
                    "subject": "x",
                    "text": "no code here",
                }
            ]
        },
        token=owner,
    )
    assert [e["code"] for e in bad["data"]["updateTenant"]["userErrors"]] == ["INVALID_TEMPLATE"]
    made = await api(
        SUBMIT,
        {"input": {"type": "ACCESS", "email": "p@example.uz", "subjectId": "p"}},
        token=owner,
    )
    token = made["data"]["submitSubjectRequest"]["verificationToken"]
    with smtp_server() as (port, mailbox):
        await drain(smtp_port=port)
        [mail] = mailbox.received()
    assert mail["Subject"] == "Confirm please" and "privacy@acme.example" in mail["From"]
    assert f"Your code: {token}" in mail.get_body(("plain",)).get_content()
    message = await OutboxMessage.get(kind="subject_request.verification")
    assert opened(message)[1]["token"] == token


async def test_a_change_notice_names_the_day_it_takes_effect_where_the_tenant_is(api):
    """A version effective at midnight in Tashkent is effective on that day, which in UTC
    is still the day before: the notice names the Tashkent day."""
    from tenants.outbound.templates import render
    from tenants.policies.models import PolicyVersion
    from tenants.policies.notices import queue_material_notices
    from tenants.tenancy.models import Tenant

    _, owner = await create_tenant(api, slug="uz", jurisdictions=["UZ"], locales=["en"])
    await publish_policy(api, owner)
    await record(
        api, owner, subjectId="ana", method="FORM", email="ana@example.uz",
        decisions=grant("analytics.reporting"),
    )  # fmt: skip
    draft = await create_draft(api, owner, material=True)
    await publish(api, owner, draft["id"], effective_at="2030-01-01T00:00:00+05:00")
    tenant = await Tenant.get(slug="uz")
    version = await PolicyVersion.get(id=draft["id"])
    assert await queue_material_notices(tenant=tenant, version=version) == 1
    [message] = await OutboxMessage.filter(kind="policy.material_change")
    _, payload = opened(message)
    text = render(kind=message.kind, locale="en", payload=payload, tenant_name="Uz").text
    assert "takes effect on 2030-01-01" in text, text
