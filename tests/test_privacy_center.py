"""The privacy center without JavaScript, as a browser with scripts off (or a screen
reader, or curl) uses it: read the policy in the visitor's language, change consent
choices, send a data-subject request and confirm it with the e-mailed code."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tenants.outbound.models import OutboxMessage
from tenants.outbound.outbox import opened
from tests.factories import create_draft, create_tenant, publish
from tests.servers import serve

PURPOSES = [
    {"key": "essential.service", "legalBasis": "CONTRACT"},
    {"key": "analytics.reporting", "legalBasis": "CONSENT"},
    {"key": "marketing.advertising.third_party.targeted", "legalBasis": "CONSENT"},
]
STATE = "query($s: String!) { consentState(subjectId: $s) { purpose granted method } }"
REQUEST = "query($id: ID!) { subjectRequest(id: $id) { status type dueAt locale jurisdiction } }"


async def publish_policy(api, owner, *, material=False, effective_at=None, title="Privacy"):
    draft = await create_draft(
        api,
        owner,
        translations=[
            {"locale": "en", "title": title, "body": "We keep **little**."},
            {"locale": "ru", "title": "Политика", "body": "Мы храним мало."},
            {"locale": "uz", "title": "Siyosat", "body": "Biz kam saqlaymiz."},
        ],
        disclosures={
            "purposes": PURPOSES,
            "controller": {
                "name": "Shop LLC",
                "email": "privacy@shop.example",
                "address": "Tashkent",
                "phone": "+998 71 200 00 00",
            },
        },
        material=material,
    )
    return await publish(api, owner, draft["id"], effective_at)


@pytest.fixture
async def shop(api):
    _, owner = await create_tenant(
        api, slug="shop", locales=["ru", "uz"], jurisdictions=["UZ"], domains=["shop.example"]
    )
    await publish_policy(api, owner)
    return owner


def form_token(html: str) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]+)"', html).group(1)


def hidden(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', html).group(1)


async def mailed_code() -> tuple[str, str]:
    """What the person finds in their inbox: the code (and the e-mail's locale)."""
    message = (
        await OutboxMessage.filter(kind="subject_request.verification").order_by("-id").first()
    )
    _, payload = opened(message)
    return payload["token"], message.locale


async def test_the_policy_in_the_visitors_language(client, shop):
    page = await client.get("/t/shop/privacy", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert page.status_code == 200
    assert '<html lang="ru">' in page.text and "Мы храним мало." in page.text
    assert page.headers["content-language"] == "ru"
    uz = await client.get("/t/shop.example/privacy?lang=uz")
    assert '<html lang="uz">' in uz.text and "Biz kam saqlaymiz." in uz.text
    assert "Maxfiylik markazi" in uz.text  # the page's own words too
    assert "Deletion" not in uz.text and "Maʼlumotlarni oʻchirish" in uz.text  # noqa: RUF001 (Uzbek letters)
    en = await client.get("/t/shop/privacy", headers={"Accept-Language": "de, en;q=0.5"})
    assert "We keep <strong>little</strong>." in en.text


async def test_a_strict_page_that_caches_for_its_visitor(client, shop):
    page = await client.get("/t/shop/privacy")
    csp = page.headers["content-security-policy"]
    assert "script-src" not in csp and "default-src 'none'" in csp and "form-action 'self'" in csp
    assert "unsafe-inline" not in csp  # GraphiQL's policy is not added on top
    assert len(page.headers.get_list("content-security-policy")) == 1
    assert page.headers["cache-control"] == "private, no-cache"
    assert page.headers["ratelimit-policy"]
    again = await client.get("/t/shop/privacy", headers={"If-None-Match": page.headers["etag"]})
    assert again.status_code == 304
    for missing in ("/t/nobody/privacy", "/t/" + "a" * 300 + "/privacy"):
        assert (await client.get(missing)).status_code == 404


async def test_a_request_is_sent_and_confirmed_without_javascript(api, client, shop):
    page = await client.get("/t/shop/privacy", headers={"Accept-Language": "ru"})
    assert "charter_csrf" in page.headers["set-cookie"]
    sent = await client.post(
        "/t/shop/privacy/requests",
        data={"csrf": form_token(page.text), "type": "ERASURE", "email": "ali@example.uz",
              "details": "", "lang": "ru"},
    )  # fmt: skip
    assert sent.status_code == 303
    verify_url = sent.headers["location"]
    request_id = re.search(r"/privacy/requests/([0-9a-f-]{36})\?lang=ru$", verify_url).group(1)
    form = await client.get(verify_url)
    assert "Подтвердите запрос" in form.text
    code, locale = await mailed_code()
    assert locale == "ru"  # the e-mail speaks the language the person used
    wrong = await client.post(verify_url.split("?")[0], data={"csrf": form_token(form.text),
                                                              "code": "000000", "lang": "ru"})  # fmt: skip
    assert wrong.status_code == 422 and "Код неверный." in wrong.text
    done = await client.post(
        verify_url.split("?")[0], data={"csrf": form_token(form.text), "code": code, "lang": "ru"}
    )
    assert done.status_code == 200 and "Ваш запрос подтверждён" in done.text
    seen = (await api(REQUEST, {"id": request_id}, token=shop))["data"]["subjectRequest"]
    assert seen["status"] == "RECEIVED" and seen["type"] == "ERASURE" and seen["locale"] == "ru"
    due = datetime.fromisoformat(seen["dueAt"]).astimezone(ZoneInfo("Asia/Tashkent")).date()
    assert f"Мы ответим не позднее {due.isoformat()}." in done.text
    assert request_id in done.text


async def test_a_bad_address_is_said_beside_its_form_and_nothing_is_sent(api, client, shop):
    page = await client.get("/t/shop/privacy?lang=uz")
    sent = await client.post(
        "/t/shop/privacy/requests",
        data={"csrf": form_token(page.text), "type": "ACCESS", "email": "not-an-address",
              "lang": "uz"},
    )  # fmt: skip
    assert sent.status_code == 422
    assert "Toʻgʻri elektron pochta manzilini kiriting." in sent.text  # noqa: RUF001
    assert 'aria-invalid="true" aria-describedby="right-ACCESS-error"' in sent.text
    assert 'value="not-an-address"' in sent.text
    listed = await api("{ subjectRequests { edges { cursor } } }", token=shop)
    assert listed["data"]["subjectRequests"]["edges"] == []


async def test_a_form_from_anywhere_else_is_refused(api, client, shop):
    page = await client.get("/t/shop/privacy")
    token = form_token(page.text)
    data = {"csrf": token, "type": "ACCESS", "email": "a@example.uz"}
    attempts = [
        ({"csrf": "", "type": "ACCESS", "email": "a@example.uz"}, {}),
        ({**data, "csrf": "0" * 64}, {}),
        ({**data, "csrf": "ж" * 64}, {}),  # not ASCII: once a TypeError inside the check
        (data, {"Sec-Fetch-Site": "cross-site"}),
        (data, {"Origin": "https://evil.example"}),
        (data, {"Origin": "http://["}),  # no URL at all: once a ValueError, a 500
        (data, {"Origin": "http://shop.example:99999999"}),
    ]
    for form, headers in attempts:
        refused = await client.post("/t/shop/privacy/requests", data=form, headers=headers)
        assert refused.status_code == 403, form
        assert "The form has expired" in refused.text
    client.cookies.clear()  # a token only holds with the cookie it was made for
    refused = await client.post("/t/shop/privacy/requests", data=data)
    assert refused.status_code == 403
    listed = await api("{ subjectRequests { edges { cursor } } }", token=shop)
    assert listed["data"]["subjectRequests"]["edges"] == []


async def test_consent_choices_are_changed_through_the_banners_record(api, client, shop):
    page = await client.get("/t/shop/privacy")
    assert "You have not made any choices" in page.text
    assert 'value="analytics.reporting" checked' not in page.text  # nothing pre-ticked
    form = {
        "csrf": form_token(page.text),
        "version": hidden(page.text, "version"),
        "locale": hidden(page.text, "locale"),
        "event": hidden(page.text, "event"),
        "lang": "en",
        "purpose": ["analytics.reporting"],
    }
    saved = await client.post("/t/shop/privacy/choices", data=form)
    assert saved.status_code == 303 and saved.headers["location"].endswith("&saved=1#choices")
    cookie = saved.headers["set-cookie"]
    assert cookie.startswith("charter_consent=") and "Path=/t/shop/" in cookie
    assert "HttpOnly" not in cookie  # consent.js reads it
    subject = re.search(r"%22s%22%3A%22(cb_[0-9a-f]{32})%22", cookie).group(1)
    again = await client.post("/t/shop/privacy/choices", data=form)  # a double submit
    assert again.status_code == 303
    state = (await api(STATE, {"s": subject}, token=shop))["data"]["consentState"]
    assert state == [
        {"purpose": "analytics.reporting", "granted": True, "method": "FORM"},
        {"purpose": "marketing.advertising.third_party.targeted", "granted": False,
         "method": "FORM"},
    ]  # fmt: skip
    history = await api(
        "query($s: String!) { consentHistory(subjectId: $s) { edges { node { id } } } }",
        {"s": subject},
        token=shop,
    )
    assert len(history["data"]["consentHistory"]["edges"]) == 1  # one event, not two
    shown = await client.get("/t/shop/privacy?saved=1")
    assert "Your choices have been saved." in shown.text
    assert 'value="analytics.reporting" checked' in shown.text
    audit = await api("{ auditLog { edges { node { action actor } } } }", token=shop)
    assert {"action": "consent.record", "actor": "site:privacy-center"} in [
        e["node"] for e in audit["data"]["auditLog"]["edges"]
    ]


async def test_a_material_change_makes_granted_choices_stale(api, client, shop):
    page = await client.get("/t/shop/privacy")
    form = {k: hidden(page.text, k) for k in ("version", "locale", "event")}
    await client.post(
        "/t/shop/privacy/choices",
        data={**form, "csrf": form_token(page.text), "purpose": ["analytics.reporting"]},
    )
    await publish_policy(api, shop, material=True)
    shown = await client.get("/t/shop/privacy")
    assert 'value="analytics.reporting" checked' not in shown.text


async def test_older_versions_are_readable_but_not_scheduled_ones(api, client, shop):
    await publish_policy(api, shop, title="Second")
    await publish_policy(api, shop, title="Future", effective_at="2031-01-01T00:00:00+00:00")
    first = await client.get("/t/shop/privacy?version=1&lang=en")
    assert "You are reading version 1, which is no longer in force." in first.text
    future = await client.get("/t/shop/privacy?version=3&lang=en")
    assert "Future" not in future.text and "Second" in future.text
    assert "Version 3" not in future.text


async def test_on_the_tenants_own_domain(settings, api, shop):
    await create_tenant(api, slug="other", jurisdictions=["EU"], domains=["other.example"])
    async with serve(settings, CHARTER_TRUSTED_PROXIES="127.0.0.1") as http:
        own = await http.get("/t/shop/privacy", headers={"Host": "shop.example"})
        assert own.status_code == 200
        http.cookies.clear()
        # Behind the tenant's proxy, which Charter trusts: the same.
        proxied = await http.get(
            "/t/shop/privacy",
            headers={"X-Forwarded-Host": "www.shop.example", "X-Forwarded-Proto": "https"},
        )
        assert proxied.status_code == 200 and "Secure" in proxied.headers["set-cookie"]
        # Another tenant's domain never serves this tenant's pages (its cookies are there).
        assert (
            await http.get("/t/shop/privacy", headers={"Host": "other.example"})
        ).status_code == 404
        page = own.text
        http.cookies.clear()
        http.cookies.update(own.cookies)
        saved = await http.post(
            "/t/shop/privacy/choices",
            headers={"Host": "shop.example"},
            data={"csrf": form_token(page), "version": hidden(page, "version"),
                  "locale": hidden(page, "locale"), "event": hidden(page, "event")},
        )  # fmt: skip
        assert saved.status_code == 303
        assert "Path=/;" in saved.headers["set-cookie"]  # the banner's record on that site


async def test_a_proxy_header_from_anyone_else_is_ignored(settings, api, shop):
    async with serve(settings) as http:
        page = await http.get("/t/shop/privacy", headers={"X-Forwarded-Host": "shop.example"})
        assert "Path=/t/shop/" in page.headers["set-cookie"]


async def test_pages_and_forms_pay_the_rate_limit(settings, shop):
    # 100 s a unit: at one a second, a page render slowed past a second by a loaded
    # machine refilled a unit and the third request was let through.
    async with serve(settings, CHARTER_PUBLIC_RATE="0.01:6") as http:
        page = await http.get("/t/shop/privacy")
        # A form costs what its mutation costs over GraphQL (5): one page + one form = 6.
        sent = await http.post(
            "/t/shop/privacy/requests",
            data={"csrf": form_token(page.text), "type": "ACCESS", "email": "a@example.uz"},
        )
        assert sent.status_code == 303
        refused = await http.get("/t/shop/privacy")
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert (await http.get("/t/shop/consent.js")).status_code == 429


FIELDS = st.sampled_from(["csrf", "type", "email", "details", "lang", "version", "locale",
                          "event", "purpose", "code"])  # fmt: skip
HOSTILE = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        ["\x00", "%FF%FE", "ACCESS", "1", "-1", "99999999999999999999", "ce_" + "0" * 32]
    ),
)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    path=st.sampled_from(["choices", "requests", "requests/00000000-0000-0000-0000-000000000000"]),
    form=st.lists(st.tuples(FIELDS, HOSTILE), max_size=8),
    raw=st.binary(max_size=60),
    cookie=st.text(max_size=60),
)
async def test_hostile_forms_and_cookies_never_break_a_page(client, shop, path, form, raw, cookie):
    """Whatever a visitor posts or keeps in its cookies: a page or a refusal, never a 500."""
    client.cookies.set("charter_consent", cookie.encode("ascii", "ignore").decode(), path="/")
    page = await client.get("/t/shop/privacy")
    assert page.status_code == 200
    token = form_token(page.text)
    for body in (form, [("csrf", token), *form]):
        answer = await client.post(f"/t/shop/privacy/{path}", data=dict(body))
        assert answer.status_code in (303, 400, 403, 422), answer.text
    answer = await client.post(
        f"/t/shop/privacy/{path}",
        content=raw,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code in (303, 400, 403, 422)


async def test_a_tenants_words_are_shown_as_words(api, client, shop):
    """Texts, purpose names and descriptions are the tenant's, shown as text wherever they
    appear: escaped on the page, and sent to the banner as data it puts in textContent."""
    payload = '<img src=x onerror="alert(1)">'
    body = await api(
        """mutation($t: [BrandTextInput!]) { updateBranding(input: {texts: $t}) {
             userErrors { code } } }""",
        {"t": [{"locale": "en", "key": "center.intro", "text": payload},
               {"locale": "en", "key": "purpose.analytics.reporting", "text": payload}]},
        token=shop,
    )  # fmt: skip
    assert body["data"]["updateBranding"]["userErrors"] == []
    page = await client.get("/t/shop/privacy?lang=en")
    assert payload not in page.text
    assert page.text.count("&lt;img src=x onerror=&#34;alert(1)&#34;&gt;") >= 2
    banner = await api(
        '{ publishedPolicy(site: "shop", locale: "en") { banner { categories { purposes { name } } } } }'
    )
    names = [p["name"] for c in banner["data"]["publishedPolicy"]["banner"]["categories"]
             for p in c["purposes"]]  # fmt: skip
    assert payload in names  # data, as given: the script never parses it as markup


async def test_a_new_choice_or_a_new_subject_is_a_new_event(api, client, shop):
    """The form's event id makes a repost one event, and nothing more: a different choice
    from the same page, or the same page after the record was cleared (a new subject),
    is an event of its own, never another subject's reused id."""
    page = await client.get("/t/shop/privacy")
    form = {k: hidden(page.text, k) for k in ("version", "locale", "event")}
    form["csrf"] = form_token(page.text)
    first = await client.post("/t/shop/privacy/choices", data=form)
    subject = re.search(r"%22s%22%3A%22(cb_[0-9a-f]{32})", first.headers["set-cookie"]).group(1)
    client.cookies.delete("charter_consent", path="/t/shop/")
    again = await client.get("/t/shop/privacy")
    assert hidden(again.text, "event") == form["event"]  # the same page: cacheable as such
    second = await client.post("/t/shop/privacy/choices", data=form)
    assert second.status_code == 303, second.text
    other = re.search(r"%22s%22%3A%22(cb_[0-9a-f]{32})", second.headers["set-cookie"]).group(1)
    assert other != subject
    changed = await client.post(
        "/t/shop/privacy/choices", data={**form, "purpose": ["analytics.reporting"]}
    )
    assert changed.status_code == 303
    state = (await api(STATE, {"s": other}, token=shop))["data"]["consentState"]
    assert {"purpose": "analytics.reporting", "granted": True, "method": "FORM"} in state


# Text Python calls digits but int() refuses ("²"), or refuses past 4,300 digits; and
# digits of other scripts, which no version is spelled in.
NOT_A_VERSION = ["²", "1²", "1" * 5000, "\u0661", "\uff11", "+1", "1_0"]


@pytest.mark.parametrize("spelling", NOT_A_VERSION)
async def test_a_version_that_is_no_number_is_the_current_page_or_a_refusal(client, shop, spelling):
    """`?version=` and the choices form's `version` are read as ASCII digits only: any
    other spelling shows the version in force (GET) or refuses the form (422), never 500."""
    shown = await client.get("/t/shop/privacy", params={"version": spelling, "lang": "en"})
    assert shown.status_code == 200
    assert "no longer in force" not in shown.text
    page = await client.get("/t/shop/privacy")
    form = {k: hidden(page.text, k) for k in ("locale", "event")}
    posted = await client.post(
        "/t/shop/privacy/choices",
        data={**form, "csrf": form_token(page.text), "version": spelling},
    )
    assert posted.status_code == 422


async def test_the_confirmed_due_date_is_the_day_the_tenants_calendar_counted(api, client):
    """An EU tenant established in Ireland: the period ends 23:59:59 in Dublin, which is
    already the next day in Brussels; the page names the Dublin day."""
    _, owner = await create_tenant(
        api, slug="west", locales=["en"], jurisdictions=["EU"], mainEstablishment="IE"
    )
    await publish_policy(api, owner)
    page = await client.get("/t/west/privacy?lang=en")
    sent = await client.post(
        "/t/west/privacy/requests",
        data={"csrf": form_token(page.text), "type": "ACCESS", "email": "niamh@example.ie"},
    )
    verify_url = sent.headers["location"]
    request_id = re.search(r"/privacy/requests/([0-9a-f-]{36})", verify_url).group(1)
    code, _ = await mailed_code()
    form = await client.get(verify_url)
    done = await client.post(
        verify_url.split("?")[0], data={"csrf": form_token(form.text), "code": code, "lang": "en"}
    )
    seen = (await api(REQUEST, {"id": request_id}, token=owner))["data"]["subjectRequest"]
    due = datetime.fromisoformat(seen["dueAt"]).astimezone(ZoneInfo("Europe/Dublin")).date()
    later = datetime.fromisoformat(seen["dueAt"]).astimezone(ZoneInfo("Europe/Brussels")).date()
    assert later != due  # the case this test is about
    assert due.isoformat() in done.text and later.isoformat() not in done.text
