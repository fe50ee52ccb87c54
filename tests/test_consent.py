"""The consent ledger through GraphQL: record, withdraw, state, staleness, idempotency."""

from __future__ import annotations

import pytest

from tests.factories import create_draft, create_key, create_tenant, error_codes, publish

PURPOSES = [
    {"key": "essential.service", "legalBasis": "CONTRACT"},
    {"key": "analytics.reporting", "legalBasis": "CONSENT", "dataCategories": ["user.device"]},
    {
        "key": "marketing.communications.email",
        "legalBasis": "CONSENT",
        "dataCategories": ["user.contact.email"],
    },
    {"key": "marketing.advertising.third_party.targeted", "legalBasis": "CONSENT"},
    {"key": "third_party_sharing", "legalBasis": "CONSENT"},
]
CONTROLLER = {
    "name": "Acme LLC",
    "email": "privacy@acme.example",
    "address": "Tashkent",
    "phone": "+998 71 200 00 00",
}
RECORD = """
mutation($input: ConsentInput!) {
  recordConsent(input: $input) {
    receipt { id subjectId policyVersion locale method sequence hash previousHash kantara
              decisions { purpose granted method stale explicit policyVersion } }
    userErrors { field code message }
  }
}"""
STATE = """query($s: String!) {
  consentState(subjectId: $s) { purpose granted method stale explicit policyVersion decidedAt }
}"""
HISTORY = """query($s: String!, $first: Int, $after: String) {
  consentHistory(subjectId: $s, first: $first, after: $after) {
    edges { cursor node { id sequence decisions { purpose granted } } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def publish_policy(api, owner, *, material=False, purposes=PURPOSES):
    draft = await create_draft(
        api,
        owner,
        translations=[
            {"locale": "en", "title": "Privacy", "body": "Text."},
            {"locale": "ru", "title": "Политика", "body": "Текст."},
        ],
        disclosures={
            "controller": CONTROLLER,
            "purposes": purposes,
            "retention": [{"subject": "marketing.communications.email", "period": "P2Y"}],
        },
        material=material,
    )
    return await publish(api, owner, draft["id"])


@pytest.fixture
async def acme(api):
    _, owner = await create_tenant(api, slug="acme", locales=["ru"], domains=["acme.example"])
    await publish_policy(api, owner)
    _, site = await create_key(api, owner, name="site", publishable=True)
    return {"owner": owner, "site": site}


async def record(api, token, headers=None, **fields):
    payload = {"subjectId": "visitor-1", "method": "BANNER", "decisions": [], **fields}
    if headers:
        response = await api.client.post(
            "/graphql",
            json={"query": RECORD, "variables": {"input": payload}},
            headers={"Authorization": f"Bearer {token}", **headers},
        )
        return response.json()["data"]["recordConsent"]
    return (await api(RECORD, {"input": payload}, token=token))["data"]["recordConsent"]


def grant(*purposes, granted=True):
    return [{"purpose": p, "granted": granted} for p in purposes]


async def state(api, owner, subject="visitor-1"):
    body = await api(STATE, {"s": subject}, token=owner)
    return {d["purpose"]: d for d in body["data"]["consentState"]}


async def test_record_withdraw_regrant(api, acme):
    first = await record(
        api,
        acme["site"],
        decisions=grant("analytics.reporting", "marketing.communications.email"),
        locale="ru",
    )
    assert first["userErrors"] == []
    receipt = first["receipt"]
    assert receipt["sequence"] == 1 and receipt["previousHash"] is None
    assert receipt["policyVersion"] == 1 and receipt["locale"] == "ru"
    assert {d["purpose"]: d["granted"] for d in receipt["decisions"]} == {
        "analytics.reporting": True,
        "marketing.communications.email": True,
    }

    withdrawn = await record(
        api, acme["site"], decisions=grant("marketing.communications.email", granted=False)
    )
    assert withdrawn["receipt"]["previousHash"] == receipt["hash"]
    current = await state(api, acme["owner"])
    assert current["marketing.communications.email"]["granted"] is False
    assert current["analytics.reporting"]["granted"] is True

    await record(api, acme["site"], decisions=grant("marketing.communications.email"))
    assert (await state(api, acme["owner"]))["marketing.communications.email"]["granted"] is True

    history = (await api(HISTORY, {"s": "visitor-1"}, token=acme["owner"]))["data"][
        "consentHistory"
    ]
    assert [e["node"]["sequence"] for e in history["edges"]] == [3, 2, 1]


async def test_material_version_makes_decisions_stale_until_reconsent(api, acme):
    await record(api, acme["site"], decisions=grant("analytics.reporting"))
    assert (await state(api, acme["owner"]))["analytics.reporting"]["stale"] is False
    await publish_policy(api, acme["owner"], material=True)
    stale = (await state(api, acme["owner"]))["analytics.reporting"]
    assert stale["stale"] is True and stale["policyVersion"] == 1
    again = await record(api, acme["site"], decisions=grant("analytics.reporting"))
    assert again["receipt"]["policyVersion"] == 2
    fresh = (await state(api, acme["owner"]))["analytics.reporting"]
    assert fresh["stale"] is False and fresh["policyVersion"] == 2


async def test_steady_state_consent_reads_versions_and_domains_from_memory(api, acme, queries):
    # What every visitor's banner click costs, and the banner's read of the state:
    # published versions and domains are asked of the database once per change, not once
    # per click (a browser also sends Origin).
    origin = {"Origin": "https://acme.example"}
    await record(api, acme["site"], origin, decisions=grant("analytics.reporting"))
    queries.reset()
    receipt = (await record(api, acme["site"], origin, decisions=grant("analytics.reporting")))[
        "receipt"
    ]
    assert receipt["policyVersion"] == 1
    assert (await state(api, acme["owner"]))["analytics.reporting"]["granted"] is True
    read = " ".join(queries.statements)
    tables = ("policy_version", "policy_translation", "tenant_domain")
    assert not [t for t in tables if f'FROM "{t}"' in read], queries.statements


async def test_consent_state_is_one_statement_with_the_standing_joined(api, acme, queries):
    # The banner's read of a known visitor: state and standing together, in one round
    # trip, however many purposes (tenants/consent/lookup.py).
    purposes = ("analytics.reporting", "marketing.communications.email")
    await record(api, acme["site"], decisions=grant(*purposes))
    await state(api, acme["owner"])  # the published versions, read once per change
    queries.reset()
    found = await state(api, acme["owner"])
    assert sorted(found) == sorted(purposes)
    assert all(d["granted"] is True for d in found.values())
    reads = [s for s in queries.statements if "consent_state" in s or "subject_flags" in s]
    assert len(reads) == 1, queries.statements
    assert '"consent_state"' in reads[0] and '"subject_flags"' in reads[0], reads


async def test_a_non_material_version_leaves_consent_fresh(api, acme):
    await record(api, acme["site"], decisions=grant("analytics.reporting"))
    await publish_policy(api, acme["owner"], material=False)
    assert (await state(api, acme["owner"]))["analytics.reporting"]["stale"] is False


async def test_same_client_event_id_records_once(api, acme):
    first = await record(
        api, acme["site"], decisions=grant("analytics.reporting"), clientEventId="evt-1"
    )
    again = await record(
        api, acme["site"], decisions=grant("analytics.reporting"), clientEventId="evt-1"
    )
    assert again["receipt"]["id"] == first["receipt"]["id"]
    assert again["receipt"]["decisions"][0]["granted"] is True
    # Another event under the same id is refused (tests/test_consent_retries.py).
    other = await record(
        api,
        acme["site"],
        decisions=grant("analytics.reporting", granted=False),
        clientEventId="evt-1",
    )
    assert [e["code"] for e in other["userErrors"]] == ["CLIENT_EVENT_ID_REUSED"]
    history = (await api(HISTORY, {"s": "visitor-1"}, token=acme["owner"]))["data"][
        "consentHistory"
    ]
    assert len(history["edges"]) == 1


async def test_implied_consent_is_told_apart(api):
    # Where use of a site may stand for consent (US-CA; tests/test_tenant_promises.py
    # shows UZ and KZ refusing it).
    _, owner = await create_tenant(api, slug="calco", jurisdictions=["US-CA"])
    await publish_policy(api, owner)
    await record(api, owner, method="IMPLIED", decisions=grant("analytics.reporting"))
    decision = (await state(api, owner))["analytics.reporting"]
    assert decision["method"] == "IMPLIED" and decision["explicit"] is False
    await record(api, owner, method="FORM", decisions=grant("analytics.reporting"))
    assert (await state(api, owner))["analytics.reporting"]["explicit"] is True


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        (
            {"decisions": grant("marketing.advertising")},
            ["input", "decisions", "0", "purpose"],
            "UNDISCLOSED_PURPOSE",
        ),
        ({"decisions": []}, ["input", "decisions"], "REQUIRED"),
        (
            {"decisions": grant("analytics.reporting", "analytics.reporting")},
            ["input", "decisions", "1"],
            "DUPLICATE",
        ),
        (
            {"subjectId": " ", "decisions": grant("analytics.reporting")},
            ["input", "subjectId"],
            "REQUIRED",
        ),
        (
            {"policyVersion": 9, "decisions": grant("analytics.reporting")},
            ["input", "policyVersion"],
            "NOT_FOUND",
        ),
        # Version 0 names no version: it must not be read as "the one in force" (the
        # receipt would claim consent to a text the caller never named).
        (
            {"policyVersion": 0, "decisions": grant("analytics.reporting")},
            ["input", "policyVersion"],
            "NOT_FOUND",
        ),
        # An empty id is no id: retries sent with it would each be recorded.
        (
            {"clientEventId": "", "decisions": grant("analytics.reporting")},
            ["input", "clientEventId"],
            "INVALID",
        ),
        (
            {"locale": "not a tag", "decisions": grant("analytics.reporting")},
            ["input", "locale"],
            "INVALID_LOCALE",
        ),
        (
            {"sourceUrl": "javascript:x", "decisions": grant("analytics.reporting")},
            ["input", "sourceUrl"],
            "INVALID_URL",
        ),
        # urlsplit raises on an unclosed IPv6 bracket: a bad URL, not an internal error.
        (
            {"sourceUrl": "http://[::1", "decisions": grant("analytics.reporting")},
            ["input", "sourceUrl"],
            "INVALID_URL",
        ),
        (
            {"email": "nope", "decisions": grant("analytics.reporting")},
            ["input", "email"],
            "INVALID_EMAIL",
        ),
        (
            {"occurredAt": "2999-01-01T00:00:00+00:00", "decisions": grant("analytics.reporting")},
            ["input", "occurredAt"],
            "INVALID",
        ),
    ],
)
async def test_bad_consent_is_refused_and_records_nothing(api, acme, fields, field, code):
    result = await record(api, acme["site"], **fields)
    assert result["receipt"] is None
    assert [(e["field"], e["code"]) for e in result["userErrors"]] == [(field, code)]
    assert await state(api, acme["owner"]) == {}


async def test_no_published_policy_is_a_user_error(api):
    _, owner = await create_tenant(api, slug="empty")
    result = await record(api, owner, decisions=grant("analytics.reporting"))
    assert [e["code"] for e in result["userErrors"]] == ["NO_PUBLISHED_POLICY"]


async def test_evidence_is_minimal_and_email_is_sealed(api, acme):
    await record(
        api,
        acme["site"],
        decisions=grant("marketing.communications.email"),
        email="aziza@example.uz",
        sourceUrl="https://acme.example/signup",
        headers={"User-Agent": "Mozilla/5.0 Test", "X-Forwarded-For": "198.51.100.7"},
    )
    from tortoise import connections

    db = connections.get("default")
    events = await db.execute_query_dict("SELECT ip, user_agent, source_url FROM consent_event")
    assert events[0]["ip"] in ("127.0.0.0", None)  # the test client's address, truncated to /24
    assert events[0]["user_agent"] == "Mozilla/5.0 Test"
    contacts = await db.execute_query_dict("SELECT * FROM subject_contact")
    assert len(contacts) == 1 and "aziza" not in str(contacts)


async def test_gpc_records_an_opt_out_where_it_binds(api):
    _, owner = await create_tenant(api, slug="calco", jurisdictions=["US-CA"])
    await publish_policy(api, owner)
    result = await record(
        api,
        owner,
        decisions=grant("analytics.reporting", "marketing.advertising.third_party.targeted"),
        headers={"Sec-GPC": "1"},
    )
    decisions = {d["purpose"]: d for d in result["receipt"]["decisions"]}
    assert decisions["marketing.advertising.third_party.targeted"]["granted"] is False
    assert decisions["marketing.advertising.third_party.targeted"]["method"] == "GPC"
    assert decisions["third_party_sharing"]["granted"] is False  # every sale/sharing purpose
    assert decisions["analytics.reporting"] == {
        **decisions["analytics.reporting"],
        "granted": True,
        "method": "BANNER",
    }
    current = await state(api, owner)
    assert current["marketing.advertising.third_party.targeted"]["method"] == "GPC"
    assert current["analytics.reporting"]["method"] == "BANNER"  # the event's own method


async def test_gpc_does_not_override_where_it_does_not_bind(api, acme):
    result = await record(
        api, acme["site"], decisions=grant("third_party_sharing"), headers={"Sec-GPC": "1"}
    )
    assert result["receipt"]["decisions"][0]["granted"] is True


async def test_history_pages_newest_first(api, acme):
    for _ in range(5):
        await record(api, acme["site"], decisions=grant("analytics.reporting"))
    page = (await api(HISTORY, {"s": "visitor-1", "first": 2}, token=acme["owner"]))["data"][
        "consentHistory"
    ]
    rest = (
        await api(
            HISTORY,
            {"s": "visitor-1", "first": 10, "after": page["pageInfo"]["endCursor"]},
            token=acme["owner"],
        )
    )["data"]["consentHistory"]
    assert [e["node"]["sequence"] for e in page["edges"] + rest["edges"]] == [5, 4, 3, 2, 1]
    assert page["pageInfo"]["hasNextPage"] and not rest["pageInfo"]["hasNextPage"]


async def test_publishable_keys_cannot_read_or_bulk_record(api, acme):
    body = await api(STATE, {"s": "visitor-1"}, token=acme["site"])
    assert error_codes(body) == ["FORBIDDEN"]
    body = await api(
        "mutation($i: [ConsentInput!]!) { recordConsents(inputs: $i) { recorded } }",
        {"i": []},
        token=acme["site"],
    )
    assert error_codes(body) == ["FORBIDDEN"]
