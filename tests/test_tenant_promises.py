"""The first tenants' promises, walked end to end from outside (issue 15's last item).

Five tenants: the three whose real policies are in ../shared/corpus (Deepen, a mobile
app in Uzbekistan, in Uzbek; Flussonic, a video-streaming vendor in Kazakhstan, in
Russian; Influer, an SMM marketplace in Uzbekistan, in English), and two set up as the
README's quick start does, with policies written for this walk: a Kyrgyz online shop (ky,
ru) and an EU bookshop established in Germany (en, de). Everything goes through a real
`charter serve` over HTTP, as a SaaS customer's backend and its visitors' browsers would
(publishable key, the site's Origin), and every e-mail through a real `charter worker`
into a real SMTP server, where the person reads it. No test touches the database.

One test per promise per tenant; each cites the sentence of the policy it checks
(``Tenant.says``). What the policy leaves to the law, the rule table decides, and the
expected dates are counted here independently (the `holidays` calendars, by hand).
"""

# ruff: noqa: RUF001
from __future__ import annotations

import asyncio
import contextlib
import os
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import Message
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import httpx
import pytest

from tests import backends as tb
from tests.outbound import smtp_server
from tests.servers import CHARTER, serve, stop

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
if not CORPUS.is_dir():  # a worktree sits one level deeper than the main checkout
    CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"

KG_POLICY = {
    "ky": (
        "Купуялык саясаты",
        "1. Биз сиздин атыңызды, электрондук почтаңызды жана буйрутмаларыңызды иштетебиз.\n"
        "2. Маркетинг каттарын сиздин макулдугуңуз менен гана жиберебиз; каалаган убакта "
        "баш тарта аласыз.\n"
        "3. Маалыматтарыңызды өчүрүү боюнча өтүнүчтү мыйзамда белгиленген мөөнөттө "
        "аткарабыз.\n"
        "4. Так эмес маалыматтар текшерүү мезгилине бөгөттөлөт.\n"
        "5. Маалыматтар агып кеткен учурда ыйгарым укуктуу органга жана сизге кабарлайбыз.\n"
        "6. Саясат олуттуу өзгөргөндө сизге алдын ала кабарлайбыз.\n",
    ),
    "ru": (
        "Политика конфиденциальности",
        "1. Мы обрабатываем ваше имя, адрес электронной почты и заказы.\n"
        "2. Маркетинговые письма отправляем только с вашего согласия; отказаться можно в "
        "любой момент.\n"
        "3. Запрос на удаление данных выполняем в срок, установленный законом.\n"
        "4. Неточные данные блокируются на период проверки.\n"
        "5. При утечке данных мы уведомим уполномоченный орган и вас.\n"
        "6. О существенных изменениях политики мы сообщим вам заранее.\n",
    ),
}
EU_POLICY = {
    "en": (
        "Privacy policy",
        "1. We process your name, e-mail address and orders to deliver your books.\n"
        "2. We send newsletters only with your consent; you can unsubscribe at any time.\n"
        "3. You may ask for a copy of your data in a portable format, or for its erasure; "
        "we answer within one month.\n"
        "4. You may ask us to restrict processing while the accuracy of your data is "
        "checked; we tell you before the restriction is lifted.\n"
        "5. If a breach puts your data at risk, we notify the supervisory authority within "
        "72 hours and tell you without undue delay.\n"
        "6. We tell you of material changes to this policy before they take effect.\n",
    ),
    "de": (
        "Datenschutzerklärung",
        "1. Wir verarbeiten Ihren Namen, Ihre E-Mail-Adresse und Ihre Bestellungen.\n"
        "2. Newsletter senden wir nur mit Ihrer Einwilligung; Sie können sich jederzeit "
        "abmelden.\n"
        "3. Sie können eine Kopie Ihrer Daten in einem übertragbaren Format oder deren "
        "Löschung verlangen; wir antworten innerhalb eines Monats.\n"
        "4. Sie können die Einschränkung der Verarbeitung verlangen, solange die Richtigkeit "
        "Ihrer Daten geprüft wird.\n"
        "5. Bei einer Datenpanne melden wir sie binnen 72 Stunden der Aufsichtsbehörde.\n"
        "6. Über wesentliche Änderungen informieren wir Sie vorher.\n",
    ),
}


@dataclass(frozen=True)
class Tenant:
    slug: str
    name: str
    domain: str
    jurisdiction: str
    country: str  # whose calendar counts
    zone: str
    texts: dict[str, tuple[str, str]]  # locale -> (title, body), the first the default
    person_locale: tuple[str, str]  # what the person's browser sends -> what they read
    marketing: str  # the fideslang use of the marketing the policy describes
    says: dict[str, str]  # promise -> the sentence of the policy that promises it
    erasure_promise_days: int | None = None
    authority_clock: tuple[int, str] = (72, "HOURS")  # the rule table's first notice
    subjects_clock: bool = False  # a SUBJECTS clock opens for a HIGH risk breach
    establishment: str | None = None
    export_type: str = "ACCESS"

    @property
    def locales(self) -> list[str]:
        return list(self.texts)

    @property
    def seen_locale(self) -> str:
        """The language of the policy the person was shown: what a notice about it (a
        breach, a change) is written in, the request's own locale aside."""
        wanted = self.person_locale[1]
        return wanted if wanted in self.locales else self.locales[0]


def corpus(name: str, locale: str) -> dict[str, tuple[str, str]]:
    body = (CORPUS / name).read_text(encoding="utf-8")
    title = next(line.strip() for line in body.splitlines() if line.strip())
    return {locale: (title[:300], body)}


TENANTS = [
    Tenant(
        slug="deepen",
        name="Deepen",
        domain="deepen.uz",
        jurisdiction="UZ",
        country="UZ",
        zone="Asia/Tashkent",
        texts=corpus("deepen.uz.txt", "uz"),
        person_locale=("uz-UZ", "uz"),
        marketing="marketing.advertising.first_party.contextual",
        erasure_promise_days=14,
        says={
            "policy": "Ushbu maxfiylik siyosati faqat Deepen Dasturi uchun amal qiladi. (1.1.3)",
            "implied": "Dastur xizmatlaridan foydalanish foydalanuvchining ushbu siyosatga va "
            "unda ko‘rsatilgan shaxsiy ma’lumotlarini qayta ishlash shartlariga so‘zsiz "
            "roziligini anglatadi.",
            "consent": "2.2.5. Reklama faoliyatini amalga oshirish. / 3.1.1. Foydalanuvchining "
            "roziligi bilan Dastur quyidagi ma’lumotlarni oladi",
            "erasure": "6.2. Ma’muriyat uning yozma asoslantirilgan so‘rovini olgandan keyin 14 "
            "(o‘n to‘rt) kun ichida foydalanuvchi hisobini va tegishli shaxsiy ma’lumotlarni "
            "o‘chirib tashlaydi.",
            "export": "7.1.2. ... taqdim etilgan ma’lumotlarni yangilash, to‘ldirish, o‘chirish "
            "(the user's data, which they must be able to see: ZRU-547 access)",
            "restriction": "7.2.4. Noto‘g‘ri shaxsiy ma’lumotlar ... aniqlangan taqdirda ... "
            "tekshirish muddati uchun so‘ragan paytdan boshlab ... shaxsiy ma’lumotlarni "
            "bloklash.",
            "breach": "5.5. Shaxsiy ma’lumotlar yo‘qolgan yoki oshkor qilingan taqdirda, Dastur "
            "ma’muriyati foydalanuvchiga ... xabar beradi.",
            "change": "8.2. Yangi maxfiylik siyosati ... saytda joylashtirilgan paytdan boshlab "
            "kuchga kiradi.",
        },
    ),
    Tenant(
        slug="flussonic",
        name="Видеорешения",
        domain="flussonic.kz",
        jurisdiction="KZ",
        country="KZ",
        zone="Asia/Almaty",
        texts=corpus("flussonic-kz.ru.txt", "ru"),
        person_locale=("ru-KZ", "ru"),
        marketing="marketing.communications.email",
        authority_clock=(1, "WORKING_DAYS"),
        subjects_clock=True,
        says={
            "implied": "ИСПОЛЬЗУЯ СЕРВИС, ВЫ ДАЕТЕ СВОЕ СОГЛАСИЕ С ТЕМ, ЧТО ВЫ ПРОЧЛИ, ПОНЯЛИ И "
            "ПРИНИМАЕТЕ НАСТОЯЩУЮ ПОЛИТИКУ КОНФИДЕНЦИАЛЬНОСТИ.",
            "policy": "Настоящая Политика конфиденциальности («Политика») объясняет какие "
            "персональные данные собираются ... при использовании вами веб-сайта flussonic.kz",
            "consent": "2.4 ... Если вы не хотите получать от нас маркетинговые электронные "
            "письма, вы можете отказаться от подписки",
            "erasure": "3.2 Вы можете запросить удаление или блокирование ваших персональных "
            "данных",
            "export": "3.1 Вы можете запросить подтверждение факта, цели, источников, способов "
            "сбора и обработки персональных данных, перечень персональных данных",
            "restriction": "3.2 ... блокирование ваших персональных данных / 3.3 ... ограничить "
            "их использование",
            "breach": "(the law: 94-V, the authority within 1 working day of detection)",
            "change": "4. Если мы решим внести существенные изменения в настоящую Политику "
            "конфиденциальности, вы будете уведомлены об этом",
        },
    ),
    Tenant(
        slug="influer",
        name="INFLUENCER",
        domain="influer.uz",
        jurisdiction="UZ",
        country="UZ",
        zone="Asia/Tashkent",
        texts=corpus("influer-uz.en.txt", "en"),
        person_locale=("ru-UZ", "ru"),
        marketing="marketing.communications.email",
        says={
            "implied": "4.1. ... The User has expressed their consent to such actions, including "
            "cases where the User applies settings of the software used that do not limit the "
            "provision of certain information;",
            "policy": "The current version of the Policy is located on the Site on the Internet "
            "at https://influer.uz/pages/2-privacy-policy",
            "consent": "2.1.2. Information services, including mailing of advertising and "
            "informational materials;",
            "erasure": "(the policy is silent: ZRU-547, the rule table's 30 days)",
            "export": "1.3.1. Information that you provide about yourself using online forms "
            "... including name or phone number and/or email address.",
            "restriction": "(the policy is silent: ZRU-547 blocking, the rule table's rights)",
            "breach": "3.1. The Administration stores data and ensures its protection from "
            "unauthorized access and distribution",
            "change": "5.1. ... The new version of the Policy comes into force from the moment "
            "it is posted on the Site",
        },
    ),
    Tenant(
        slug="bazar-kg",
        name="Базар KG",
        domain="bazar.kg",
        jurisdiction="KG",
        country="KG",
        zone="Asia/Bishkek",
        texts=KG_POLICY,
        person_locale=("ky-KG", "ky"),
        marketing="marketing.communications.email",
        says={
            "policy": "1. Биз сиздин атыңызды, электрондук почтаңызды жана буйрутмаларыңызды "
            "иштетебиз.",
            "consent": "2. Маркетинг каттарын сиздин макулдугуңуз менен гана жиберебиз; каалаган "
            "убакта баш тарта аласыз.",
            "erasure": "3. Маалыматтарыңызды өчүрүү боюнча өтүнүчтү мыйзамда белгиленген "
            "мөөнөттө аткарабыз.",
            "export": "(Law 58 Art. 17: access within a week)",
            "restriction": "4. Так эмес маалыматтар текшерүү мезгилине бөгөттөлөт.",
            "breach": "5. Маалыматтар агып кеткен учурда ыйгарым укуктуу органга жана сизге "
            "кабарлайбыз.",
            "change": "6. Саясат олуттуу өзгөргөндө сизге алдын ала кабарлайбыз.",
        },
    ),
    Tenant(
        slug="lumen-books",
        name="Lumen Books GmbH",
        domain="lumen-books.de",
        jurisdiction="EU",
        country="DE",
        zone="Europe/Berlin",
        establishment="DE",
        texts=EU_POLICY,
        person_locale=("en-IE", "en"),
        marketing="marketing.communications.email",
        subjects_clock=True,
        export_type="PORTABILITY",
        says={
            "policy": "1. We process your name, e-mail address and orders to deliver your books.",
            "consent": "2. We send newsletters only with your consent; you can unsubscribe at "
            "any time.",
            "erasure": "3. You may ask for a copy of your data in a portable format, or for its "
            "erasure; we answer within one month.",
            "export": "3. You may ask for a copy of your data in a portable format",
            "restriction": "4. You may ask us to restrict processing while the accuracy of your "
            "data is checked; we tell you before the restriction is lifted.",
            "breach": "5. If a breach puts your data at risk, we notify the supervisory "
            "authority within 72 hours and tell you without undue delay.",
            "change": "6. We tell you of material changes to this policy before they take effect.",
        },
    ),
]
IDS = [tenant.slug for tenant in TENANTS]
# A "promise" parameter for each test names what it walks, so `-k erasure` picks them.
PURPOSES = ("essential.service", "analytics.reporting")


# --- the world: one server, one worker, one mailbox for the module ----------------------


@dataclass
class World:
    http: httpx.AsyncClient
    mailbox: object
    keys: dict[str, tuple[str, str]] = field(default_factory=dict)  # slug -> (owner, site)

    async def gql(
        self,
        query: str,
        variables: dict | None = None,
        *,
        token: str | None = None,
        headers: dict | None = None,
    ) -> dict:
        sent = {"Authorization": f"Bearer {token}"} if token else {}
        sent.update(headers or {})
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=sent
        )
        assert response.status_code == 200, response.text[:500]
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    async def mail_to(self, address: str, count: int, patience: float = 45.0) -> list[Message]:
        """The first ``count`` messages the person received, waiting for the worker."""
        deadline = time.monotonic() + patience
        while True:
            mine = [m for m in self.mailbox.received() if m["To"] == address]
            if len(mine) >= count or time.monotonic() > deadline:
                assert len(mine) >= count, f"{address} got {len(mine)} of {count} messages"
                return mine[:count]
            await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def worker(settings, smtp_port: int):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARTER_")}
    env.update(tb.environment(tb.BACKEND, str(settings.data_dir), settings.database_url))
    env.update(CHARTER_SMTP_HOST="127.0.0.1", CHARTER_SMTP_PORT=str(smtp_port))
    log = open(settings.data_dir / "promises-worker.log", "wb")  # noqa: SIM115, ASYNC230
    process = await asyncio.create_subprocess_exec(
        CHARTER, "worker", env=env, stdout=log, stderr=log
    )
    try:
        yield
    finally:
        await stop(process)
        log.close()


@pytest.fixture(scope="module")
async def world(settings):
    with smtp_server() as (port, mailbox):
        async with serve(settings) as http, worker(settings, port):
            yield World(http=http, mailbox=mailbox)


# --- GraphQL the tenant's backend and its visitors send ---------------------------------

CREATE_TENANT = """mutation($input: CreateTenantInput!) {
  createTenant(input: $input) { ownerKey userErrors { field code message } } }"""
UPDATE_TENANT = """mutation($input: UpdateTenantInput!) {
  updateTenant(input: $input) { userErrors { field code message } } }"""
CREATE_KEY = """mutation($input: CreateApiKeyInput!) {
  createApiKey(input: $input) { secret userErrors { code } } }"""
DRAFT = """mutation($input: PolicyDraftInput!) {
  createPolicyDraft(input: $input) { policyVersion { id } userErrors { field code message } } }"""
PUBLISH = """mutation($id: ID!) {
  publishPolicyVersion(id: $id) { policyVersion { version } userErrors { code message } } }"""
PUBLISHED = """query($site: String!, $locale: String) {
  publishedPolicy(site: $site, locale: $locale) {
    version locale availableLocales title body html contentHash } }"""
RECORD = """mutation($input: ConsentInput!) {
  recordConsent(input: $input) {
    receipt { id locale decisions { purpose granted method } kantara }
    userErrors { field code message } } }"""
STATE = """query($s: String!) {
  consentState(subjectId: $s) { purpose granted method restricted stale } }"""
HISTORY = """query($s: String!) {
  consentHistory(subjectId: $s) { edges { node { processing decisions { purpose granted } } } } }"""
VERIFY_LEDGER = "{ verifyConsentLedger { ok } }"
REQUEST_FIELDS = "id type status locale receivedAt dueAt identityProof export"
SUBMIT = f"""mutation($input: SubjectRequestInput!) {{
  submitSubjectRequest(input: $input) {{
    subjectRequest {{ {REQUEST_FIELDS} }} userErrors {{ field code message }} }} }}"""
VERIFY = f"""mutation($id: ID!, $token: String!) {{
  verifySubjectRequest(id: $id, token: $token) {{
    subjectRequest {{ {REQUEST_FIELDS} }} userErrors {{ field code message }} }} }}"""
UPDATE = f"""mutation($id: ID!, $action: RequestAction!, $note: String) {{
  updateSubjectRequest(id: $id, action: $action, note: $note) {{
    subjectRequest {{ {REQUEST_FIELDS} }} userErrors {{ field code message }} }} }}"""
LIFT = """mutation($s: String!, $note: String) {
  liftRestriction(subjectId: $s, note: $note) {
    receipt { processing } personTold userErrors { code } } }"""
REPORT = """mutation($input: BreachInput!) {
  reportBreach(input: $input) {
    breach { id clocks { jurisdiction kind startedAt dueAt satisfiedAt overdue } }
    userErrors { field code message } } }"""
NOTIFIED = """mutation($id: ID!, $j: String!, $at: DateTime!) {
  recordAuthorityNotification(breachId: $id, jurisdiction: $j, kind: AUTHORITY_INITIAL,
                              notifiedAt: $at, reference: "REF-1") {
    breach { clocks { kind dueAt satisfiedAt reference overdue } } userErrors { code } } }"""
NOTIFY = """mutation($id: ID!, $input: BreachNoticeInput!) {
  notifyBreachSubjects(breachId: $id, input: $input) {
    queued breach { clocks { kind satisfiedAt } } userErrors { field code message } } }"""


async def tenant_keys(world: World, tenant: Tenant) -> tuple[str, str]:
    """The tenant as its admin sets it up (once per module): the README's quick start,
    then its policy, its promises, a publishable key for its site."""
    if tenant.slug in world.keys:
        return world.keys[tenant.slug]
    created = (
        await world.gql(
            CREATE_TENANT,
            {
                "input": {
                    "slug": tenant.slug,
                    "name": tenant.name,
                    "defaultLocale": tenant.locales[0],
                    "locales": tenant.locales,
                    "jurisdictions": [tenant.jurisdiction],
                    "domains": [tenant.domain],
                    "mainEstablishment": tenant.establishment,
                }
            },
            token=tb.ADMIN_TOKEN,
        )
    )["createTenant"]
    assert created["userErrors"] == [], created
    owner = created["ownerKey"]
    if tenant.erasure_promise_days:
        promises = [{"requestType": "ERASURE", "days": tenant.erasure_promise_days}]
        updated = await world.gql(UPDATE_TENANT, {"input": {"promises": promises}}, token=owner)
        assert updated["updateTenant"]["userErrors"] == []
    await publish(world, owner, tenant, version_note=None)
    key = await world.gql(CREATE_KEY, {"input": {"name": "site", "publishable": True}}, token=owner)
    world.keys[tenant.slug] = (owner, key["createApiKey"]["secret"])
    return world.keys[tenant.slug]


async def publish(world: World, owner: str, tenant: Tenant, version_note: str | None) -> int:
    translations = [
        {"locale": locale, "title": title, "body": body if not version_note else body + "\n\n"
         + version_note}
        for locale, (title, body) in tenant.texts.items()
    ]  # fmt: skip
    disclosures = {
        "controller": {
            "name": tenant.name,
            "email": f"privacy@{tenant.domain}",
            "address": tenant.zone.split("/")[1],
            "phone": "+000 00 000 00 00",
        },
        "purposes": [
            {"key": "essential.service", "legalBasis": "CONTRACT"},
            {"key": "analytics.reporting", "legalBasis": "CONSENT"},
            {
                "key": tenant.marketing,
                "legalBasis": "CONSENT",
                "dataCategories": ["user.contact.email"],
            },
        ],
    }
    draft_input = {"kind": "PRIVACY", "translations": translations, "disclosures": disclosures}
    if version_note:
        draft_input.update(material=True, changeSummary=version_note)
    draft = (await world.gql(DRAFT, {"input": draft_input}, token=owner))["createPolicyDraft"]
    assert draft["userErrors"] == [], draft
    done = await world.gql(PUBLISH, {"id": draft["policyVersion"]["id"]}, token=owner)
    assert done["publishPolicyVersion"]["userErrors"] == [], done
    return done["publishPolicyVersion"]["policyVersion"]["version"]


def browser(tenant: Tenant) -> dict[str, str]:
    """What a visitor's browser sends from the tenant's site."""
    return {"Origin": f"https://{tenant.domain}", "Accept-Language": tenant.person_locale[0]}


async def consents(world, tenant, token, subject, *, email=None, marketing=True, headers=None):
    decisions = [{"purpose": p, "granted": True} for p in PURPOSES if p != "essential.service"]
    decisions.append({"purpose": tenant.marketing, "granted": marketing})
    item = {"subjectId": subject, "method": "BANNER", "decisions": decisions}
    if email:
        item["email"] = email
    result = (await world.gql(RECORD, {"input": item}, token=token, headers=headers))[
        "recordConsent"
    ]
    assert result["userErrors"] == [], result
    return result["receipt"]


def code_in(message: Message) -> str:
    html = message.get_body(("html",)).get_content()
    return re.search(r"<strong>([A-Z0-9]{10})</strong>", html).group(1)


async def verified_request(world, tenant, kind: str, subject: str, address: str) -> dict:
    """The person asks from the privacy center (publishable key, their browser), reads
    the code in their inbox, and enters it."""
    _, site = await tenant_keys(world, tenant)
    already = len([m for m in world.mailbox.received() if m["To"] == address])
    submitted = (
        await world.gql(
            SUBMIT,
            {"input": {"type": kind, "subjectId": subject, "email": address,
                       "locale": tenant.person_locale[0]}},
            token=site,
            headers=browser(tenant),
        )
    )["submitSubjectRequest"]  # fmt: skip
    assert submitted["userErrors"] == [], submitted
    request = submitted["subjectRequest"]
    mail = (await world.mail_to(address, already + 1))[-1]
    assert mail["Content-Language"] == tenant.person_locale[1], mail["Content-Language"]
    done = (
        await world.gql(
            VERIFY, {"id": request["id"], "token": code_in(mail)}, token=site,
            headers=browser(tenant),
        )
    )["verifySubjectRequest"]  # fmt: skip
    assert done["userErrors"] == [], done
    assert done["subjectRequest"]["status"] == "RECEIVED"
    # The tenant's backend gave this address for the subject: the e-mail proves them.
    assert done["subjectRequest"]["identityProof"] == "CONTACT"
    return done["subjectRequest"]


async def act(world, owner, request_id, action, note=None) -> dict:
    result = (
        await world.gql(UPDATE, {"id": request_id, "action": action, "note": note}, token=owner)
    )["updateSubjectRequest"]
    assert result["userErrors"] == [], result
    return result["subjectRequest"]


def calendar(tenant: Tenant) -> holidays.HolidayBase:
    return holidays.country_holidays(tenant.country)


def rolled(day: date, off: holidays.HolidayBase) -> date:
    while day.weekday() >= 5 or day in off:
        day += timedelta(days=1)
    return day


def plus_month(day: date) -> date:
    year, month = divmod(day.month, 12)
    following = date(day.year + year, month + 1, 1)
    last = (following.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return following.replace(day=min(day.day, last.day))


def expected_erasure_day(tenant: Tenant, received: date) -> date:
    """Counted by hand from the rule table's figure and the country's calendar."""
    off = calendar(tenant)
    statutory = {
        "UZ": rolled(received + timedelta(days=30), off),  # 30 DAYS, rolls
        "KG": rolled(received + timedelta(days=7), off),  # 7 DAYS, rolls
        "EU": rolled(plus_month(received), off),  # 1 MONTH, rolls (member state's days)
    }.get(tenant.jurisdiction)
    if tenant.jurisdiction == "KZ":  # 3 WORKING_DAYS: already a working day
        day, left = received, 3
        while left:
            day += timedelta(days=1)
            if day.weekday() < 5 and day not in off:
                left -= 1
        statutory = day
    if tenant.erasure_promise_days:  # the tenant's own promise never rolls
        return min(statutory, received + timedelta(days=tenant.erasure_promise_days))
    return statutory


def local(instant: str, tenant: Tenant) -> datetime:
    return datetime.fromisoformat(instant).astimezone(ZoneInfo(tenant.zone))


def text_of(message: Message) -> str:
    return message.get_body(("plain",)).get_content()


def address_for(tenant: Tenant, promise: str) -> str:
    return f"{promise}.{tenant.slug}@people.example"


# --- the promises --------------------------------------------------------------------


@pytest.mark.parametrize("tenant", TENANTS, ids=IDS)
async def test_policy_published_in_its_languages_and_served_by_locale(world, tenant):
    """says["policy"]: the text the tenant wrote is what its visitors read, byte for byte,
    in each of its languages, negotiated from what their browser asks for."""
    await tenant_keys(world, tenant)
    for locale, (title, body) in tenant.texts.items():
        for asked in (locale, f"{locale}-{tenant.country}"):
            shown = (await world.gql(PUBLISHED, {"site": tenant.domain, "locale": asked}))[
                "publishedPolicy"
            ]
            assert shown["locale"] == locale, (asked, shown["locale"])
            assert shown["body"] == body and shown["title"] == title
            assert sorted(shown["availableLocales"]) == sorted(tenant.locales)
        # Through the browser's Accept-Language alone, from www. as from the domain.
        shown = (
            await world.gql(
                PUBLISHED,
                {"site": f"www.{tenant.domain}"},
                headers={"Accept-Language": f"{locale}-{tenant.country},fr;q=0.5"},
            )
        )["publishedPolicy"]
        assert shown["locale"] == locale and shown["body"] == body
    first_clause = next(
        line.strip() for line in tenant.texts[tenant.locales[0]][1].splitlines()[3:] if line.strip()
    )
    default = (await world.gql(PUBLISHED, {"site": tenant.domain, "locale": "fr-FR"}))[
        "publishedPolicy"
    ]
    assert default["locale"] == tenant.locales[0]  # an unknown language: the default
    assert first_clause.split()[-1].rstrip(".;:") in default["html"]
    assert "<script" not in default["html"]


@pytest.mark.parametrize("tenant", TENANTS, ids=IDS)
async def test_consent_recorded_and_marketing_opt_out_honoured(world, tenant):
    """says["consent"]: the visitor's choice is recorded against the version and language
    they saw; saying no to marketing later is what the state says from then on."""
    owner, site = await tenant_keys(world, tenant)
    subject = f"visitor-{tenant.slug}"
    first = await consents(world, tenant, site, subject, headers=browser(tenant))
    assert first["locale"] == tenant.seen_locale
    assert first["kantara"]["policyUrl"] and first["kantara"]["piiControllers"]
    before = {
        d["purpose"]: d["granted"]
        for d in (await world.gql(STATE, {"s": subject}, token=owner))["consentState"]
    }
    assert before[tenant.marketing] is True
    await consents(world, tenant, site, subject, marketing=False, headers=browser(tenant))
    state = (await world.gql(STATE, {"s": subject}, token=owner))["consentState"]
    shown = {d["purpose"]: d["granted"] for d in state}
    assert shown[tenant.marketing] is False  # the opt-out holds
    assert shown["analytics.reporting"] is True  # and nothing else changed
    # Another site's key cannot write this tenant's ledger from a browser elsewhere.
    refused = await world.http.post(
        "/graphql",
        json={"query": RECORD, "variables": {"input": {
            "subjectId": subject, "method": "BANNER",
            "decisions": [{"purpose": tenant.marketing, "granted": True}]}}},
        headers={"Authorization": f"Bearer {site}", "Origin": "https://evil.example"},
    )  # fmt: skip
    assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    state = (await world.gql(STATE, {"s": subject}, token=owner))["consentState"]
    assert {d["purpose"]: d["granted"] for d in state}[tenant.marketing] is False
    assert (await world.gql(VERIFY_LEDGER, token=owner))["verifyConsentLedger"]["ok"]


IMPLYING = [tenant for tenant in TENANTS if "implied" in tenant.says]


@pytest.mark.parametrize("tenant", IMPLYING, ids=[tenant.slug for tenant in IMPLYING])
async def test_use_of_the_service_is_not_taken_for_consent(world, tenant):
    """says["implied"]: the policy claims that using the service is consent. The rule
    table says otherwise for UZ and KZ (consent.implied = false: an affirmative act), so
    Charter records no "yes" that way, by any entry point, and says why; a "no" and an
    affirmative choice are recorded as ever."""
    owner, site = await tenant_keys(world, tenant)
    subject = f"browsing-{tenant.slug}"
    item = {"subjectId": subject, "method": "IMPLIED",
            "decisions": [{"purpose": "analytics.reporting", "granted": True}]}  # fmt: skip
    for token, headers in ((site, browser(tenant)), (owner, None)):
        refused = (await world.gql(RECORD, {"input": item}, token=token, headers=headers))[
            "recordConsent"
        ]
        assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [
            (["input", "method"], "IMPLIED_CONSENT_NOT_ALLOWED")
        ]
    batch = await world.gql(
        "mutation($i: [ConsentInput!]!) { recordConsents(inputs: $i) { recorded "
        "userErrors { field code } } }",
        {"i": [item]},
        token=owner,
    )
    assert batch["recordConsents"]["recorded"] == 0
    assert [e["code"] for e in batch["recordConsents"]["userErrors"]] == [
        "IMPLIED_CONSENT_NOT_ALLOWED"
    ]
    assert (await world.gql(STATE, {"s": subject}, token=owner))["consentState"] == []
    await consents(world, tenant, site, subject, headers=browser(tenant))  # a real choice
    state = (await world.gql(STATE, {"s": subject}, token=owner))["consentState"]
    assert {d["method"] for d in state} == {"BANNER"}


@pytest.mark.parametrize("tenant", TENANTS, ids=IDS)
async def test_erasure_on_time_and_the_person_told_in_their_locale(world, tenant):
    """says["erasure"]: due by the rule table (or the tenant's shorter promise), counted in
    the tenant's zone and calendar; the person is told when it is done, in their language,
    and nothing of them is left to read."""
    owner, _ = await tenant_keys(world, tenant)
    subject, address = f"erase-{tenant.slug}", address_for(tenant, "erasure")
    await consents(world, tenant, owner, subject, email=address)  # the tenant's backend
    request = await verified_request(world, tenant, "ERASURE", subject, address)
    received = local(request["receivedAt"], tenant).date()
    due = local(request["dueAt"], tenant)
    assert due.date() == expected_erasure_day(tenant, received), (received, due)
    assert (due.hour, due.minute, due.second) == (23, 59, 59)
    await act(world, owner, request["id"], "START")
    done = await act(world, owner, request["id"], "COMPLETE", "Deleted.")
    assert done["status"] == "COMPLETED"
    [_, told] = await world.mail_to(address, 2)
    assert told["Content-Language"] == tenant.person_locale[1]
    assert tenant.name in text_of(told)
    assert (await world.gql(STATE, {"s": subject}, token=owner))["consentState"] == []
    assert (await world.gql(VERIFY_LEDGER, token=owner))["verifyConsentLedger"]["ok"]


@pytest.mark.parametrize("tenant", TENANTS, ids=IDS)
async def test_access_or_portability_export(world, tenant):
    """says["export"]: the person gets what Charter holds on them (through the tenant,
    never by e-mail), as a structured document."""
    owner, _ = await tenant_keys(world, tenant)
    subject, address = f"copy-{tenant.slug}", address_for(tenant, "export")
    await consents(world, tenant, owner, subject, email=address)
    request = await verified_request(world, tenant, tenant.export_type, subject, address)
    done = await act(world, owner, request["id"], "COMPLETE", "See Account › Privacy.")
    document = done["export"]
    assert document["format"] == "charter.subject-export/1"
    assert document["subject"]["ids"] == [subject]
    assert [d["purpose"] for d in document["consent"]["history"][0]["decisions"]]
    [_, told] = await world.mail_to(address, 2)
    assert told["Content-Language"] == tenant.person_locale[1]
    assert "analytics.reporting" not in text_of(told)  # the copy is not in the e-mail


@pytest.mark.parametrize("tenant", TENANTS, ids=IDS)
async def test_restriction_of_inaccurate_data_and_its_lifting(world, tenant):
    """says["restriction"]: blocked for the verification period (storage only, whatever
    was granted), the person told before it is lifted, then processing as before."""
    owner, _ = await tenant_keys(world, tenant)
    subject, address = f"block-{tenant.slug}", address_for(tenant, "restriction")
    await consents(world, tenant, owner, subject, email=address)
    request = await verified_request(world, tenant, "RESTRICTION", subject, address)
    # Blocked from the moment of the request, before staff act on it.
    state = (await world.gql(STATE, {"s": subject}, token=owner))["consentState"]
    assert state and all(d["restricted"] for d in state)
    await act(world, owner, request["id"], "COMPLETE", "Blocked while we check your data.")
    state = (await world.gql(STATE, {"s": subject}, token=owner))["consentState"]
    assert state and all(d["restricted"] for d in state)
    assert {d["purpose"]: d["granted"] for d in state}["analytics.reporting"] is True
    lifted = (await world.gql(LIFT, {"s": subject, "note": "Your data was checked."}, token=owner))[
        "liftRestriction"
    ]
    assert lifted["userErrors"] == [] and lifted["personTold"] is True
    # The code, the completion and the lifting (the worker sends several at once, so
    # they may arrive in any order).
    mails = await world.mail_to(address, 3)
    [told] = [mail for mail in mails if "Your data was checked." in text_of(mail)]
    assert told["Content-Language"] == tenant.person_locale[1]
    state = (await world.gql(STATE, {"s": subject}, token=owner))["consentState"]
    assert not any(d["restricted"] for d in state)
    history = (await world.gql(HISTORY, {"s": subject}, token=owner))["consentHistory"]
    assert [e["node"]["processing"] for e in history["edges"] if e["node"]["processing"]] == [
        "RESTRICTION_LIFTED",
        "RESTRICTED",
    ]


@pytest.mark.parametrize("tenant", TENANTS, ids=IDS)
async def test_breach_notified_to_the_authority_and_the_people_on_the_clock(world, tenant):
    """says["breach"]: the authority's clock runs by the law's figure from the event it
    names; the people hear of it in their language; meeting each clock is recorded."""
    owner, _ = await tenant_keys(world, tenant)
    subject, address = f"leak-{tenant.slug}", address_for(tenant, "breach")
    await consents(world, tenant, owner, subject, email=address)
    detected = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    reported = (
        await world.gql(
            REPORT,
            {"input": {"title": "Leak", "risk": "HIGH", "detectedAt": detected.isoformat(),
                       "nature": "A backup was exposed", "approxSubjects": 10}},
            token=owner,
        )
    )["reportBreach"]  # fmt: skip
    assert reported["userErrors"] == [], reported
    breach = reported["breach"]
    clocks = {c["kind"]: c for c in breach["clocks"]}
    authority = clocks["AUTHORITY_INITIAL"]
    assert authority["jurisdiction"] == tenant.jurisdiction
    due = datetime.fromisoformat(authority["dueAt"])
    amount, unit = tenant.authority_clock
    if unit == "HOURS":
        assert due == detected + timedelta(hours=amount)  # exact, never rolled
    else:  # the next working day, same local time
        start = detected.astimezone(ZoneInfo(tenant.zone))
        day = start.date() + timedelta(days=1)
        day = rolled(day, calendar(tenant))
        assert due.astimezone(ZoneInfo(tenant.zone)).date() == day
        assert due.astimezone(ZoneInfo(tenant.zone)).time() == start.time()
    assert ("SUBJECTS" in clocks) is tenant.subjects_clock
    met = (
        await world.gql(NOTIFIED, {"id": breach["id"], "j": tenant.jurisdiction,
                                   "at": datetime.now(UTC).isoformat()}, token=owner)
    )["recordAuthorityNotification"]  # fmt: skip
    met_clock = next(c for c in met["breach"]["clocks"] if c["kind"] == "AUTHORITY_INITIAL")
    assert met_clock["satisfiedAt"] and met_clock["reference"] == "REF-1"
    assert not met_clock["overdue"]
    words = {locale: f"[{locale}] {tenant.name}: a backup was exposed" for locale in
             {*tenant.locales, "en", tenant.person_locale[1]}}  # fmt: skip
    message = [{"locale": loc, "title": "Leak", "body": body} for loc, body in words.items()]
    notified = (
        await world.gql(
            NOTIFY, {"id": breach["id"], "input": {"subjectIds": [subject], "message": message}},
            token=owner,
        )
    )["notifyBreachSubjects"]  # fmt: skip
    assert notified["userErrors"] == [] and notified["queued"] == 1
    if tenant.subjects_clock:
        subjects = next(c for c in notified["breach"]["clocks"] if c["kind"] == "SUBJECTS")
        assert subjects["satisfiedAt"]
    [told] = await world.mail_to(address, 1)
    assert told["Content-Language"] == tenant.seen_locale
    assert words[tenant.seen_locale] in text_of(told), text_of(told)


@pytest.mark.parametrize("tenant", TENANTS, ids=IDS)
async def test_material_change_noticed_to_subscribers(world, tenant):
    """says["change"]: a material version in force tells everyone who consented under the
    earlier one, in their language, with what changes."""
    owner, _ = await tenant_keys(world, tenant)
    subject, address = f"reader-{tenant.slug}", address_for(tenant, "change")
    await consents(world, tenant, owner, subject, email=address, headers=browser(tenant))
    summary = f"{tenant.name}: we now also keep order logs for 3 years."
    version = await publish(world, owner, tenant, version_note=summary)
    [told] = await world.mail_to(address, 1)
    assert told["Content-Language"] == tenant.seen_locale
    assert summary in text_of(told) and tenant.name in text_of(told)
    shown = (await world.gql(PUBLISHED, {"site": tenant.domain}))["publishedPolicy"]
    assert shown["version"] == version
    state = (await world.gql(STATE, {"s": subject}, token=owner))["consentState"]
    assert {d["purpose"]: d["stale"] for d in state}["analytics.reporting"] is True
