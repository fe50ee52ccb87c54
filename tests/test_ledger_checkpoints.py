"""Checkpoints of the consent ledger: what they let verification skip, and what they catch.

The attacks, from a database writer's seat: an edited row after the checkpoint, an edited
row before it, a chain re-hashed end to end from an edited row (the stored links all agree
again), and the same with the checkpoint rows rewritten too, which only a head exported
to a third party still catches.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tortoise import connections

from tenants.consent import chain, jobs, reading, verification
from tenants.consent.ledger import document_of
from tenants.consent.models import ConsentChainHead, ConsentCheckpoint, ConsentEvent
from tenants.tenancy.models import Tenant
from tests.factories import create_tenant, error_codes
from tests.test_consent import grant, publish_policy

BATCH = "mutation($i: [ConsentInput!]!) { recordConsents(inputs: $i) { recorded } }"
VERIFY = """query($expect: LedgerCheckpointInput) {
  verifyConsentLedger(expect: $expect) {
    ok checked firstBrokenId reason walked fromSequence headSequence complete
    checkpoint { sequence hash full }
  }
}"""
CHECKPOINT = "{ consentLedgerCheckpoint { sequence hash full } }"
START = """mutation($expect: LedgerCheckpointInput) {
  startLedgerVerification(expect: $expect) {
    verification { id status throughSequence } userErrors { field code }
  }
}"""
JOB = """query($id: ID!) {
  ledgerVerification(id: $id) { status checked progress firstBrokenId reason throughSequence }
}"""


@pytest.fixture
async def owner(api):
    _, owner = await create_tenant(api, slug="acme")
    await publish_policy(api, owner)
    return owner


async def record(api, owner, count: int, first: int = 0) -> None:
    inputs = [
        {"subjectId": f"s-{i}", "method": "IMPORT", "decisions": grant("analytics.reporting")}
        for i in range(first, first + count)
    ]
    for start in range(0, count, 1000):
        body = await api(BATCH, {"i": inputs[start : start + 1000]}, token=owner)
        assert body["data"]["recordConsents"]["recorded"] == len(inputs[start : start + 1000])


async def verify(api, owner, expect=None) -> dict:
    body = await api(VERIFY, {"expect": expect}, token=owner)
    assert "errors" not in body, body
    return body["data"]["verifyConsentLedger"]


async def event_id(sequence: int) -> str:
    return str((await ConsentEvent.get(sequence=sequence)).id)


async def tamper(sequence: int) -> None:
    """An edit straight in the database: the decision turned around."""
    decisions = '[{"granted":false,"purpose":"analytics.reporting"}]'
    await connections.get("default").execute_query(
        "UPDATE consent_event SET decisions = $1 WHERE sequence = $2"
        if connections.get("default").capabilities.dialect == "postgres"
        else "UPDATE consent_event SET decisions = ? WHERE sequence = ?",
        [decisions, sequence],
    )


async def rehash_from(sequence: int) -> None:
    """What a careful attacker does after an edit: every later link re-hashed, and the head,
    so that the stored chain agrees with itself again."""
    events = await ConsentEvent.filter(sequence__gte=sequence).order_by("sequence")
    previous = (await ConsentEvent.get(sequence=sequence - 1)).hash if sequence > 1 else None
    for event in events:
        event.previous_hash = previous
        event.hash = chain.link_hash(previous_hash=previous, document=document_of(event))
        await event.save(update_fields=["previous_hash", "hash"])
        previous = event.hash
    await ConsentChainHead.all().update(hash=previous)


async def run_full(api, owner, expect=None) -> dict:
    """A full verification queued over GraphQL and run by the worker's own function."""
    body = await api(START, {"expect": expect}, token=owner)
    job = body["data"]["startLedgerVerification"]["verification"]
    assert job["status"] == "QUEUED"
    claimed = await jobs.claim_next(now=datetime.now(UTC))
    await jobs.run(claimed, clock=lambda: datetime.now(UTC))
    return (await api(JOB, {"id": job["id"]}, token=owner))["data"]["ledgerVerification"]


async def test_verification_starts_at_the_checkpoint_and_records_the_next(api, owner):
    await record(api, owner, 10)
    first = await verify(api, owner)
    assert first["ok"] and first["checked"] == 10 and first["walked"] == 10
    assert first["checkpoint"]["sequence"] == 10 and first["fromSequence"] == 0
    await record(api, owner, 5, first=10)
    second = await verify(api, owner)
    assert second["ok"] and second["checked"] == 15 and second["walked"] == 5
    assert second["fromSequence"] == 10 and second["checkpoint"]["sequence"] == 15
    again = await verify(api, owner)
    assert again["ok"] and again["checked"] == 15 and again["walked"] == 0
    exported = (await api(CHECKPOINT, token=owner))["data"]["consentLedgerCheckpoint"]
    assert exported == {"sequence": 15, "hash": second["checkpoint"]["hash"], "full": False}


async def test_a_checkpoint_detects_tampering_after_it(api, owner):
    await record(api, owner, 10)
    assert (await verify(api, owner))["checkpoint"]["sequence"] == 10
    await record(api, owner, 5, first=10)
    await tamper(12)
    found = await verify(api, owner)
    assert found["ok"] is False and found["firstBrokenId"] == await event_id(12)
    assert found["checked"] == 11 and found["reason"] == "hash does not match the document"
    assert found["checkpoint"]["sequence"] == 10  # no checkpoint past a broken link


async def test_a_checkpoint_detects_tampering_before_it(api, owner):
    await record(api, owner, 10)
    assert (await verify(api, owner))["ok"]
    await tamper(3)
    # The edited row lies behind the checkpoint: the walk from it does not see it, the
    # full walk from genesis does.
    assert (await verify(api, owner))["ok"] is True
    job = await run_full(api, owner)
    assert job["status"] == "FAILED" and job["firstBrokenId"] == await event_id(3)
    assert job["checked"] == 2 and job["reason"] == "hash does not match the document"


async def test_a_rehashed_chain_breaks_its_checkpoint(api, owner):
    await record(api, owner, 10)
    assert (await verify(api, owner))["checkpoint"]["sequence"] == 10
    await tamper(3)
    await rehash_from(3)  # the stored links agree with each other again
    found = await verify(api, owner)
    assert found["ok"] is False and found["firstBrokenId"] == await event_id(10)
    assert "checkpoint" in found["reason"]
    job = await run_full(api, owner)
    assert job["status"] == "FAILED" and job["firstBrokenId"] == await event_id(10)
    assert job["reason"] == "the checkpoint at sequence 10 does not match the chain"


async def test_only_the_exported_head_catches_a_rewritten_checkpoint(api, owner):
    await record(api, owner, 10)
    exported = (await verify(api, owner))["checkpoint"]
    held = {"sequence": exported["sequence"], "hash": exported["hash"]}
    await record(api, owner, 5, first=10)
    assert (await verify(api, owner, held))["ok"] is True
    await tamper(3)
    await rehash_from(3)
    await ConsentCheckpoint.all().delete()  # and the checkpoints that would tell
    assert (await verify(api, owner))["ok"] is True  # the database agrees with itself
    found = await verify(api, owner, held)
    assert found["ok"] is False and found["firstBrokenId"] == await event_id(10)
    assert found["reason"] == "the event at sequence 10 no longer has the exported head's hash"
    job = await run_full(api, owner, held)
    assert job["status"] == "FAILED" and job["firstBrokenId"] == await event_id(10)


async def test_a_long_ledger_is_walked_a_budget_at_a_time(api, owner):
    await record(api, owner, 2500)
    tenant = await Tenant.get(slug="acme")
    postgres = connections.get("default").capabilities.dialect == "postgres"
    step = reading.CHUNK if postgres else reading.ORM_CHUNK
    now, reached = datetime.now(UTC), []
    while not reached or not reached[-1][1]:
        # No time at all: one chunk per call, each call's end saved as a checkpoint.
        found = await verification.since_checkpoint(tenant=tenant, now=now, budget=0)
        assert found.ok and found.checkpoint.sequence == found.through
        reached.append((found.through, found.complete))
    ends = [min(step * n, 2500) for n in range(1, -(-2500 // step) + 1)]
    assert reached == [(end, end == 2500) for end in ends]


async def test_links_cut_off_behind_a_checkpoint(api, owner):
    await record(api, owner, 10)
    assert (await verify(api, owner))["ok"]
    await connections.get("default").execute_script("DELETE FROM consent_event WHERE sequence > 7")
    await ConsentChainHead.all().update(sequence=7)
    found = await verify(api, owner)
    assert found["ok"] is False and "no event at the checkpoint" in found["reason"]


async def test_a_full_verification_passes_and_records_a_full_checkpoint(api, owner):
    await record(api, owner, 1200)
    job = await run_full(api, owner)
    assert job == {
        "status": "PASSED",
        "checked": 1200,
        "progress": 1.0,
        "firstBrokenId": None,
        "reason": None,
        "throughSequence": 1200,
    }
    checkpoint = (await api(CHECKPOINT, token=owner))["data"]["consentLedgerCheckpoint"]
    assert checkpoint["sequence"] == 1200 and checkpoint["full"] is True


@pytest.mark.parametrize(
    ("expect", "field"),
    [
        ({"sequence": 0, "hash": "a" * 64}, "sequence"),
        ({"sequence": 3, "hash": "A" * 64}, "hash"),
        ({"sequence": 3, "hash": "not hex"}, "hash"),
    ],
)
async def test_a_malformed_exported_head_is_refused(api, owner, expect, field):
    body = await api(VERIFY, {"expect": expect}, token=owner)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    started = (await api(START, {"expect": expect}, token=owner))["data"]
    errors = started["startLedgerVerification"]["userErrors"]
    assert errors == [{"field": ["expect", field], "code": "INVALID"}]


async def test_an_exported_head_beyond_the_ledger_fails(api, owner):
    await record(api, owner, 3)
    found = await verify(api, owner, {"sequence": 9, "hash": "a" * 64})
    assert found["ok"] is False and "no event at the exported head" in found["reason"]


async def test_checkpoints_kept_are_the_newest_the_full_ones_and_one_a_day(api, owner):
    await record(api, owner, 30)
    tenant = await Tenant.get(slug="acme")
    today = datetime.now(UTC)
    days_ago = [today - timedelta(days=2), today - timedelta(days=1)]

    async def checkpoint(sequence: int, when: datetime, full: bool = False) -> None:
        hash = (await ConsentEvent.get(sequence=sequence)).hash
        await verification.record_checkpoint(
            tenant=tenant, sequence=sequence, hash=hash, now=when, full=full
        )

    for sequence, when in [(2, days_ago[0]), (4, days_ago[0]), (6, days_ago[1])]:
        await checkpoint(sequence, when)
    await checkpoint(8, days_ago[1])
    await checkpoint(12, today)
    await checkpoint(16, today, full=True)
    await checkpoint(20, today)
    assert (await verify(api, owner))["checkpoint"]["sequence"] == 30  # walked on from 20
    kept = await ConsentCheckpoint.filter(tenant_id=tenant.id).order_by("sequence")
    # 2 and 6 were followed the same day; 12 and 20 today, each before 30 was reached.
    assert [(c.sequence, c.full) for c in kept] == [(4, False), (8, False), (16, True), (30, False)]
    job = await run_full(api, owner)  # what is kept still holds the chain
    assert job["status"] == "PASSED"
    kept = await ConsentCheckpoint.filter(tenant_id=tenant.id).order_by("sequence")
    assert [(c.sequence, c.full) for c in kept] == [(4, False), (8, False), (16, True), (30, True)]
