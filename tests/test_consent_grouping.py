"""Group commit isolates a bad event: concurrent visitors share transactions, and one
visitor's event that fails in the write (here, at the database) fails only its caller."""

from __future__ import annotations

import asyncio
import json

import pytest

from tenants.consent import service
from tenants.consent.intake import ConsentInput, Evidence
from tenants.consent.methods import ConsentMethod
from tenants.tenancy.models import Tenant
from tests.factories import create_key, create_tenant
from tests.test_consent import RECORD, publish_policy
from tests.test_consent_ledger import VERIFY, _audit
from tests.test_restriction import complete

VISITORS = 200
BAD = VISITORS // 2  # in the middle, so good events share its write on both sides
# A lone surrogate cannot be encoded as UTF-8: the chain's hashing and both databases
# refuse it. Whatever the edge lets through, this is an event that fails in the write.
BROKEN_SUBJECT = "visitor-\ud800"


@pytest.fixture
async def site(api):
    _, owner = await create_tenant(api, slug="acme", domains=["acme.example"])
    await publish_policy(api, owner)
    _, publishable = await create_key(api, owner, name="site", publishable=True)
    return owner, publishable


def _decisions():
    return [{"purpose": "analytics.reporting", "granted": True}]


@pytest.mark.parametrize("bad", [{BAD}, {1, BAD + 1, VISITORS - 1}])
async def test_a_bad_event_in_the_group_fails_only_its_own_caller(api, site, bad):
    owner, _ = site
    tenant = await Tenant.get(slug="acme")

    async def one(index: int):
        subject = BROKEN_SUBJECT if index in bad else f"visitor-{index}"
        item = ConsentInput(
            subject_id=subject,
            decisions=[("analytics.reporting", True)],
            method=ConsentMethod.BANNER,
        )
        recorded = await service.record_consent(
            tenant=tenant, actor="key:site", item=item, evidence=Evidence(), cache=None
        )
        return recorded.event

    outcomes = await asyncio.gather(*(one(i) for i in range(VISITORS)), return_exceptions=True)
    failed = [i for i, outcome in enumerate(outcomes) if isinstance(outcome, BaseException)]
    assert failed == sorted(bad)
    good = [i for i in range(VISITORS) if i not in bad]
    assert [outcomes[i].subject_id for i in good] == [f"visitor-{i}" for i in good]
    writes = [e for e in await _audit(api, owner) if e["action"] == "consent.record"]
    assert sum(e["details"]["events"] for e in writes) == len(good)
    assert any(e["details"]["events"] > 1 for e in writes)  # they really were grouped
    verified = (await api(VERIFY, token=owner))["data"]["verifyConsentLedger"]
    assert verified == {"ok": True, "checked": len(good), "firstBrokenId": None}


async def test_over_http_concurrent_visitors_lose_nothing_to_one_hostile_one(client, api, site):
    owner, publishable = site
    headers = {
        "Authorization": f"Bearer {publishable}",
        "Content-Type": "application/json",
        "Origin": "https://acme.example",
    }

    async def one(index: int):
        subject = BROKEN_SUBJECT if index == BAD else f"visitor-{index}"
        variables = {"input": {"subjectId": subject, "method": "BANNER", "decisions": _decisions()}}
        # json.dumps writes the lone surrogate as the escape "\ud800", as a browser's
        # JSON.stringify does: valid JSON text, an invalid string.
        body = json.dumps({"query": RECORD, "variables": variables})
        return await client.post("/graphql", content=body, headers=headers)

    answers = await asyncio.gather(*(one(i) for i in range(VISITORS)))
    for index, answer in enumerate(answers):
        if index == BAD:
            assert answer.status_code < 500, answer.text  # refused or failed alone, never a 5xx
            payload = answer.json()
            receipt = ((payload.get("data") or {}).get("recordConsent") or {}).get("receipt")
            assert receipt is None
            continue
        assert answer.status_code == 200, answer.text
        result = answer.json()["data"]["recordConsent"]
        assert result["userErrors"] == [] and result["receipt"]["subjectId"] == f"visitor-{index}"
    verified = (await api(VERIFY, token=owner))["data"]["verifyConsentLedger"]
    assert verified == {"ok": True, "checked": VISITORS - 1, "firstBrokenId": None}


SHARED = 40
RESTRICTED = 7  # one of the group, under a restriction before it consents
RECEIPT = """mutation($input: ConsentInput!) {
  recordConsent(input: $input) {
    receipt { subjectId sequence decisions { purpose granted restricted } }
    userErrors { code }
  }
}"""


async def test_concurrent_visitors_share_transactions_and_each_gets_its_own_receipt(
    client, api, site, queries
):
    owner, publishable = site
    await complete(api, owner, "RESTRICTION", subject=f"visitor-{RESTRICTED}")
    headers = {"Authorization": f"Bearer {publishable}", "Origin": "https://acme.example"}

    async def one(index: int):
        variables = {
            "input": {
                "subjectId": f"visitor-{index}",
                "method": "BANNER",
                "decisions": _decisions(),
            }
        }
        return await client.post(
            "/graphql", json={"query": RECEIPT, "variables": variables}, headers=headers
        )

    earlier = len(await _audit(api, owner))  # newest first: the restriction's are older
    queries.reset()
    answers = await asyncio.gather(*(one(i) for i in range(SHARED)))
    receipts = [answer.json()["data"]["recordConsent"] for answer in answers]
    assert all(r["userErrors"] == [] for r in receipts)
    assert [r["receipt"]["subjectId"] for r in receipts] == [f"visitor-{i}" for i in range(SHARED)]
    assert len({r["receipt"]["sequence"] for r in receipts}) == SHARED
    # Each receipt reads its own subject's standing, though the group read them together.
    restricted = [i for i, r in enumerate(receipts) if r["receipt"]["decisions"][0]["restricted"]]
    assert restricted == [RESTRICTED]
    fresh = (await _audit(api, owner))[: -earlier or None]
    writes = [e for e in fresh if e["action"] == "consent.record"]
    assert sum(e["details"]["events"] for e in writes) == SHARED
    assert len(writes) < SHARED // 4  # shared transactions, not one per visitor
    # The standing is read once per transaction, not once per visitor.
    flag_reads = [s for s in queries.statements if "subject_flags" in s and "SELECT" in s]
    assert len(flag_reads) == len(writes)
