"""createTenant and updateTenant through GraphQL."""

from __future__ import annotations

import pytest

from tests.backends import ADMIN_TOKEN
from tests.factories import CREATE_TENANT, create_tenant, error_codes

UPDATE_TENANT = """
mutation($input: UpdateTenantInput!) {
  updateTenant(input: $input) {
    tenant { slug name defaultLocale locales jurisdictions domains dpoEmail
             promises { requestType days workingDays } }
    userErrors { field code message }
  }
}"""


async def test_create_tenant_normalises_its_input(api):
    tenant, owner = await create_tenant(
        api,
        slug="deepen",
        defaultLocale="uz",
        locales=["ru", "uz-cyrl", "en"],
        jurisdictions=["uz", "KZ"],
        domains=["Deepen.UZ", "пример.рф"],
        dpoEmail="dpo@deepen.uz",
    )
    assert tenant["locales"] == ["uz", "ru", "uz-Cyrl", "en"]  # default first, standard case
    assert tenant["jurisdictions"] == ["UZ", "KZ"]
    assert sorted(tenant["domains"]) == ["deepen.uz", "xn--e1afmkfd.xn--p1ai"]
    assert tenant["dpoEmail"] == "dpo@deepen.uz"
    assert tenant["promises"] == []
    assert owner.startswith("sk_")


@pytest.mark.parametrize(
    ("override", "field", "code"),
    [
        ({"slug": "Not A Slug"}, ["input", "slug"], "INVALID"),
        ({"slug": "-x"}, ["input", "slug"], "INVALID"),
        ({"name": "   "}, ["input", "name"], "REQUIRED"),
        ({"name": "x" * 201}, ["input", "name"], "TOO_LONG"),
        ({"defaultLocale": "klingon-x-y-z-nope"}, ["input", "defaultLocale"], "INVALID_LOCALE"),
        ({"locales": ["en", "zz-ZZ-bad"]}, ["input", "locales", "1"], "INVALID_LOCALE"),
        ({"jurisdictions": []}, ["input", "jurisdictions"], "REQUIRED"),
        ({"jurisdictions": ["EU", "XX"]}, ["input", "jurisdictions", "1"], "UNKNOWN_JURISDICTION"),
        ({"jurisdictions": ["EU", "eu"]}, ["input", "jurisdictions", "1"], "DUPLICATE"),
        ({"domains": ["not a domain"]}, ["input", "domains", "0"], "INVALID_DOMAIN"),
        ({"domains": ["localhost"]}, ["input", "domains", "0"], "INVALID_DOMAIN"),
        ({"dpoEmail": "nobody"}, ["input", "dpoEmail"], "INVALID_EMAIL"),
    ],
)
async def test_create_tenant_rejects_bad_input(api, override, field, code):
    payload = {"slug": "acme", "name": "Acme", "defaultLocale": "en", "jurisdictions": ["EU"]}
    payload.update(override)
    body = await api(CREATE_TENANT, {"input": payload}, token=ADMIN_TOKEN)
    result = body["data"]["createTenant"]
    assert result["tenant"] is None and result["ownerKey"] is None
    assert {"field": field, "code": code} in [
        {"field": e["field"], "code": e["code"]} for e in result["userErrors"]
    ]
    # Nothing was created: the slug is still free.
    await create_tenant(api, slug="acme")


async def test_every_problem_is_reported_at_once(api):
    payload = {"slug": "BAD", "name": "", "defaultLocale": "??", "jurisdictions": ["XX"]}
    body = await api(CREATE_TENANT, {"input": payload}, token=ADMIN_TOKEN)
    codes = sorted(e["code"] for e in body["data"]["createTenant"]["userErrors"])
    assert codes == ["INVALID", "INVALID_LOCALE", "REQUIRED", "UNKNOWN_JURISDICTION"]


async def test_slug_and_domains_are_unique_across_tenants(api):
    await create_tenant(api, slug="acme", domains=["acme.example"])
    payload = {"slug": "acme", "name": "Again", "defaultLocale": "en", "jurisdictions": ["EU"]}
    body = await api(CREATE_TENANT, {"input": payload}, token=ADMIN_TOKEN)
    assert [e["code"] for e in body["data"]["createTenant"]["userErrors"]] == ["SLUG_TAKEN"]

    payload.update(slug="other", domains=["ACME.example"])
    body = await api(CREATE_TENANT, {"input": payload}, token=ADMIN_TOKEN)
    assert [e["code"] for e in body["data"]["createTenant"]["userErrors"]] == ["DOMAIN_TAKEN"]


async def test_malformed_variables_are_a_coded_graphql_error(client):
    response = await client.post(
        "/graphql",
        json={"query": CREATE_TENANT, "variables": {"input": {"slug": 5}}},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    body = response.json()
    assert response.status_code == 400 and body.get("data") is None  # as Apollo Server
    assert error_codes(body) and set(error_codes(body)) == {"BAD_USER_INPUT"}


async def test_update_tenant_changes_only_what_is_given(api):
    _, owner = await create_tenant(api, slug="acme", domains=["acme.example"])
    body = await api(
        UPDATE_TENANT,
        {
            "input": {
                "name": "Acme Privacy",
                "promises": [
                    {"requestType": "ERASURE", "days": 14},
                    {"requestType": "ACCESS", "days": 10, "workingDays": True},
                ],
            }
        },
        token=owner,
    )
    result = body["data"]["updateTenant"]
    assert result["userErrors"] == []
    tenant = result["tenant"]
    assert tenant["name"] == "Acme Privacy"
    assert tenant["domains"] == ["acme.example"]
    assert tenant["jurisdictions"] == ["EU"]
    assert tenant["promises"] == [
        {"requestType": "ERASURE", "days": 14, "workingDays": False},
        {"requestType": "ACCESS", "days": 10, "workingDays": True},
    ]


async def test_update_tenant_sets_locales_domains_and_clears_dpo(api):
    _, owner = await create_tenant(api, slug="acme", dpoEmail="dpo@acme.example")
    body = await api(
        UPDATE_TENANT,
        {
            "input": {
                "defaultLocale": "ru",
                "locales": ["en"],
                "domains": ["acme.kz"],
                "jurisdictions": ["KZ", "RU"],
                "dpoEmail": None,
            }
        },
        token=owner,
    )
    tenant = body["data"]["updateTenant"]["tenant"]
    assert tenant["defaultLocale"] == "ru" and tenant["locales"] == ["ru", "en"]
    assert tenant["domains"] == ["acme.kz"]
    assert tenant["jurisdictions"] == ["KZ", "RU"]
    assert tenant["dpoEmail"] is None


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"name": None}, ["input", "name"], "REQUIRED"),
        ({"jurisdictions": []}, ["input", "jurisdictions"], "REQUIRED"),
        ({"defaultLocale": "!!"}, ["input", "defaultLocale"], "INVALID_LOCALE"),
        ({"dpoEmail": "x@"}, ["input", "dpoEmail"], "INVALID_EMAIL"),
        ({"domains": ["a..b"]}, ["input", "domains", "0"], "INVALID_DOMAIN"),
        (
            {"promises": [{"requestType": "ERASURE", "days": 0}]},
            ["input", "promises", "0", "days"],
            "INVALID_PROMISE",
        ),
        (
            {
                "promises": [
                    {"requestType": "ACCESS", "days": 5},
                    {"requestType": "ACCESS", "days": 6},
                ]
            },
            ["input", "promises", "1"],
            "DUPLICATE",
        ),
    ],
)
async def test_update_tenant_rejects_bad_input_and_changes_nothing(api, change, field, code):
    _, owner = await create_tenant(api, slug="acme")
    body = await api(UPDATE_TENANT, {"input": change}, token=owner)
    result = body["data"]["updateTenant"]
    assert result["tenant"] is None
    assert [(e["field"], e["code"]) for e in result["userErrors"]] == [(field, code)]
    viewer = await api("{ viewer { tenant { name jurisdictions dpoEmail } } }", token=owner)
    assert viewer["data"]["viewer"]["tenant"] == {
        "name": "acme Ltd",
        "jurisdictions": ["EU"],
        "dpoEmail": None,
    }


async def test_a_domain_of_another_tenant_cannot_be_claimed(api):
    await create_tenant(api, slug="first", domains=["shop.example"])
    _, owner = await create_tenant(api, slug="second")
    body = await api(UPDATE_TENANT, {"input": {"domains": ["shop.example"]}}, token=owner)
    assert [e["code"] for e in body["data"]["updateTenant"]["userErrors"]] == ["DOMAIN_TAKEN"]
