"""One locale negotiation everywhere: every entry point that takes a locale or an
Accept-Language header answers a tag as publishedPolicy does (tenants/policies/locales.py).
A test per entry point: the public read, consent (one and many), the subscription, a
subject request's e-mail, a tenant's own e-mail wording, breach notices, the diff."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets

from tenants.outbound import templates
from tests.factories import create_draft, create_key, create_tenant, publish
from tests.live import until_heard
from tests.outbound import drain, smtp_server
from tests.servers import serve
from tests.test_breaches import NOTIFY, report
from tests.test_consent import CONTROLLER, PURPOSES, grant

READ = """query($locale: String) {
  publishedPolicy(site: "acme", locale: $locale) { locale title }
}"""
RECORD = """mutation($input: ConsentInput!) {
  recordConsent(input: $input) { receipt { locale } userErrors { field code } }
}"""
BATCH = """mutation($inputs: [ConsentInput!]!) {
  recordConsents(inputs: $inputs) { recorded userErrors { code } }
}"""
HISTORY = """query($s: String!) {
  consentHistory(subjectId: $s) { edges { node { locale } } }
}"""
SUBMIT = """mutation($input: SubjectRequestInput!) {
  submitSubjectRequest(input: $input) { subjectRequest { id } userErrors { code } }
}"""
TEXTS = [
    {"locale": "en", "title": "Privacy", "body": "Text."},
    {"locale": "ru", "title": "Политика", "body": "Текст.\nВторая строка."},  # noqa: RUF001
    {"locale": "uz", "title": "Maxfiylik", "body": "Matn."},
]
# (locale argument, Accept-Language): what a banner sends to both calls.
ASKED = [
    ("uz-UZ", None),
    ("uz-Cyrl", None),
    ("ru-RU", None),
    ("RU", None),
    ("de", None),
    ("de", "ru, en;q=0.5"),
    (None, "uz-UZ, ru;q=0.5"),
    (None, "de, ru;q=0.4"),
    (None, "*"),
    (None, "ru;q=0, en;q=0"),
    (None, None),
]


@pytest.fixture
async def acme(api):
    _, owner = await create_tenant(
        api,
        slug="acme",
        locales=["ru", "uz"],
        domains=["acme.example"],
        dpoEmail="dpo@acme.example",
    )
    draft = await create_draft(
        api, owner, translations=TEXTS, disclosures={"controller": CONTROLLER, "purposes": PURPOSES}
    )
    await publish(api, owner, draft["id"])
    _, site = await create_key(api, owner, name="site", publishable=True)
    return {"owner": owner, "site": site}


async def post(client, query, variables, token=None, language=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if language is not None:
        headers["Accept-Language"] = language
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    return response.json()["data"]


@pytest.mark.parametrize(("locale", "language"), ASKED)
async def test_consent_records_the_locale_the_public_read_serves(client, acme, locale, language):
    served = (await post(client, READ, {"locale": locale}, language=language))["publishedPolicy"]
    item = {"subjectId": "v", "method": "BANNER", "decisions": grant("analytics.reporting")}
    if locale is not None:
        item["locale"] = locale
    one = (await post(client, RECORD, {"input": item}, acme["site"], language))["recordConsent"]
    assert one["userErrors"] == [] and one["receipt"]["locale"] == served["locale"]
    many = await post(
        client, BATCH, {"inputs": [{**item, "subjectId": "w"}]}, acme["owner"], language
    )
    assert many["recordConsents"] == {"recorded": 1, "userErrors": []}
    history = await post(client, HISTORY, {"s": "w"}, acme["owner"])
    assert history["consentHistory"]["edges"][0]["node"]["locale"] == served["locale"]


async def test_the_issues_example(client, acme):
    served = (await post(client, READ, {"locale": "uz-UZ"}))["publishedPolicy"]
    item = {"subjectId": "v", "method": "BANNER", "locale": "uz-UZ"}
    recorded = await post(
        client, RECORD, {"input": {**item, "decisions": grant("analytics.reporting")}}, acme["site"]
    )
    assert served["locale"] == recorded["recordConsent"]["receipt"]["locale"] == "uz"


async def test_the_subscription_negotiates_like_the_read(api, settings, acme):
    async with serve(settings) as http:
        url = f"ws://127.0.0.1:{http.base_url.port}/graphql"
        cases = [
            ('policyPublished(site: "acme", locale: "uz-UZ")', None, "uz"),
            ('policyPublished(site: "acme")', "ru-RU, en;q=0.5", "ru"),
            ('policyPublished(site: "acme")', None, "en"),
        ]
        sockets = []
        for field, language, _ in cases:
            headers = {"Accept-Language": language} if language else {}
            ws = await websockets.connect(
                url, subprotocols=["graphql-transport-ws"], additional_headers=headers
            )
            await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            query = f"subscription {{ {field} {{ locale }} }}"
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
            sockets.append(ws)
        await asyncio.sleep(0.5)  # usually live by now; until_heard publishes again if not

        async def publish_one(attempt: int) -> None:
            draft = await create_draft(api, acme["owner"], translations=TEXTS)
            await publish(api, acme["owner"], draft["id"])

        heard = await until_heard(sockets, publish_one)
        for ws, message, (_, _, expected) in zip(sockets, heard, cases, strict=True):
            assert message["payload"]["data"]["policyPublished"]["locale"] == expected
            await ws.close()


@pytest.mark.parametrize(
    ("locale", "language", "expected"),
    [
        ("uz-UZ", None, "uz"),
        (None, "ky-KG, ru;q=0.8", "ky"),
        (None, "de", "en"),
        (None, None, "en"),
    ],
)
async def test_a_requests_email_is_in_the_negotiated_locale(
    client, acme, locale, language, expected
):
    submission = {"type": "ACCESS", "subjectId": "v", "email": "aziza@example.uz"}
    if locale:
        submission["locale"] = locale
    made = await post(client, SUBMIT, {"input": submission}, acme["site"], language)
    assert made["submitSubjectRequest"]["userErrors"] == []
    with smtp_server() as (port, mailbox):
        await drain(smtp_port=port)
        [mail] = mailbox.received()
    assert mail["Content-Language"] == expected


def test_a_tenants_own_wording_is_negotiated_like_the_rest() -> None:
    # Tajik is no built-in language; the tenant's "tg-TJ" text serves a "tg" reader, as a
    # policy translation "tg-TJ" would serve them on publishedPolicy.
    own = {"tg-TJ": {"subject": "Рамз", "text": "Рамз: {{ token }}"}}
    payload = templates.SAMPLES["subject_request.verification"]
    for locale, expected in [
        ("tg", "tg-tj"),
        ("tg-Cyrl-TJ", "tg-tj"),
        ("uz-UZ", "uz"),
        ("fr", "en"),
    ]:
        rendered = templates.render(
            kind="subject_request.verification",
            locale=locale,
            payload=payload,
            tenant_name="Acme",
            overrides=own,
        )
        assert rendered.locale == expected, locale


async def test_breach_notices_negotiate_each_persons_locale(api, acme):
    await api(
        RECORD,
        {"input": {"subjectId": "p", "method": "FORM", "locale": "uz-UZ", "email": "p@example.uz",
                   "decisions": grant("analytics.reporting")}},
        token=acme["site"],
    )  # fmt: skip
    breach = (await report(api, acme["owner"], risk="HIGH"))["breach"]
    message = [
        {"locale": "en", "title": "Leak", "body": "Sorry."},
        {"locale": "uz-Latn", "title": "Sizib chiqish", "body": "Uzr."},
    ]
    await api(NOTIFY, {"id": breach["id"], "input": {"subjectIds": ["p"], "message": message}},
              token=acme["owner"])  # fmt: skip
    with smtp_server() as (port, mailbox):
        await drain(smtp_port=port)
        [mail] = mailbox.received()
    assert "Sizib chiqish" in mail["Subject"]


async def test_the_diff_negotiates_its_locale(api, acme):
    draft = await create_draft(
        api,
        acme["owner"],
        translations=[*TEXTS[:1], {**TEXTS[1], "body": "Текст.\nИная строка."}, TEXTS[2]],  # noqa: RUF001
    )
    query = "query($id: ID!, $l: String) { policyVersion(id: $id) { diff(locale: $l) } }"
    body = await api(query, {"id": draft["id"], "l": "ru-RU"}, token=acme["owner"])
    diff = body["data"]["policyVersion"]["diff"]
    assert "-Вторая строка." in diff and "+Иная строка." in diff
