"""Transfers abroad with no country named, as a policy that says "abroad" discloses them:
an explicit destination, shown as such to tenants and the public; ZZ, the only way to
write it before, mapped to it; codes that name no country refused."""

from __future__ import annotations

import pytest

from tenants.policies.disclosures import transfers
from tests.factories import create_draft, create_key, create_tenant, publish
from tests.test_consent import CONTROLLER, PURPOSES, grant
from tests.test_receipts import record

DRAFT = """mutation($input: PolicyDraftInput!) {
  createPolicyDraft(input: $input) {
    policyVersion { id disclosures { transfers { country destination safeguard }
                                     recipients { name country } } }
    userErrors { field code message }
  }
}"""
PUBLISH = """mutation($id: ID!) { publishPolicyVersion(id: $id) { userErrors { code } } }"""
PUBLIC = """query { publishedPolicy(site: "shop", kind: PRIVACY) {
  disclosures { transfers { country destination safeguard } } } }"""
ABROAD = {"country": "ZZ", "destination": "UNSPECIFIED_THIRD_COUNTRIES", "safeguard": "consent"}


async def draft(api, token, transfers=(), recipients=()):
    disclosures = {"transfers": list(transfers), "recipients": list(recipients)}
    translations = [{"locale": "ru", "title": "Политика", "body": "Данные передаются за рубеж."}]
    body = await api(
        DRAFT,
        {"input": {"kind": "PRIVACY", "translations": translations, "disclosures": disclosures}},
        token=token,
    )
    return body["data"]["createPolicyDraft"]


async def test_abroad_is_explicit_through_graphql_and_public_reads(api):
    _, owner = await create_tenant(api, slug="shop", defaultLocale="ru", jurisdictions=["UZ"])
    result = await draft(
        api,
        owner,
        transfers=[
            {"country": "", "destination": "UNSPECIFIED_THIRD_COUNTRIES", "safeguard": "consent"},
            {"country": "zz", "safeguard": "consent"},  # what clients wrote before: mapped
            {"country": "de", "safeguard": "standard contractual clauses"},
            {"country": "XK", "destination": "COUNTRY", "safeguard": "consent"},
        ],
    )
    assert result["userErrors"] == []
    shown = result["policyVersion"]["disclosures"]["transfers"]
    assert shown == [
        ABROAD,
        ABROAD,
        {"country": "DE", "destination": "COUNTRY", "safeguard": "standard contractual clauses"},
        {"country": "XK", "destination": "COUNTRY", "safeguard": "consent"},
    ]
    body = await api(PUBLISH, {"id": result["policyVersion"]["id"]}, token=owner)
    assert body["data"]["publishPolicyVersion"]["userErrors"] == []
    public = await api(PUBLIC)
    assert public["data"]["publishedPolicy"]["disclosures"]["transfers"] == shown


@pytest.mark.parametrize(
    ("transfer", "field", "code"),
    [
        # A country and "no country named" at once.
        ({"country": "DE", "destination": "UNSPECIFIED_THIRD_COUNTRIES"}, "country", "INVALID"),
        # ZZ says no country; a COUNTRY transfer must name one.
        ({"country": "ZZ", "destination": "COUNTRY"}, "country", "INVALID_COUNTRY"),
        ({"country": ""}, "country", "REQUIRED"),
        # User-assigned codes name no country either (ISO 3166-1).
        ({"country": "XX"}, "country", "INVALID_COUNTRY"),
        ({"country": "QM"}, "country", "INVALID_COUNTRY"),
        ({"country": "AA"}, "country", "INVALID_COUNTRY"),
        ({"country": "Germany"}, "country", "INVALID_COUNTRY"),
    ],
)
async def test_a_transfer_that_says_two_things_or_nothing_is_refused(api, transfer, field, code):
    _, owner = await create_tenant(api, slug="shop", defaultLocale="ru", jurisdictions=["UZ"])
    result = await draft(api, owner, transfers=[{"safeguard": "consent", **transfer}])
    assert result["policyVersion"] is None
    assert [(e["code"], e["field"]) for e in result["userErrors"]] == [
        (code, ["input", "disclosures", "transfers", "0", field])
    ]


async def test_a_recipient_of_unknown_country_leaves_the_country_out(api):
    _, owner = await create_tenant(api, slug="shop", defaultLocale="ru", jurisdictions=["UZ"])
    refused = await draft(api, owner, recipients=[{"name": "Host", "country": "ZZ"}])
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [
        ("INVALID_COUNTRY", ["input", "disclosures", "recipients", "0", "country"])
    ]
    kept = await draft(api, owner, recipients=[{"name": "Host"}])
    assert kept["policyVersion"]["disclosures"]["recipients"] == [{"name": "Host", "country": None}]


def test_versions_frozen_before_the_field_read_with_their_destination():
    stored = {
        "transfers": [
            {"country": "ZZ", "safeguard": "consent"},
            {"country": "KZ", "safeguard": "agreement"},
        ]
    }
    assert transfers(stored) == [
        {"country": None, "destination": "UNSPECIFIED_THIRD_COUNTRIES", "safeguard": "consent"},
        {"country": "KZ", "destination": "COUNTRY", "safeguard": "agreement"},
    ]


async def test_the_consent_receipt_names_transfers_abroad(api):
    """The ISO/IEC TS 27560 record beside the Kantara receipt carries the notice's transfers
    as geographic restrictions, the unspecified ones as such."""
    _, owner = await create_tenant(api, slug="shop", jurisdictions=["UZ"])
    created = await create_draft(
        api,
        owner,
        disclosures={
            "controller": CONTROLLER,
            "purposes": PURPOSES,
            "transfers": [
                {
                    "country": "",
                    "destination": "UNSPECIFIED_THIRD_COUNTRIES",
                    "safeguard": "consent",
                },
                {"country": "KZ", "safeguard": "agreement"},
            ],
        },
    )
    await publish(api, owner, created["id"])
    _, site = await create_key(api, owner, name="site", publishable=True)
    receipt = await record(api, site, decisions=grant("analytics.reporting"))
    restrictions = receipt["iso27560"]["pii_processing"]["purposes"][0]["geographic_restrictions"]
    assert restrictions == [
        {"country": None, "destination": "UNSPECIFIED_THIRD_COUNTRIES", "safeguard": "consent"},
        {"country": "KZ", "destination": "COUNTRY", "safeguard": "agreement"},
    ]
