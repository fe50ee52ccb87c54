"""A repeated clientEventId returns the first receipt only for a retry of the same event;
any other event with that id is refused without a word about the first."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tenants.consent import retries
from tenants.consent.ledger import Entry
from tenants.consent.methods import ConsentMethod
from tenants.policies.kinds import PolicyKind
from tests.factories import create_key, create_tenant
from tests.test_consent import HISTORY, grant, publish_policy, record, state


@pytest.fixture
async def acme(api):
    _, owner = await create_tenant(api, slug="acme", locales=["ru"], domains=["acme.example"])
    await publish_policy(api, owner)
    _, site = await create_key(api, owner, name="site", publishable=True)
    return {"owner": owner, "site": site}


BATCH = """mutation($inputs: [ConsentInput!]!) {
  recordConsents(inputs: $inputs) { recorded duplicates userErrors { field code message } }
}"""


async def test_another_subject_reusing_an_id_gets_nothing_of_the_first(api, acme):
    victim = await record(
        api,
        acme["site"],
        subjectId="victim",
        decisions=grant("analytics.reporting", "marketing.communications.email"),
        clientEventId="order-1001",
        email="victim@example.uz",
    )
    assert victim["userErrors"] == []
    attacker = await record(
        api,
        acme["site"],
        subjectId="attacker",
        decisions=grant("analytics.reporting"),
        clientEventId="order-1001",
    )
    assert attacker["receipt"] is None
    assert [(e["field"], e["code"]) for e in attacker["userErrors"]] == [
        (["input", "clientEventId"], "CLIENT_EVENT_ID_REUSED")
    ]
    told = json.dumps(attacker)
    for secret in ("victim", victim["receipt"]["id"], victim["receipt"]["hash"], "marketing"):
        assert secret not in told
    # Even the victim's own subject id with other decisions is another event.
    other = await record(
        api, acme["site"], subjectId="victim", decisions=grant("analytics.reporting"),
        clientEventId="order-1001",
    )  # fmt: skip
    assert [e["code"] for e in other["userErrors"]] == ["CLIENT_EVENT_ID_REUSED"]
    assert await state(api, acme["owner"], "attacker") == {}
    history = await api(HISTORY, {"s": "victim"}, token=acme["owner"])
    assert len(history["data"]["consentHistory"]["edges"]) == 1


async def test_a_retry_of_the_same_event_gets_the_first_receipt(api, acme):
    fields = {
        "subjectId": "visitor-1",
        "decisions": grant("analytics.reporting"),
        "clientEventId": "evt-1",
        "locale": "ru",
    }
    first = await record(api, acme["site"], sourceUrl="https://acme.example/a", **fields)
    # A retry is sent later, maybe from another network and page: still the same event.
    again = await record(
        api,
        acme["site"],
        headers={"User-Agent": "Other/1.0", "X-Forwarded-For": "203.0.113.9"},
        sourceUrl="https://acme.example/b",
        occurredAt=(datetime.now(UTC) - timedelta(seconds=1)).isoformat(),
        **fields,
    )
    assert again["userErrors"] == []
    assert again["receipt"]["id"] == first["receipt"]["id"]
    assert again["receipt"]["kantara"] == first["receipt"]["kantara"]


async def test_what_makes_another_event(api, acme):
    base = {"subjectId": "visitor-1", "decisions": grant("analytics.reporting"), "locale": "ru"}
    await record(api, acme["site"], clientEventId="evt-1", **base)
    await publish_policy(api, acme["owner"])  # version 2 is now in force
    changes = [
        {"decisions": grant("analytics.reporting", granted=False)},
        {"decisions": grant("analytics.reporting", "marketing.communications.email")},
        {"method": "FORM"},
        {"locale": "en"},
        {"policyVersion": 2},
        {},  # no version named: the one in force (2) was not the one shown (1)
    ]
    for change in changes:
        result = await record(api, acme["site"], clientEventId="evt-1", **{**base, **change})
        assert [e["code"] for e in result["userErrors"]] == ["CLIENT_EVENT_ID_REUSED"], change
    retried = await record(api, acme["site"], clientEventId="evt-1", policyVersion=1, **base)
    assert retried["userErrors"] == [] and retried["receipt"]["sequence"] == 1


async def test_batch_repeats_and_reuses_are_told_apart(api, acme):
    def item(subject: str, event_id: str, granted: bool = True) -> dict:
        return {
            "subjectId": subject,
            "method": "IMPORT",
            "clientEventId": event_id,
            "decisions": grant("analytics.reporting", granted=granted),
        }

    first = await api(BATCH, {"inputs": [item("a", "e1"), item("b", "e2")]}, token=acme["owner"])
    assert first["data"]["recordConsents"] == {"recorded": 2, "duplicates": 0, "userErrors": []}
    second = await api(
        BATCH,
        {
            "inputs": [
                item("a", "e1"),  # a retry
                item("mallory", "e2"),  # another subject under b's id
                item("c", "e3"),
                item("c", "e3", granted=False),  # the same id twice in one call, different
                item("d", "e4"),
                item("d", "e4"),  # and the same event twice
            ]
        },
        token=acme["owner"],
    )
    result = second["data"]["recordConsents"]
    assert (result["recorded"], result["duplicates"]) == (2, 2)
    assert [(e["field"], e["code"]) for e in result["userErrors"]] == [
        (["inputs", "1", "clientEventId"], "CLIENT_EVENT_ID_REUSED"),
        (["inputs", "3", "clientEventId"], "CLIENT_EVENT_ID_REUSED"),
    ]
    assert await state(api, acme["owner"], "mallory") == {}
    assert (await state(api, acme["owner"], "c"))["analytics.reporting"]["granted"] is True


# The rule itself, generatively: a retry may differ in time, URL and evidence, and in
# nothing else.
ENTRY = Entry(
    subject_id="visitor-1",
    policy_kind=PolicyKind.PRIVACY,
    policy_version=3,
    locale="ru",
    method=ConsentMethod.BANNER,
    decisions=[
        {"purpose": "analytics.reporting", "granted": True},
        {"purpose": "third_party_sharing", "granted": False, "method": "GPC"},
    ],
    occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
    source_url="https://acme.example/",
    ip="198.51.100.0",
    user_agent="Mozilla/5.0",
    client_event_id="evt-1",
)
TEXT = st.text(min_size=1, max_size=20)
SAME = {
    "occurred_at": st.datetimes(timezones=st.just(UTC)),
    "source_url": st.none() | TEXT,
    "ip": st.none() | TEXT,
    "user_agent": st.none() | TEXT,
}
OTHER = {
    "subject_id": TEXT.filter(lambda s: s != ENTRY.subject_id),
    "policy_kind": st.just(PolicyKind.COOKIES),
    "policy_version": st.integers(1, 100).filter(lambda n: n != ENTRY.policy_version),
    "locale": st.sampled_from([None, "en", "ru-RU", "uz"]),
    "method": st.sampled_from([m for m in ConsentMethod if m != ENTRY.method]),
    "decisions": st.lists(
        st.fixed_dictionaries(
            {"purpose": st.sampled_from(["analytics.reporting", "third_party_sharing"])},
            optional={"granted": st.booleans(), "method": st.just("GPC")},
        ).map(lambda d: {"granted": True, **d}),
        max_size=2,
        unique_by=lambda d: d["purpose"],
    ).filter(lambda ds: retries._decisions(ds) != retries._decisions(ENTRY.decisions)),
}


@settings(max_examples=200, deadline=None)
@given(
    same=st.fixed_dictionaries({}, optional=SAME),
    other=st.fixed_dictionaries({}, optional=OTHER),
)
def test_a_retry_differs_only_in_time_place_and_evidence(same, other) -> None:
    stored = ENTRY._replace(decisions=list(reversed(ENTRY.decisions)))
    retry = ENTRY._replace(**same, **other)
    assert retries.same_event(retry, stored) is (not other)
