"""Delivery: e-mail to a real SMTP server, signed webhooks with retries, dead letters."""

from __future__ import annotations

import dataclasses
import json

from server.settings import Delivery
from tenants.outbound import signing
from tests.factories import create_tenant, error_codes
from tests.outbound import drain, smtp_server, webhook_receiver
from tests.test_breaches import NOTIFY, report
from tests.test_consent import grant, publish_policy, record
from tests.test_subject_requests import SUBMIT

CREATE_ENDPOINT = """mutation($url: String!, $events: [String!]!) {
  createWebhookEndpoint(url: $url, events: $events) {
    endpoint { id url events } secret userErrors { field code message }
  }
}"""
OUTBOX = """query($status: OutboxStatus) {
  outboxMessages(status: $status) { edges { node { id channel kind recipient status attempts lastError sentAt } } }
}"""


async def endpoint(api, token, url, events):
    body = await api(CREATE_ENDPOINT, {"url": url, "events": events}, token=token)
    result = body["data"]["createWebhookEndpoint"]
    assert result["userErrors"] == [], result
    return result["endpoint"], result["secret"]


async def test_verification_email_arrives_in_the_requesters_locale(api):
    _, owner = await create_tenant(api, slug="acme", locales=["ru"], dpoEmail="dpo@acme.example")
    body = await api(
        SUBMIT,
        {
            "input": {
                "type": "ERASURE",
                "email": "aziza@example.uz",
                "locale": "ru",
                "subjectId": "v",
            }
        },
        token=owner,
    )
    token = body["data"]["submitSubjectRequest"]["verificationToken"]
    with smtp_server() as (port, mailbox):
        await drain(smtp_port=port)
        [mail] = mailbox.received()
    assert mail["To"] == "aziza@example.uz" and mail["Content-Language"] == "ru"
    text = mail.get_body(("plain",)).get_content()
    assert token in text and "24" in text
    assert mail["Message-ID"].endswith("@charter>")
    sent = (await api(OUTBOX, {"status": "SENT"}, token=owner))["data"]["outboxMessages"]["edges"]
    assert [e["node"]["recipient"] for e in sent] == ["a***@example.uz"]


async def test_webhook_is_signed_and_retried_with_the_same_id(api):
    _, owner = await create_tenant(api, slug="acme")
    async with webhook_receiver(failures=2) as receiver:
        _, secret = await endpoint(api, owner, receiver.url, ["breach.reported", "breach.updated"])
        assert secret.startswith("whsec_")
        await report(api, owner)
        await drain()
        assert len(receiver.calls) == 3  # failed twice, then taken
        ids = {headers["webhook-id"] for headers, _ in receiver.calls}
        assert len(ids) == 1
        headers, body = receiver.calls[-1]
        assert signing.verify(secret=secret, headers=headers, body=body)
        assert not signing.verify(secret=secret, headers=headers, body=body + b" ")
        event = json.loads(body)
        assert event["type"] == "breach.reported" and event["data"]["risk"] == "RISK"
    sent = (await api(OUTBOX, {"status": "SENT"}, token=owner))["data"]["outboxMessages"]["edges"]
    assert [e["node"]["attempts"] for e in sent] == [3]


async def test_a_receiver_that_never_answers_ends_in_dead_letters(api):
    _, owner = await create_tenant(api, slug="acme")
    async with webhook_receiver(failures=100) as receiver:
        await endpoint(api, owner, receiver.url, ["breach.reported"])
        await report(api, owner)
        await drain()
    dead = (await api(OUTBOX, {"status": "DEAD"}, token=owner))["data"]["outboxMessages"]["edges"]
    assert len(dead) == 1 and dead[0]["node"]["attempts"] == 4
    assert "503" in dead[0]["node"]["lastError"]


async def test_private_webhook_addresses_are_refused_without_the_setting(app, api):
    _, owner = await create_tenant(api, slug="acme")
    settings = app.state.settings
    app.state.settings = dataclasses.replace(
        settings, delivery=Delivery(allow_private_webhooks=False)
    )
    try:
        for url in (
            "http://127.0.0.1:9/hook",
            "http://localhost/hook",
            "http://10.1.2.3/",
            "ftp://example.com/",
        ):
            body = await api(
                CREATE_ENDPOINT, {"url": url, "events": ["breach.reported"]}, token=owner
            )
            errors = body["data"]["createWebhookEndpoint"]["userErrors"]
            assert [e["code"] for e in errors] == ["INVALID_URL"], url
    finally:
        app.state.settings = settings
    bad = await api(
        CREATE_ENDPOINT, {"url": "https://93.184.215.14/h", "events": ["nope"]}, token=owner
    )
    assert [e["code"] for e in bad["data"]["createWebhookEndpoint"]["userErrors"]] == [
        "UNKNOWN_EVENT"
    ]


async def test_endpoints_are_listed_and_deleted_and_secrets_stay_secret(api):
    _, owner = await create_tenant(api, slug="acme")
    made, secret = await endpoint(api, owner, "https://93.184.215.14/hook", ["policy.published"])
    listed = await api("{ webhookEndpoints { id url events } }", token=owner)
    assert listed["data"]["webhookEndpoints"] == [made] and secret not in str(listed)
    gone = await api(
        "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { endpoint { disabledAt } userErrors { code } } }",
        {"id": made["id"]},
        token=owner,
    )
    assert gone["data"]["deleteWebhookEndpoint"]["endpoint"]["disabledAt"]
    assert (await api("{ webhookEndpoints { id } }", token=owner))["data"]["webhookEndpoints"] == []
    again = await api(
        "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { userErrors { code } } }",
        {"id": made["id"]},
        token=owner,
    )
    assert again["data"]["deleteWebhookEndpoint"]["userErrors"] == [{"code": "NOT_FOUND"}]


async def test_breach_notices_go_by_email_or_to_the_tenants_webhook(api):
    _, owner = await create_tenant(api, slug="acme", locales=["ru"])
    await publish_policy(api, owner)
    await record(
        api, owner, subjectId="mail", method="FORM", locale="ru", email="m@example.uz",
        decisions=grant("analytics.reporting"),
    )  # fmt: skip
    await record(
        api, owner, subjectId="hook", method="FORM", decisions=grant("analytics.reporting")
    )
    async with webhook_receiver() as receiver:
        await endpoint(api, owner, receiver.url, ["breach.notice"])
        breach = (await report(api, owner, risk="HIGH"))["breach"]
        message = [
            {"locale": "en", "title": "Leak", "body": "Sorry."},
            {"locale": "ru", "title": "Утечка", "body": "Простите."},
        ]
        await api(
            NOTIFY,
            {"id": breach["id"], "input": {"allAffected": True, "message": message}},
            token=owner,
        )
        with smtp_server() as (port, mailbox):
            await drain(smtp_port=port)
            [mail] = mailbox.received()
        assert mail["To"] == "m@example.uz" and "Утечка" in mail["Subject"]
        [(_, body)] = receiver.calls
        event = json.loads(body)
        assert event["type"] == "breach.notice" and event["data"]["subject_id"] == "hook"


async def test_outbox_is_for_owners_and_admins(api):
    _, owner = await create_tenant(api, slug="acme")
    from tests.factories import create_key

    _, auditor = await create_key(api, owner, name="a", role="AUDITOR")
    assert error_codes(await api(OUTBOX, {}, token=auditor)) == ["FORBIDDEN"]
