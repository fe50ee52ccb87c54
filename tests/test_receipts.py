"""Receipts tell the truth: the Kantara Consent Receipt v1.1 and the ISO/IEC TS 27560
record say what happened, case by case, through GraphQL; both stay schema-valid."""

from __future__ import annotations

import copy

import pytest

from tenants.consent.iso27560 import validate_record
from tenants.consent.kantara import validate_receipt
from tests.factories import create_draft, create_key, create_tenant
from tests.test_consent import CONTROLLER, PURPOSES, grant, publish_policy

RECORD = """mutation($input: ConsentInput!) {
  recordConsent(input: $input) { receipt { id locale kantara iso27560 } userErrors { field code } }
}"""
HISTORY = """query($s: String!) {
  consentHistory(subjectId: $s) { edges { node { id iso27560 } } }
}"""
POLICY = 'query($l: String) { publishedPolicy(site: "acme", locale: $l) { contentHash locale } }'
UPDATE = """mutation($input: UpdateTenantInput!) {
  updateTenant(input: $input) { tenant { policyUrls { kind url } } userErrors { field code } }
}"""
PUBLISH = """mutation($id: ID!) {
  publishPolicyVersion(id: $id) { policyVersion { version } userErrors { field code message } }
}"""


@pytest.fixture
async def acme(api):
    _, owner = await create_tenant(
        api, slug="acme", locales=["ru"], domains=["acme.example"], jurisdictions=["EU", "UZ"]
    )
    await publish_policy(api, owner)
    _, site = await create_key(api, owner, name="site", publishable=True)
    return {"owner": owner, "site": site}


async def record(api, token, headers=None, **fields):
    item = {"subjectId": "v", "method": "BANNER", **fields}
    if headers:
        response = await api.client.post(
            "/graphql",
            json={"query": RECORD, "variables": {"input": item}},
            headers={"Authorization": f"Bearer {token}", **headers},
        )
        body = response.json()
    else:
        body = await api(RECORD, {"input": item}, token=token)
    result = body["data"]["recordConsent"]
    assert result["userErrors"] == [], result
    receipt = result["receipt"]
    assert validate_receipt(receipt["kantara"]) == []
    assert validate_record(receipt["iso27560"]) == []
    return receipt


def kantara_purposes(receipt) -> dict[str, dict]:
    return {p["purposeCategory"][0]: p for p in receipt["kantara"]["services"][0]["purposes"]}


def iso_purposes(document) -> dict[str, dict]:
    return {p["purpose_type"]: p for p in document["pii_processing"]["purposes"]}


# Kantara


@pytest.mark.parametrize(("method", "expected"), [("IMPLIED", "IMPLICIT"), ("BANNER", "EXPLICIT")])
async def test_consent_type_follows_how_consent_was_given(api, method, expected):
    # US-CA: use of a site may stand for consent there (the rule table's consent.implied).
    _, owner = await create_tenant(api, slug="calco", jurisdictions=["US-CA"])
    await publish_policy(api, owner)
    receipt = await record(api, owner, method=method, decisions=grant("analytics.reporting"))
    purposes = kantara_purposes(receipt)
    assert purposes["analytics.reporting"]["consentType"] == expected
    assert purposes["essential.service"]["consentType"] == "IMPLICIT"  # contract, as before
    iso = iso_purposes(receipt["iso27560"])["analytics.reporting"]["event"][0]
    assert iso["event_type"] == expected.lower()


async def test_a_gpc_override_is_named_in_the_collection_method(api):
    _, owner = await create_tenant(api, slug="calco", jurisdictions=["US-CA"])
    await publish_policy(api, owner)
    decisions = grant("analytics.reporting", "marketing.advertising.third_party.targeted")
    plain = await record(api, owner, decisions=decisions)
    assert plain["kantara"]["collectionMethod"] == "BANNER"
    overridden = await record(api, owner, headers={"Sec-GPC": "1"}, decisions=decisions)
    method = overridden["kantara"]["collectionMethod"]
    assert method.startswith("BANNER; ") and "Sec-GPC" in method
    assert (
        "marketing.advertising.third_party.targeted" in method and "third_party_sharing" in method
    )
    assert "marketing.advertising.third_party.targeted" not in kantara_purposes(overridden)
    assert overridden["iso27560"]["pii_processing"]["purposes"][0]["collection_method"] == method


async def test_the_policy_url_is_the_policy_page(api, acme):
    unset = await record(api, acme["site"], decisions=grant("analytics.reporting"))
    # Never the site's root, which is not the policy: the exact version, named.
    assert unset["kantara"]["policyUrl"] == "urn:charter:acme:privacy:v1"
    pages = [
        {"kind": "PRIVACY", "url": "https://acme.example/legal/privacy"},
        {"kind": "COOKIES", "url": "https://acme.example/legal/cookies"},
    ]
    body = await api(UPDATE, {"input": {"policyUrls": pages}}, token=acme["owner"])
    assert body["data"]["updateTenant"]["userErrors"] == []
    assert body["data"]["updateTenant"]["tenant"]["policyUrls"] == sorted(
        pages, key=lambda p: p["kind"]
    )
    receipt = await record(api, acme["site"], decisions=grant("analytics.reporting"))
    assert receipt["kantara"]["policyUrl"] == "https://acme.example/legal/privacy"
    notice = receipt["iso27560"]["pii_processing"]["privacy_notice"]
    assert notice["url"] == "https://acme.example/legal/privacy"
    # Receipts already given now name the page too (the tenant's own statement of where
    # the policy lives); the version they agreed to is pinned by the record's notice.
    history = await api(HISTORY, {"s": "v"}, token=acme["owner"])
    assert all(
        e["node"]["iso27560"]["pii_processing"]["privacy_notice"]["version"] == 1
        for e in history["data"]["consentHistory"]["edges"]
    )


@pytest.mark.parametrize(
    ("pages", "errors"),
    [
        ([{"kind": "PRIVACY", "url": "javascript:alert(1)"}], [(["input", "policyUrls", "0", "url"], "INVALID_URL")]),
        ([{"kind": "PRIVACY", "url": "/privacy"}], [(["input", "policyUrls", "0", "url"], "INVALID_URL")]),
        ([{"kind": "PRIVACY", "url": "https://[::1"}], [(["input", "policyUrls", "0", "url"], "INVALID_URL")]),
        (
            [{"kind": "PRIVACY", "url": "https://a.example/p"}, {"kind": "PRIVACY", "url": "https://a.example/q"}],
            [(["input", "policyUrls", "1"], "DUPLICATE")],
        ),
    ],
)  # fmt: skip
async def test_bad_policy_urls_are_refused(api, acme, pages, errors):
    body = await api(UPDATE, {"input": {"policyUrls": pages}}, token=acme["owner"])
    found = body["data"]["updateTenant"]["userErrors"]
    assert [(e["field"], e["code"]) for e in found] == errors


@pytest.mark.parametrize(
    ("controller", "missing"),
    [
        ({}, ["address", "email", "phone"]),
        ({"name": "Acme LLC", "email": "p@acme.example", "address": "Tashkent"}, ["phone"]),
        ({**CONTROLLER, "address": "   "}, ["address"]),
    ],
)
async def test_no_receipt_can_carry_an_empty_controller_contact(api, controller, missing):
    _, owner = await create_tenant(api, slug="bare")
    draft = await create_draft(
        api, owner, disclosures={"controller": controller, "purposes": PURPOSES}
    )
    body = await api(PUBLISH, {"id": draft["id"]}, token=owner)
    errors = body["data"]["publishPolicyVersion"]["userErrors"]
    assert [(e["field"], e["code"]) for e in errors] == [
        (["disclosures", "controller", name], "INCOMPLETE_CONTROLLER") for name in missing
    ]


async def test_the_dpo_and_the_tenant_fill_what_the_controller_leaves_out(api):
    _, owner = await create_tenant(api, slug="acme", dpoEmail="dpo@acme.example")
    disclosures = {
        "controller": {"name": "Acme LLC", "address": "Tashkent"},
        "dpo": {"name": "Dana", "phone": "+998 71 000 00 01"},
        "purposes": PURPOSES,
    }
    draft = await create_draft(api, owner, disclosures=disclosures)
    body = await api(PUBLISH, {"id": draft["id"]}, token=owner)
    assert body["data"]["publishPolicyVersion"]["userErrors"] == []
    receipt = await record(api, owner, decisions=grant("analytics.reporting"))
    controller = receipt["kantara"]["piiControllers"][0]
    assert controller["contact"] == "Dana" and controller["email"] == "dpo@acme.example"
    assert controller["phone"] == "+998 71 000 00 01"


async def test_a_version_without_purposes_needs_no_controller(api):
    _, owner = await create_tenant(api, slug="acme")
    draft = await create_draft(api, owner)  # e.g. a plain imported text
    body = await api(PUBLISH, {"id": draft["id"]}, token=owner)
    assert body["data"]["publishPolicyVersion"]["userErrors"] == []


# ISO/IEC TS 27560


async def test_the_record_says_given_refused_withdrawn_per_purpose(api, acme, client):
    first = await record(
        api,
        acme["site"],
        locale="ru-RU",
        decisions=[
            {"purpose": "marketing.communications.email", "granted": True},
            {"purpose": "analytics.reporting", "granted": False},
            {"purpose": "essential.service", "granted": True},
        ],
    )
    document = first["iso27560"]
    assert document["record"]["schema_version"] == "ISO/IEC TS 27560:2023"
    assert document["record"]["record_id"] == document["record"]["receipt_id"] == first["id"]
    assert document["record"]["pii_principal_id"] == "v"
    purposes = iso_purposes(document)
    states = {key: p["event"][0]["event_state"] for key, p in purposes.items()}
    assert states == {
        "marketing.communications.email": "given",
        "analytics.reporting": "refused",
        "essential.service": "given",
    }
    email = purposes["marketing.communications.email"]
    assert email["lawful_basis"] == "consent" and email["retention_period"] == "P2Y"
    assert email["pii_information"] == [
        {"pii_type": "user.contact.email", "sensitive_pii_category": False, "special_pii_category": False}
    ]  # fmt: skip
    assert email["event"][0]["validity_duration"]["type"] == "until_event"
    assert purposes["essential.service"]["lawful_basis"] == "contract"
    assert purposes["analytics.reporting"]["event"][0]["validity_duration"]["value"] == "PT0S"

    # The notice shown: the exact version, locale and text.
    shown = (
        await client.post("/graphql", json={"query": POLICY, "variables": {"l": "ru-RU"}})
    ).json()
    notice = document["pii_processing"]["privacy_notice"]
    assert notice == {
        "policy_kind": "PRIVACY",
        "version": 1,
        "locale": shown["data"]["publishedPolicy"]["locale"],
        "content_hash": shown["data"]["publishedPolicy"]["contentHash"],
        "url": "urn:charter:acme:privacy:v1",
    }
    assert document["pii_processing"]["language"] == "ru"

    # The controller and its authority.
    parties = {p["party_id"]: p for p in document["party_identification"]}
    assert parties["controller"]["party_name"] == "Acme LLC"
    assert parties["controller"]["party_phone"] == CONTROLLER["phone"]
    assert parties["controller"]["party_url"] == "https://acme.example/"
    assert document["record"]["authority_party"] == "authority"
    assert "Personalization Agency" in parties["authority"]["party_name"]  # UZ, from the table

    # A "no" after a "yes" is a withdrawal; a "no" after a "no" is still a refusal.
    later = await record(
        api,
        acme["site"],
        decisions=[
            {"purpose": "marketing.communications.email", "granted": False},
            {"purpose": "analytics.reporting", "granted": False},
        ],
    )
    states = {k: p["event"][0]["event_state"] for k, p in iso_purposes(later["iso27560"]).items()}
    assert states == {
        "marketing.communications.email": "withdrawn",
        "analytics.reporting": "refused",
    }
    # Read back later, each record still says what happened at its own time.
    history = await api(HISTORY, {"s": "v"}, token=acme["owner"])
    by_id = {
        e["node"]["id"]: e["node"]["iso27560"] for e in history["data"]["consentHistory"]["edges"]
    }
    assert by_id[first["id"]] == first["iso27560"]
    assert by_id[later["id"]] == later["iso27560"]


async def test_the_notice_names_its_complaint_authority(api):
    _, owner = await create_tenant(api, slug="acme")
    draft = await create_draft(
        api,
        owner,
        disclosures={
            "controller": CONTROLLER,
            "purposes": PURPOSES,
            "complaintAuthority": "Data Protection Commission, Ireland",
        },
    )
    await api(PUBLISH, {"id": draft["id"]}, token=owner)
    receipt = await record(api, owner, decisions=grant("analytics.reporting"))
    parties = {p["party_id"]: p for p in receipt["iso27560"]["party_identification"]}
    assert parties["authority"]["party_name"] == "Data Protection Commission, Ireland"


def test_validate_record_names_what_is_missing() -> None:
    from datetime import UTC, datetime

    from tenants.consent import iso27560

    controller = iso27560.Party("controller", "Acme", "PII controller", "organisation", "Tashkent")
    good = iso27560.consent_record(
        record_id="r-1",
        subject_id="v",
        event_time=datetime(2026, 1, 1, tzinfo=UTC),
        collection_method="BANNER",
        jurisdiction="EU",
        notice=iso27560.Notice("PRIVACY", 1, "en", "ab" * 32, "https://a.example/p"),
        controller=controller,
        authority=None,
        service="Acme",
        withdrawal_method="where it was given",
        purposes=[
            iso27560.PurposeState(
                key="analytics.reporting",
                description=None,
                lawful_basis="CONSENT",
                data_categories=(),
                retention="P1Y",
                recipients=(),
                state="given",
                explicit=True,
            )
        ],
    )
    assert validate_record(good) == []
    broken = copy.deepcopy(good)
    del broken["record"]["pii_principal_id"]
    broken["pii_processing"]["purposes"][0]["event"][0]["event_state"] = "maybe"
    broken["pii_processing"]["purposes"][0]["pii_controllers"] = ["nobody"]
    del broken["pii_processing"]["purposes"][0]["withdrawal_method"]
    broken["party_identification"][0]["party_address"] = ""
    assert validate_record(broken) == [
        "record.pii_principal_id",
        "pii_processing.purposes[0].withdrawal_method",
        "pii_processing.purposes[0].pii_controllers",
        "pii_processing.purposes[0].event[0].event_state",
        "party_identification[0].party_address",
    ]
    with pytest.raises(ValueError):
        iso27560.consent_record(**{**_arguments(good), "event_time": datetime(2026, 1, 1)})


def _arguments(document) -> dict:
    from datetime import UTC, datetime

    from tenants.consent import iso27560

    return {
        "record_id": "r-1",
        "subject_id": "v",
        "event_time": datetime(2026, 1, 1, tzinfo=UTC),
        "collection_method": "BANNER",
        "jurisdiction": "EU",
        "notice": iso27560.Notice("PRIVACY", 1, "en", None, "urn:x"),
        "controller": iso27560.Party("controller", "Acme", "PII controller", "organisation", "T"),
        "authority": None,
        "service": "Acme",
        "withdrawal_method": "w",
        "purposes": [],
    }
