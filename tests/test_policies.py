"""Policies through GraphQL: drafts, publishing, negotiation, schedules, frozen versions."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import (
    CREATE_DRAFT,
    PUBLISH,
    create_draft,
    create_key,
    create_tenant,
    error_codes,
    publish,
)

PUBLISHED = """
query($site: String!, $locale: String, $version: Int, $kind: PolicyKind! = PRIVACY) {
  publishedPolicy(site: $site, kind: $kind, locale: $locale, version: $version) {
    site kind version locale availableLocales title body html contentHash
    effectiveAt publishedAt material changeSummary
    disclosures { dataCategories purposes { key legalBasis requiresConsent } rights minimumAge }
  }
}"""
UPDATE_DRAFT = """
mutation($id: ID!, $input: PolicyDraftInput!) {
  updatePolicyDraft(id: $id, input: $input) { policyVersion { id } userErrors { field code message } }
}"""
DISCLOSURES = {
    "controller": {
        "name": "Acme LLC",
        "email": "privacy@acme.example",
        "address": "Tashkent",
        "phone": "+998 71 200 00 00",
    },
    "dpo": {"name": "Dana", "email": "dpo@acme.example"},
    "dataCategories": ["user.contact.email", "user.device.ip_address"],
    "purposes": [
        {
            "key": "marketing.communications.email",
            "legalBasis": "CONSENT",
            "dataCategories": ["user.contact.email"],
        },
        {"key": "essential.service", "legalBasis": "CONTRACT"},
    ],
    "retention": [{"subject": "user.contact.email", "period": "P2Y"}],
    "recipients": [{"name": "Mailer Inc", "purpose": "email delivery", "country": "de"}],
    "transfers": [{"country": "DE", "safeguard": "Standard contractual clauses"}],
    "rights": ["ACCESS", "ERASURE", "PORTABILITY"],
    "minimumAge": 16,
    "complaintAuthority": "Personalization Agency",
}
EN_RU = [
    {"locale": "en", "title": "Privacy policy", "body": "# Privacy\n\nWe keep little."},
    {"locale": "ru", "title": "Политика", "body": "# Конфиденциальность\n\n1.1. Мы храним мало."},
]


async def published(client, site, *, headers=None, **variables):
    response = await client.post(
        "/graphql",
        json={"query": PUBLISHED, "variables": {"site": site, **variables}},
        headers=headers or {},
    )
    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body, body
    return body["data"]["publishedPolicy"]


@pytest.fixture
async def acme(api):
    _, owner = await create_tenant(api, slug="acme", locales=["ru"], domains=["acme.example"])
    return owner


async def test_publish_and_read_in_every_negotiated_locale(api, client, acme):
    draft = await create_draft(api, acme, translations=EN_RU, disclosures=DISCLOSURES)
    assert draft["status"] == "DRAFT" and draft["version"] is None
    purposes = draft["disclosures"]["purposes"]
    assert purposes[0]["requiresConsent"] is True and purposes[1]["requiresConsent"] is False
    assert draft["disclosures"]["recipients"][0]["country"] == "DE"
    version = await publish(api, acme, draft["id"])
    assert version["version"] == 1 and version["status"] == "PUBLISHED"

    assert (await published(client, "acme", locale="ru"))["locale"] == "ru"
    assert (await published(client, "acme", locale="ru-RU"))["locale"] == "ru"
    negotiated = await published(client, "acme", headers={"Accept-Language": "uz, ru;q=0.8"})
    assert negotiated["locale"] == "ru" and negotiated["title"] == "Политика"
    fallback = await published(client, "acme.example", locale="tlh")
    assert fallback["locale"] == "en" and fallback["title"] == "Privacy policy"
    assert fallback["availableLocales"] == ["en", "ru"]
    assert fallback["disclosures"]["rights"] == ["ACCESS", "ERASURE", "PORTABILITY"]
    assert fallback["disclosures"]["minimumAge"] == 16
    assert "<h1>Privacy</h1>" in fallback["html"]


async def test_scheduled_version_takes_over_on_time(api, client, acme):
    v1 = await publish(api, acme, (await create_draft(api, acme, translations=EN_RU))["id"])
    draft = await create_draft(
        api,
        acme,
        translations=[{"locale": "en", "title": "Privacy v2", "body": "We keep less."}],
        material=True,
        changeSummary="Shorter retention",
    )
    # Only the publish and one read must fit before `soon`; 3 s of room for a loaded
    # machine's stalls (the draft is made first, outside the window).
    soon = datetime.now(UTC) + timedelta(seconds=3)
    v2 = await publish(api, acme, draft["id"], effective_at=soon.isoformat())
    assert v2["version"] == 2 and v2["status"] == "PUBLISHED"

    before = await published(client, "acme")
    assert before["version"] == 1 and before["title"] == "Privacy policy"
    await asyncio.sleep(max(0.0, (soon - datetime.now(UTC)).total_seconds()) + 0.3)
    after = await published(client, "acme")
    assert after["version"] == 2 and after["material"] is True
    assert after["changeSummary"] == "Shorter retention"
    assert (await published(client, "acme", version=1))["title"] == "Privacy policy"
    assert await published(client, "acme", version=7) is None

    body = await api(
        "query($id: ID!) { policyVersion(id: $id) { status } }", {"id": v1["id"]}, token=acme
    )
    assert body["data"]["policyVersion"]["status"] == "SUPERSEDED"


async def test_published_versions_are_frozen(api, acme):
    version = await publish(api, acme, (await create_draft(api, acme))["id"])
    update = await api(
        UPDATE_DRAFT,
        {"id": version["id"], "input": {"kind": "PRIVACY", "translations": EN_RU}},
        token=acme,
    )
    assert [e["code"] for e in update["data"]["updatePolicyDraft"]["userErrors"]] == [
        "VERSION_FROZEN"
    ]
    again = await api(PUBLISH, {"id": version["id"]}, token=acme)
    assert [e["code"] for e in again["data"]["publishPolicyVersion"]["userErrors"]] == [
        "VERSION_FROZEN"
    ]
    body = await api(
        "query($id: ID!) { policyVersion(id: $id) { translations { body } } }",
        {"id": version["id"]},
        token=acme,
    )
    assert body["data"]["policyVersion"]["translations"] == [{"body": "We keep little."}]


async def test_drafts_can_change_until_published(api, acme):
    draft = await create_draft(api, acme)
    body = await api(
        UPDATE_DRAFT,
        {"id": draft["id"], "input": {"kind": "PRIVACY", "translations": EN_RU}},
        token=acme,
    )
    assert body["data"]["updatePolicyDraft"]["userErrors"] == []
    version = await publish(api, acme, draft["id"])
    assert [t["locale"] for t in version["translations"]] == ["en", "ru"]


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        (
            {"disclosures": {"dataCategories": ["user.contact.email", "user.bogus"]}},
            ["input", "disclosures", "dataCategories", "1"],
            "UNKNOWN_TAXONOMY_KEY",
        ),
        (
            {"disclosures": {"purposes": [{"key": "marketing.nope", "legalBasis": "CONSENT"}]}},
            ["input", "disclosures", "purposes", "0", "key"],
            "UNKNOWN_TAXONOMY_KEY",
        ),
        (
            {
                "disclosures": {
                    "retention": [{"subject": "user.contact.email", "period": "2 years"}]
                }
            },
            ["input", "disclosures", "retention", "0", "period"],
            "INVALID_DURATION",
        ),
        (
            {"disclosures": {"transfers": [{"country": "Germany", "safeguard": "SCC"}]}},
            ["input", "disclosures", "transfers", "0", "country"],
            "INVALID_COUNTRY",
        ),
        (
            {"disclosures": {"minimumAge": 99}},
            ["input", "disclosures", "minimumAge"],
            "INVALID",
        ),
        ({"translations": []}, ["input", "translations"], "REQUIRED"),
        (
            {"translations": [{"locale": "en", "title": "T", "body": "   "}]},
            ["input", "translations", "0", "body"],
            "REQUIRED",
        ),
        (
            {"translations": [{"locale": "???", "title": "T", "body": "B"}]},
            ["input", "translations", "0", "locale"],
            "INVALID_LOCALE",
        ),
        (
            {"translations": [EN_RU[0], {**EN_RU[0], "title": "again"}]},
            ["input", "translations", "1"],
            "DUPLICATE",
        ),
    ],
)
async def test_bad_drafts_are_refused_whole(api, acme, change, field, code):
    payload = {"kind": "PRIVACY", "translations": EN_RU, **change}
    body = await api(CREATE_DRAFT, {"input": payload}, token=acme)
    result = body["data"]["createPolicyDraft"]
    assert result["policyVersion"] is None
    assert [(e["field"], e["code"]) for e in result["userErrors"]] == [(field, code)]
    assert (
        "user.bogus" in str(result)
        or code != "UNKNOWN_TAXONOMY_KEY"
        or "marketing.nope" in str(result)
    )
    listed = await api(
        "{ policy(kind: PRIVACY) { versions { edges { node { id } } } } }", token=acme
    )
    assert listed["data"]["policy"] is None


async def test_a_new_draft_starts_from_the_disclosures_in_force(api, acme):
    await publish(api, acme, (await create_draft(api, acme, disclosures=DISCLOSURES))["id"])
    draft = await create_draft(api, acme)
    assert draft["disclosures"]["minimumAge"] == 16
    assert draft["disclosures"]["dataCategories"] == DISCLOSURES["dataCategories"]


async def test_publishing_needs_the_default_locale_and_keeps_order(api, acme):
    ru_only = await create_draft(api, acme, translations=[EN_RU[1]])
    body = await api(PUBLISH, {"id": ru_only["id"]}, token=acme)
    codes = [e["code"] for e in body["data"]["publishPolicyVersion"]["userErrors"]]
    assert codes == ["MISSING_DEFAULT_TRANSLATION"]

    later = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    await publish(api, acme, (await create_draft(api, acme))["id"], effective_at=later)
    earlier = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    body = await api(
        PUBLISH, {"id": (await create_draft(api, acme))["id"], "effectiveAt": earlier}, token=acme
    )
    codes = [e["code"] for e in body["data"]["publishPolicyVersion"]["userErrors"]]
    assert codes == ["INVALID_EFFECTIVE_AT"]


async def test_unknown_sites_and_kinds_answer_null(api, client, acme):
    await publish(api, acme, (await create_draft(api, acme))["id"])
    assert await published(client, "nobody.example") is None
    assert await published(client, "acme", kind="TERMS") is None
    rejected = await client.post(
        "/graphql",
        json={"query": PUBLISHED, "variables": {"site": "acme"}},
        headers={"Authorization": "Bearer pk_revoked"},
    )
    assert error_codes(rejected.json()) == ["UNAUTHENTICATED"]


async def test_hostile_bodies_render_inert(api, client, acme):
    hostile = (
        "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n"
        '[click](javascript:alert(1)) <a href="JaVaScRiPt:alert(1)">x</a>'
    )
    draft = await create_draft(
        api, acme, translations=[{"locale": "en", "title": "T", "body": hostile}]
    )
    await publish(api, acme, draft["id"])
    html = (await published(client, "acme"))["html"].lower()
    assert "<script" not in html and "onerror" not in html and "javascript:" not in html


async def test_diff_against_the_previous_version(api, acme):
    await publish(api, acme, (await create_draft(api, acme))["id"])
    draft = await create_draft(
        api, acme, translations=[{"locale": "en", "title": "T", "body": "We keep nothing."}]
    )
    body = await api(
        'query($id: ID!) { policyVersion(id: $id) { diff(locale: "en") } }',
        {"id": draft["id"]},
        token=acme,
    )
    diff = body["data"]["policyVersion"]["diff"]
    assert "-We keep little." in diff and "+We keep nothing." in diff


async def test_versions_page_with_translations_in_pinned_queries(api, acme, queries):
    for _ in range(3):
        await create_draft(api, acme, translations=EN_RU)
    document = """{ policy(kind: PRIVACY) {
        versions(first: 10) { edges { node { id translations { locale } } } pageInfo { hasNextPage } }
    } }"""
    queries.reset()
    body = await api(document, token=acme)
    assert len(body["data"]["policy"]["versions"]["edges"]) == 3
    # auth (key), policy exists, current version, versions page, its translations, timeline
    assert queries.count <= 6, queries.statements


async def test_publishable_keys_see_only_published_policies(api, acme):
    _, site_key = await create_key(api, acme, name="site", publishable=True)
    draft = await create_draft(api, acme)
    body = await api(
        "query($id: ID!) { policyVersion(id: $id) { id } }", {"id": draft["id"]}, token=site_key
    )
    assert error_codes(body) == ["FORBIDDEN"]
