"""A tenant's branding through GraphQL, and what the consent banner reads with a
published policy: categories, words in the visitor's language, colours, when to ask again."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tenants.branding import colors as palette
from tenants.branding.texts import CATALOGUES, KEYS
from tests.factories import create_draft, create_key, create_tenant, error_codes, publish

UPDATE = """mutation($input: BrandingInput!) {
  updateBranding(input: $input) {
    branding { colors { background text accent accentText } logoUrl consentModel
               consentModelInForce texts { locale key text } }
    userErrors { field code message }
  }
}"""
BANNER = """query($site: String!, $locale: String) {
  publishedPolicy(site: $site, locale: $locale) {
    version locale
    banner { locale consentModel gpcBinding materialVersion privacyCenterUrl texts
             colors { background text accent accentText }
             categories { key name description required
                          purposes { key name description legalBasis requiresConsent gpcOptOut } } }
    history { version material changeSummary effectiveAt }
  }
}"""
CONTROLLER = {
    "name": "Shop LLC",
    "email": "privacy@shop.example",
    "address": "Tashkent",
    "phone": "+998 71 200 00 00",
}
PURPOSES = [
    {"key": "essential.service", "legalBasis": "CONTRACT"},
    {"key": "analytics.reporting", "legalBasis": "CONSENT", "description": "Visit counts"},
    {"key": "marketing.advertising.third_party.targeted", "legalBasis": "CONSENT"},
    {"key": "functional.storage.privacy_preferences", "legalBasis": "LEGITIMATE_INTERESTS"},
]


async def publish_policy(api, owner, *, material=False, summary=None, effective_at=None):
    draft = await create_draft(
        api,
        owner,
        translations=[
            {"locale": "en", "title": "Privacy", "body": "Text."},
            {"locale": "ru", "title": "Политика", "body": "Текст."},
        ],
        disclosures={"purposes": PURPOSES, "controller": CONTROLLER},
        material=material,
        changeSummary=summary,
    )
    return await publish(api, owner, draft["id"], effective_at)


@pytest.fixture
async def shop(api):
    _, owner = await create_tenant(
        api, slug="shop", locales=["ru"], jurisdictions=["US-CA"], domains=["shop.example"]
    )
    await publish_policy(api, owner)
    return owner


async def update(api, token, **input_):
    body = await api(UPDATE, {"input": input_}, token=token)
    assert "errors" not in body, body
    return body["data"]["updateBranding"]


async def test_colours_logo_and_texts_are_set_and_read_back(api, shop):
    result = await update(
        api,
        shop,
        colors={"accent": "#075", "accentText": "#FFF"},
        logoUrl="https://cdn.shop.example/logo.svg",
        texts=[{"locale": "ru", "key": "banner.title", "text": "Ваши настройки"}],
    )
    assert result["userErrors"] == []
    branding = result["branding"]
    assert branding["colors"] == {
        "background": "#ffffff",
        "text": "#1b1f24",
        "accent": "#007755",
        "accentText": "#ffffff",
    }
    assert branding["logoUrl"] == "https://cdn.shop.example/logo.svg"
    assert branding["texts"] == [{"locale": "ru", "key": "banner.title", "text": "Ваши настройки"}]
    read = await api("{ branding { colors { accent } logoUrl } }", token=shop)
    assert read["data"]["branding"] == {
        "colors": {"accent": "#007755"},
        "logoUrl": "https://cdn.shop.example/logo.svg",
    }
    audit = await api("{ auditLog { edges { node { action } } } }", token=shop)
    assert "tenant.branding" in [e["node"]["action"] for e in audit["data"]["auditLog"]["edges"]]


async def test_every_problem_at_once_and_nothing_written(api, shop):
    result = await update(
        api,
        shop,
        colors={"text": "#777777", "accent": "blue"},
        logoUrl="javascript:alert(1)",
        texts=[
            {"locale": "ru", "key": "banner.nonsense", "text": "x"},
            {"locale": "not a locale!", "key": "banner.title", "text": "x"},
            {"locale": "en", "key": "banner.title", "text": "   "},
        ],
    )
    codes = {(tuple(e["field"]), e["code"]) for e in result["userErrors"]}
    assert (("input", "colors", "accent"), "INVALID_COLOR") in codes
    assert (("input", "logoUrl"), "INVALID_URL") in codes
    assert (("input", "texts", "0", "key"), "INVALID") in codes
    assert (("input", "texts", "1", "locale"), "INVALID_LOCALE") in codes
    assert (("input", "texts", "2", "text"), "REQUIRED") in codes
    assert result["branding"] is None
    read = await api("{ branding { colors { text } logoUrl texts { key } } }", token=shop)
    assert read["data"]["branding"] == {"colors": {"text": "#1b1f24"}, "logoUrl": None, "texts": []}


@pytest.mark.parametrize(
    ("colors", "field"),
    [
        # WCAG's own boundary: #767676 on white is 4.54:1 (passes), #777777 is 4.48:1.
        ({"text": "#777777"}, "text"),
        ({"accent": "#1d4ed8", "accentText": "#3b82f6"}, "accentText"),
        # A white button on a white page has no visible boundary (SC 1.4.11: 3:1).
        ({"accent": "#fafafa", "accentText": "#000000"}, "accent"),
    ],
)
async def test_low_contrast_is_refused(api, shop, colors, field):
    result = await update(api, shop, colors=colors)
    assert [(e["field"], e["code"]) for e in result["userErrors"]] == [
        (["input", "colors", field], "LOW_CONTRAST")
    ]


async def test_the_wcag_boundary_passes(api, shop):
    assert (await update(api, shop, colors={"text": "#767676"}))["userErrors"] == []


@pytest.mark.parametrize(
    "url",
    [
        "http://shop.example/logo.png",
        "https://user:pw@shop.example/logo.png",
        "https://127.0.0.1/logo.png",
        "data:image/png;base64,AAAA",
        "https:///logo.png",
        "https://" + "a" * 2050 + ".example/x.png",
        # The logo's origin goes into the privacy center's CSP header: a "port" that is
        # not a port would write directives of its own there.
        "https://cdn.example:1;script-src 'unsafe-inline' */logo.png",
        "https://cdn.example:443 'unsafe-inline'/logo.png",
        "https://cdn.example:1,script-src/logo.png",
        "https://cdn.example:99999/logo.png",
        "https://cdn.example:1\r\nSet-Cookie: a=b/logo.png",
        "https://cdn.example\t/logo.png",  # urlsplit drops tabs and line breaks unseen
        "https://[cdn.example/logo.png",  # urlsplit raises on an unclosed bracket
        "https://[::1",
    ],
)
async def test_logo_must_be_https_on_a_host_name(api, shop, url):
    result = await update(api, shop, logoUrl=url)
    assert [e["code"] for e in result["userErrors"]] == ["INVALID_URL"]


async def test_the_logos_origin_is_one_csp_source(api, client, shop):
    """The privacy center's CSP names the logo's origin, scheme://host[:port], and nothing
    else of what the tenant typed."""
    result = await update(api, shop, logoUrl="https://cdn.shop.example:8443/a;b%20c/logo.svg")
    assert result["userErrors"] == []
    page = await client.get("/t/shop/privacy")
    policy = page.headers["content-security-policy"]
    assert "img-src 'self' https://cdn.shop.example:8443;" in policy, policy
    assert policy.count(";") == 5, policy
    # A Unicode host is a host all the same; the header names it as DNS does.
    result = await update(api, shop, logoUrl="https://сайт.example/logo.svg")
    assert result["branding"]["logoUrl"] == "https://xn--80aswg.example/logo.svg"
    page = await client.get("/t/shop/privacy")
    assert page.status_code == 200
    assert "img-src 'self' https://xn--80aswg.example;" in page.headers["content-security-policy"]


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(value=st.text(max_size=12))
def test_any_colour_text_is_a_colour_or_refused(value):
    """The parser never crashes; what it accepts is exactly a 3- or 6-digit hex colour."""
    found = palette.normalise(value)
    stripped = value.strip()
    hexdigits = set("0123456789abcdefABCDEF")
    valid = (
        stripped.startswith("#")
        and len(stripped) in (4, 7)
        and all(ch in hexdigits for ch in stripped[1:])
    )
    assert (found is not None) == valid
    if found is not None:
        assert len(found) == 7 and 1.0 <= palette.contrast(found, "#ffffff") <= 21.0


async def test_implied_consent_only_where_every_jurisdiction_allows_it(api, shop):
    result = await update(api, shop, consentModel="IMPLIED")
    assert result["userErrors"] == []
    assert result["branding"]["consentModelInForce"] == "IMPLIED"
    # Adding a jurisdiction that wants an affirmative act turns the banner explicit at once.
    await api(
        'mutation { updateTenant(input: {jurisdictions: ["US-CA", "EU"]}) { userErrors { code } } }',
        token=shop,
    )
    read = await api("{ branding { consentModel consentModelInForce } }", token=shop)
    assert read["data"]["branding"] == {
        "consentModel": "IMPLIED",
        "consentModelInForce": "EXPLICIT",
    }
    banner = await api(BANNER, {"site": "shop"})
    assert banner["data"]["publishedPolicy"]["banner"]["consentModel"] == "EXPLICIT"
    refused = await update(api, shop, consentModel="IMPLIED")
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [
        ("IMPLIED_CONSENT_NOT_ALLOWED", ["input", "consentModel"])
    ]
    assert "EU" in refused["userErrors"][0]["message"]


async def test_only_owners_and_admins_change_branding(api, shop):
    _, editor = await create_key(api, shop, name="e", role="EDITOR")
    _, site = await create_key(api, shop, name="site", publishable=True)
    for token in (editor, site):
        body = await api(UPDATE, {"input": {"logoUrl": None}}, token=token)
        assert error_codes(body) == ["FORBIDDEN"]


async def test_the_banner_groups_purposes_and_speaks_the_visitors_language(api, shop):
    await update(
        api,
        shop,
        texts=[{"locale": "ru", "key": "purpose.analytics.reporting", "text": "Статистика"}],
    )
    response = await api.client.post(
        "/graphql",
        json={"query": BANNER, "variables": {"site": "shop.example"}},
        headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"},
    )
    policy = response.json()["data"]["publishedPolicy"]
    banner = policy["banner"]
    assert policy["locale"] == banner["locale"] == "ru"
    assert banner["texts"]["banner.accept_all"] == "Принять все"
    assert banner["texts"]["banner.reject_all"] == "Отклонить все"
    assert banner["consentModel"] == "EXPLICIT" and banner["gpcBinding"] is True
    assert banner["privacyCenterUrl"] == "/t/shop.example/privacy"
    categories = {c["key"]: c for c in banner["categories"]}
    assert list(categories) == ["necessary", "analytics", "marketing"]
    assert categories["necessary"]["required"] is True
    assert [p["key"] for p in categories["necessary"]["purposes"]] == [
        "essential.service",
        "functional.storage.privacy_preferences",
    ]
    analytics = categories["analytics"]
    assert analytics["name"] == "Аналитика" and analytics["required"] is False
    assert analytics["purposes"] == [
        {
            "key": "analytics.reporting",
            "name": "Статистика",
            "description": "Visit counts",
            "legalBasis": "CONSENT",
            "requiresConsent": True,
            "gpcOptOut": False,
        }
    ]
    assert categories["marketing"]["purposes"][0]["gpcOptOut"] is True


@pytest.mark.parametrize("locale", ["en", "ru", "uz", "uz-Cyrl", "ky", "kk"])
def test_every_catalogue_has_every_text(locale):
    assert set(CATALOGUES[locale]) == KEYS
    assert all(text.strip() for text in CATALOGUES[locale].values())


async def test_material_versions_and_history(api, shop):
    await publish_policy(api, shop, material=True, summary="We now share with partners.")
    await publish_policy(api, shop, summary="Typos.")
    await publish_policy(api, shop, effective_at="2031-01-01T00:00:00+00:00", summary="Secret.")
    policy = (await api(BANNER, {"site": "shop"}))["data"]["publishedPolicy"]
    assert policy["version"] == 3
    assert policy["banner"]["materialVersion"] == 2
    # The scheduled version 4 is not history yet.
    assert [(h["version"], h["material"], h["changeSummary"]) for h in policy["history"]] == [
        (3, False, "Typos."),
        (2, True, "We now share with partners."),
        (1, False, None),
    ]


async def test_a_branding_change_reaches_cached_banners_at_once(api, shop):
    params = {"query": BANNER, "variables": '{"site":"shop"}'}
    first = await api.client.get("/graphql", params=params)
    again = await api.client.get(
        "/graphql", params=params, headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304
    await update(api, shop, colors={"accent": "#7c2d12"})
    changed = await api.client.get(
        "/graphql", params=params, headers={"If-None-Match": first.headers["etag"]}
    )
    assert changed.status_code == 200
    assert changed.json()["data"]["publishedPolicy"]["banner"]["colors"]["accent"] == "#7c2d12"
