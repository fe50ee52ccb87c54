"""The requester is told: EXTEND, COMPLETE and REJECT reach their inbox (a real SMTP
server) in their locale, and an address nobody verified is told nothing."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tenants.outbound.models import OutboxMessage
from tenants.outbound.outbox import opened
from tests.factories import create_key, create_tenant
from tests.outbound import drain, smtp_server
from tests.test_consent import grant, publish_policy, record
from tests.test_subject_identity import code_sent_to, submit
from tests.test_subject_requests import UPDATE, VERIFY

OUTBOX = """{ outboxMessages { edges { node { kind recipient status } } } }"""
# Words each locale's messages must carry, so a fallback to English shows.
WORDS = {
    "en": ("More time is needed", "has been completed", "has been declined"),
    "ru": ("Срок ответа", "выполнен", "отклонён"),
    "uz": ("muddati uzaytirildi", "bajarildi", "rad etildi"),
    "ky": ("мөөнөтү узартылды", "аткарылды", "четке кагылды"),
    "kk": ("мерзімі ұзартылды", "орындалды", "қабылданбады"),
}


@pytest.fixture
async def shop(api):
    _, owner = await create_tenant(
        api, slug="shop", name="Shop of Tashkent", jurisdictions=["EU"], locales=["ru"]
    )
    await publish_policy(api, owner)
    _, site = await create_key(api, owner, name="site", publishable=True)
    return {"owner": owner, "site": site}


async def act(api, owner, request_id, action, note=None) -> dict:
    body = await api(UPDATE, {"id": request_id, "action": action, "note": note}, token=owner)
    result = body["data"]["updateSubjectRequest"]
    assert result["userErrors"] == [], result
    return result["subjectRequest"]


async def verified(api, site, address, **fields) -> str:
    made = await submit(api, site, email=address, **fields)
    request_id = made["subjectRequest"]["id"]
    token = await code_sent_to(address, request_id)
    body = await api(VERIFY, {"id": request_id, "token": token}, token=site)
    assert body["data"]["verifySubjectRequest"]["userErrors"] == []
    return request_id


@pytest.mark.parametrize("locale", sorted(WORDS))
async def test_extension_completion_and_refusal_reach_the_person_in_their_locale(api, shop, locale):
    tag = {"en": "en-GB", "ru": "ru-RU", "uz": "uz-Latn-UZ", "ky": "ky-KG", "kk": "kk-KZ"}[locale]
    await record(
        api, shop["owner"], subjectId="p-1", method="FORM", email="person@example.uz",
        decisions=grant("analytics.reporting"),
    )  # fmt: skip
    access = await verified(
        api, shop["site"], "person@example.uz", type="ACCESS", subjectId="p-1", locale=tag
    )
    erasure = await verified(api, shop["site"], "person@example.uz", type="ERASURE", locale=tag)
    extended = await act(api, shop["owner"], access, "EXTEND", "We are restoring an archive.")
    await act(api, shop["owner"], access, "COMPLETE", "Download it under Account > Privacy.")
    await act(api, shop["owner"], erasure, "REJECT", "We must keep invoices for 5 years.")
    # The last day as the jurisdiction counts it (Brussels), which UTC may not show.
    due = datetime.fromisoformat(extended["dueAt"]).astimezone(ZoneInfo("Europe/Brussels"))

    with smtp_server() as (port, mailbox):
        await drain(smtp_port=port)
        mails = mailbox.received()
    assert len(mails) == 5  # two codes, then the extension, the completion, the refusal
    told = mails[2:]
    extension, completion, refusal = told
    words = WORDS[locale]
    for mail, word in zip(told, words, strict=True):
        assert mail["To"] == "person@example.uz" and mail["Content-Language"] == locale
        assert word in mail["Subject"], (locale, mail["Subject"])
        assert "Shop of Tashkent" in mail.get_body(("plain",)).get_content()
    text = extension.get_body(("plain",)).get_content()
    assert "We are restoring an archive." in text and due.date().isoformat() in text
    text = completion.get_body(("plain",)).get_content()
    assert "Download it under Account > Privacy." in text
    assert "analytics" not in text and "p-1" not in text  # the copy is never in the e-mail
    assert "&gt;" in completion.get_body(("html",)).get_content()  # escaped in the HTML part
    assert "We must keep invoices for 5 years." in refusal.get_body(("plain",)).get_content()


async def test_an_unverified_address_is_told_nothing(api, shop):
    made = await submit(api, shop["site"], type="ACCESS", email="stranger@example.uz")
    await act(api, shop["owner"], made["subjectRequest"]["id"], "REJECT", "never verified")
    logged = await submit(api, shop["owner"], type="ACCESS", subjectId="phone", verified=True)
    await act(api, shop["owner"], logged["subjectRequest"]["id"], "COMPLETE")
    kinds = [m.kind for m in await OutboxMessage.all()]
    assert kinds == ["subject_request.verification"]  # no address to write to for "phone"


async def test_the_erasure_confirmation_is_the_last_use_of_the_address(api, shop):
    with smtp_server() as (port, mailbox):
        request_id = await verified(api, shop["site"], "gone@example.uz", type="ERASURE")
        await drain(smtp_port=port)  # the code went out before the erasure
        await act(api, shop["owner"], request_id, "COMPLETE")
        await drain(smtp_port=port)
        [_, confirmation] = mailbox.received()
    assert confirmation["To"] == "gone@example.uz"
    assert "has been completed" in confirmation["Subject"]
    edges = (await api(OUTBOX, token=shop["owner"]))["data"]["outboxMessages"]["edges"]
    sent = sorted((e["node"]["kind"], e["node"]["recipient"], e["node"]["status"]) for e in edges)
    # Both went out and stay on record as SENT; neither keeps the address.
    assert sent == [
        ("subject_request.completed", None, "SENT"),
        ("subject_request.verification", None, "SENT"),
    ]


@pytest.mark.parametrize(("state", "zone"), [("IE", "Europe/Dublin"), ("PT", "Europe/Lisbon")])
async def test_the_extension_names_the_last_day_where_it_was_counted(api, state, zone):
    """A tenant established in Ireland or Portugal counts EU periods in its own zone: the
    period ends at 23:59:59 Dublin time, already the next day in Brussels. The e-mail
    must name the day the law counted, not the day after."""
    _, owner = await create_tenant(
        api, slug="west", jurisdictions=["EU"], mainEstablishment=state, locales=["en"]
    )
    await publish_policy(api, owner)
    _, site = await create_key(api, owner, name="site", publishable=True)
    request_id = await verified(api, site, "person@example.ie", type="ACCESS")
    extended = await act(api, owner, request_id, "EXTEND", "An archive must be restored.")
    [message] = await OutboxMessage.filter(kind="subject_request.extended")
    _, payload = opened(message)
    last_day = datetime.fromisoformat(extended["dueAt"]).astimezone(ZoneInfo(zone)).date()
    assert payload["due_on"] == last_day.isoformat()


async def test_a_tenant_name_with_line_breaks_still_reaches_the_inbox(api):
    """The tenant's name is the From header's display name: a name holding CR/LF (the API
    takes any text) made every e-mail of the tenant fail to build, retried to a dead
    letter, so no requester got a code. It is written on one line instead, and never
    becomes a header of its own."""
    _, owner = await create_tenant(api, slug="multi", name="Shop\r\nBcc: spy@evil.example")
    body = await api(
        'mutation { updateTenant(input: {mailFrom: "privacy@shop.example"}) { userErrors { code } } }',
        token=owner,
    )
    assert body["data"]["updateTenant"]["userErrors"] == []
    await publish_policy(api, owner)
    _, site = await create_key(api, owner, name="site", publishable=True)
    with smtp_server() as (port, mailbox):
        await submit(api, site, type="ACCESS", email="person@example.uz")
        await drain(smtp_port=port)
        [mail] = mailbox.received()
    assert mail["From"] == '"Shop Bcc: spy@evil.example" <privacy@shop.example>'
    assert mail["Bcc"] is None
