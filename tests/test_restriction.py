"""Restriction, its lifting and objection: ledger events, and the one reading of them that
consentState and every receipt share (they always agree)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tortoise import connections

from tenants.consent import chain, encoding
from tenants.consent.iso27560 import validate_record
from tenants.consent.kantara import validate_receipt
from tests.factories import create_key, create_tenant
from tests.test_consent import grant, publish_policy
from tests.test_subject_requests import submit, update

FLAGS = "purpose granted stale restricted objected"
RECORD = f"""mutation($input: ConsentInput!) {{
  recordConsent(input: $input) {{
    receipt {{ id processing decisions {{ {FLAGS} }} kantara iso27560 }}
    userErrors {{ field code }}
  }}
}}"""
BATCH = """mutation($inputs: [ConsentInput!]!) {
  recordConsents(inputs: $inputs) { recorded userErrors { code } }
}"""
STATE = f"query($s: String!) {{ consentState(subjectId: $s) {{ {FLAGS} }} }}"
HISTORY = f"""query($s: String!) {{
  consentHistory(subjectId: $s) {{
    edges {{ node {{ sequence processing decisions {{ {FLAGS} }} kantara iso27560 }} }}
  }}
}}"""
LIFT = f"""mutation($s: String!) {{
  liftRestriction(subjectId: $s) {{
    receipt {{ processing subjectId decisions {{ {FLAGS} }} kantara iso27560 }}
    userErrors {{ field code message }}
  }}
}}"""


@pytest.fixture
async def acme(api):
    _, owner = await create_tenant(api, slug="acme", jurisdictions=["RU"], domains=["acme.example"])
    await publish_policy(api, owner)
    _, site = await create_key(api, owner, name="site", publishable=True)
    return {"owner": owner, "site": site}


async def consent(api, token, subject="v", **fields):
    item = {"subjectId": subject, "method": "FORM", **fields}
    item.setdefault("decisions", grant("analytics.reporting", "marketing.communications.email"))
    body = await api(RECORD, {"input": item}, token=token)
    result = body["data"]["recordConsent"]
    assert result["userErrors"] == [], result
    return result["receipt"]


async def complete(api, owner, kind, subject="v"):
    request = (await submit(api, owner, type=kind, subjectId=subject, verified=True))[
        "subjectRequest"
    ]
    done = await update(api, owner, request["id"], "COMPLETE")
    assert done["userErrors"] == [], done


async def everything(api, acme, subject="v") -> list[dict]:
    """Every decision Charter shows for the subject, by every path that makes one: the
    state, a fresh receipt (publishable key), a batch then its history, the history."""
    state = (await api(STATE, {"s": subject}, token=acme["owner"]))["data"]["consentState"]
    fresh = await consent(api, acme["site"], subject, decisions=grant("analytics.reporting"))
    batch = await api(
        BATCH,
        {"inputs": [{"subjectId": subject, "method": "IMPORT", "decisions": grant("analytics.reporting")}]},
        token=acme["owner"],
    )  # fmt: skip
    assert batch["data"]["recordConsents"]["recorded"] == 1
    history = (await api(HISTORY, {"s": subject}, token=acme["owner"]))["data"]["consentHistory"]
    receipts = [fresh] + [edge["node"] for edge in history["edges"]]
    for receipt in receipts:
        assert validate_receipt(receipt["kantara"]) == []
        assert validate_record(receipt["iso27560"]) == []
    return state + [d for r in receipts for d in r["decisions"]]


def flags(decisions: list[dict]) -> set[tuple[bool, bool]]:
    return {(d["restricted"], d["objected"]) for d in decisions}


async def test_restriction_holds_everywhere_until_lifted(api, acme):
    await consent(api, acme["site"])
    assert flags(await everything(api, acme)) == {(False, False)}

    await complete(api, acme["owner"], "RESTRICTION")
    shown = await everything(api, acme)
    assert flags(shown) == {(True, False)}  # state and every receipt alike
    state = (await api(STATE, {"s": "v"}, token=acme["owner"]))["data"]["consentState"]
    # Storage only, but the person's choices are still theirs: nothing was withdrawn.
    assert {d["purpose"]: d["granted"] for d in state} == {
        "analytics.reporting": True,
        "marketing.communications.email": True,
    }

    lifted = (await api(LIFT, {"s": "v"}, token=acme["owner"]))["data"]["liftRestriction"]
    assert lifted["userErrors"] == []
    assert lifted["receipt"]["processing"] == "RESTRICTION_LIFTED"
    assert lifted["receipt"]["decisions"] == []
    assert lifted["receipt"]["kantara"]["services"][0]["purposes"] == []
    assert validate_receipt(lifted["receipt"]["kantara"]) == []
    assert validate_record(lifted["receipt"]["iso27560"]) == []
    assert flags(await everything(api, acme)) == {(False, False)}

    again = (await api(LIFT, {"s": "v"}, token=acme["owner"]))["data"]["liftRestriction"]
    assert again["receipt"] is None
    assert [(e["field"], e["code"]) for e in again["userErrors"]] == [
        (["subjectId"], "NOT_RESTRICTED")
    ]

    history = (await api(HISTORY, {"s": "v"}, token=acme["owner"]))["data"]["consentHistory"]
    changes = [e["node"]["processing"] for e in history["edges"] if e["node"]["processing"]]
    assert changes == ["RESTRICTION_LIFTED", "RESTRICTED"]  # newest first
    verified = await api("{ verifyConsentLedger { ok } }", token=acme["owner"])
    assert verified["data"]["verifyConsentLedger"]["ok"] is True


async def test_objection_shows_on_state_and_receipts(api, acme):
    await consent(api, acme["site"])
    await complete(api, acme["owner"], "OBJECTION")
    shown = await everything(api, acme)
    assert flags(shown) == {(False, True)}
    state = (await api(STATE, {"s": "v"}, token=acme["owner"]))["data"]["consentState"]
    assert {d["purpose"]: d["granted"] for d in state}["marketing.communications.email"] is False


async def test_a_restriction_is_chained(api, acme):
    await consent(api, acme["site"])
    await complete(api, acme["owner"], "RESTRICTION")
    db = connections.get("default")
    await db.execute_query(
        "UPDATE consent_event SET processing = 'RESTRICTION_LIFTED' WHERE processing = 'RESTRICTED'"
    )
    verified = await api("{ verifyConsentLedger { ok firstBrokenId } }", token=acme["owner"])
    assert verified["data"]["verifyConsentLedger"]["ok"] is False


async def test_only_staff_lift_and_only_their_tenants(api, acme):
    await consent(api, acme["site"])
    await complete(api, acme["owner"], "RESTRICTION")
    body = await api(LIFT, {"s": "v"}, token=acme["site"])
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    _, other = await create_tenant(api, slug="other")
    body = await api(LIFT, {"s": "v"}, token=other)
    assert [e["code"] for e in body["data"]["liftRestriction"]["userErrors"]] == ["NOT_RESTRICTED"]
    state = (await api(STATE, {"s": "v"}, token=acme["owner"]))["data"]["consentState"]
    assert flags(state) == {(True, False)}


async def test_a_subject_with_no_consent_can_be_restricted_and_lifted(api):
    _, owner = await create_tenant(api, slug="bare")  # no policy published yet
    await complete(api, owner, "RESTRICTION", subject="nobody")
    lifted = (await api(LIFT, {"s": "nobody"}, token=owner))["data"]["liftRestriction"]
    assert lifted["userErrors"] == [] and lifted["receipt"]["subjectId"] == "nobody"
    verified = await api("{ verifyConsentLedger { ok checked } }", token=owner)
    assert verified["data"]["verifyConsentLedger"] == {"ok": True, "checked": 2}


# The chained document with the processing marker: the fast encoder writes exactly what
# verification rebuilds, for every marker and none.
@settings(max_examples=100, deadline=None)
@given(
    processing=st.none() | st.sampled_from(["RESTRICTED", "RESTRICTION_LIFTED", "OBJECTED"]),
    previous=st.none() | st.text("0123456789abcdef", min_size=64, max_size=64),
)
def test_the_marker_encodes_as_verification_rebuilds_it(processing, previous) -> None:
    when = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    common = {
        "event_id": "0b8f6a7e-3a43-4c1e-9d1c-4f4f7a0f2a11",
        "tenant_id": "5b1c7a2e-3a43-4c1e-9d1c-4f4f7a0f2a11",
        "sequence": 7,
        "policy_kind": "PRIVACY",
        "policy_version": 2,
        "locale": None,
        "method": "API",
        "commitment": "a" * 64,
        "previous_hash": previous,
        "processing": processing,
    }
    fast = encoding.document_json(
        **common,
        occurred_at=encoding.instant(when),
        recorded_at=encoding.instant(when),
        decisions=encoding.decisions_json([]),
    )
    slow = chain.canonical_json(
        chain.event_document(**common, occurred_at=when, recorded_at=when, decisions=[])
    )
    assert fast == slow
    assert (b'"processing"' in fast) is (processing is not None)


async def test_the_tenants_systems_hear_of_it(api, acme):
    import json

    from tenants.outbound import schedule
    from tests.outbound import drain, webhook_receiver
    from tests.test_outbound import endpoint

    async with webhook_receiver() as receiver:
        await endpoint(api, acme["owner"], receiver.url, ["consent.recorded"])
        await consent(api, acme["site"])
        await complete(api, acme["owner"], "RESTRICTION")
        await api(LIFT, {"s": "v"}, token=acme["owner"])
        assert await schedule.consent_batches() == 1
        await drain()
        [(_, body)] = receiver.calls
    events = json.loads(body)["data"]["events"]
    assert [e["processing"] for e in events] == [None, "RESTRICTED", "RESTRICTION_LIFTED"]
