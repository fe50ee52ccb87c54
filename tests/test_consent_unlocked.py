"""A write group chained onto the head where this process left it, without taking the
lock first (``service._append_unlocked``): one statement that writes only if the head is
still there. When it is not (another process wrote), nothing is written and the write
goes the locked way; a stored clientEventId (a retry) goes the locked way too."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from uuid import UUID

import pytest
from tortoise import connections

from tenants.consent import ledger, processing, service
from tenants.consent.intake import ConsentInput, Evidence
from tenants.consent.methods import ConsentMethod
from tenants.subjects.models import SubjectFlags
from tenants.tenancy.models import Tenant
from tests.factories import create_tenant
from tests.test_consent import RECORD, publish_policy
from tests.test_consent_ledger import VERIFY, _audit, item


@pytest.fixture
async def owner(api):
    _, owner = await create_tenant(api, slug="acme", domains=["acme.example"])
    await publish_policy(api, owner)
    return owner


async def _record(api, owner, index: int) -> dict:
    body = await api(RECORD, {"input": item(index, method="BANNER")}, token=owner)
    assert body["data"]["recordConsent"]["userErrors"] == [], body
    return body["data"]["recordConsent"]["receipt"]


async def _tenant_id() -> UUID:
    rows = await connections.get("default").execute_query_dict(
        "SELECT tenant_id FROM consent_chain_head"
    )
    return UUID(str(rows[0]["tenant_id"]))


def _postgres() -> bool:
    return connections.get("default").capabilities.dialect == "postgres"


async def test_a_write_onto_the_head_left_here_is_one_statement_without_the_lock(
    api, owner, queries
):
    if not _postgres():
        pytest.skip("SQLite takes one writer at a time: every write goes the locked way")
    await _record(api, owner, 0)  # the first write of the tenant locks: nothing noted yet
    queries.reset()
    second = await _record(api, owner, 1)
    heads = [s for s in queries.statements if "consent_chain_head" in s]
    assert len(heads) == 1 and "FOR UPDATE" not in heads[0], heads
    assert second["sequence"] == 2
    verified = (await api(VERIFY, token=owner))["data"]["verifyConsentLedger"]
    assert verified == {"ok": True, "checked": 2, "firstBrokenId": None}


async def test_a_head_moved_elsewhere_writes_nothing_and_the_write_takes_the_lock(api, owner):
    await _record(api, owner, 0)
    tenant_id = await _tenant_id()
    stale = ledger.left_at(tenant_id)
    await _record(api, owner, 1)
    ledger._left[tenant_id] = stale  # as another worker's write of event 2 leaves it
    third = await _record(api, owner, 2)
    assert third["sequence"] == 3 and third["previousHash"] is not None
    verified = (await api(VERIFY, token=owner))["data"]["verifyConsentLedger"]
    assert verified == {"ok": True, "checked": 3, "firstBrokenId": None}
    writes = [e for e in await _audit(api, owner) if e["action"] == "consent.record"]
    assert [e["details"]["events"] for e in writes] == [1, 1, 1]  # the miss logged nothing
    if _postgres():  # the miss pauses unlocked writes of the tenant
        assert ledger.left_at(tenant_id) is None
        assert ledger._paused[tenant_id] == ledger.MISS_PAUSE - 1


async def test_a_retry_sent_unlocked_gets_its_first_receipt_and_is_no_miss(api, owner):
    first = await _record(api, owner, 0)
    await _record(api, owner, 1)
    again = await _record(api, owner, 0)  # the same clientEventId, the same event
    assert (again["id"], again["sequence"]) == (first["id"], 1)
    tenant_id = await _tenant_id()
    assert ledger.left_at(tenant_id).sequence == 2
    assert ledger._paused.get(tenant_id, 0) == 0
    verified = (await api(VERIFY, token=owner))["data"]["verifyConsentLedger"]
    assert verified == {"ok": True, "checked": 2, "firstBrokenId": None}


async def test_callers_of_one_tenant_racing_unlocked_never_fork_the_chain(api, owner):
    # Two callers are two groups (grouping is per tenant and caller): each writes
    # unlocked onto the head this process left, and only one of each race can win it.
    tenant = await Tenant.get(slug="acme")

    async def one(index: int):
        item = ConsentInput(
            subject_id=f"v-{index}",
            decisions=[("analytics.reporting", True)],
            method=ConsentMethod.BANNER,
        )
        actor = f"key:caller-{index % 3}"
        recorded = await service.record_consent(
            tenant=tenant, actor=actor, item=item, evidence=Evidence(), cache=None
        )
        return recorded.event.sequence

    await one(-1)  # a head left by this process: the racing writes start unlocked
    for round_ in range(4):
        sequences = await asyncio.gather(*(one(round_ * 30 + i) for i in range(30)))
        assert len(set(sequences)) == 30
    verified = (await api(VERIFY, token=owner))["data"]["verifyConsentLedger"]
    assert verified == {"ok": True, "checked": 121, "firstBrokenId": None}
    if _postgres():  # the race was run: its losers missed, and wrote the locked way
        assert tenant.id in ledger._paused


async def test_a_write_chained_after_a_restriction_reads_the_restriction(api, owner, monkeypatch):
    # A restriction moves the head, then sets the subject's flags, then commits. A write
    # of this process chained onto the head it left must not start (and take its
    # statement's snapshot) before that commit: else it waits for the head's lock, finds
    # the head where it expected it, and reads the subject's flags as they were before.
    tenant = await Tenant.get(slug="acme")
    visitor = ConsentInput(
        subject_id="v", decisions=[("analytics.reporting", True)], method=ConsentMethod.BANNER
    )
    await service.record_consent(
        tenant=tenant, actor="key:site", item=visitor, evidence=Evidence(), cache=None
    )
    appended, go = asyncio.Event(), asyncio.Event()
    original = SubjectFlags.save

    async def save_later(self, *args, **kwargs):
        appended.set()
        await go.wait()
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(SubjectFlags, "save", save_later)
    restricting = asyncio.create_task(
        processing.record(
            tenant=tenant,
            actor="user:owner",
            subject_id="v",
            now=datetime.now(UTC),
            change=processing.ProcessingChange.RESTRICTED,
        )
    )
    await asyncio.wait_for(appended.wait(), 5)
    recording = asyncio.create_task(
        service.record_consent(
            tenant=tenant, actor="key:site", item=visitor, evidence=Evidence(), cache=None
        )
    )
    await _waiting_for_a_lock()
    go.set()
    await restricting
    recorded = await recording
    assert recorded.standing.restricted
    assert recorded.event.sequence == 3
    verified = (await api(VERIFY, token=owner))["data"]["verifyConsentLedger"]
    assert verified == {"ok": True, "checked": 3, "firstBrokenId": None}


async def _waiting_for_a_lock() -> None:
    """Until a statement waits for a row lock (PostgreSQL), or a moment has passed."""
    if not _postgres():  # one writer at a time: the write waits for the restriction
        await asyncio.sleep(0.1)
        return
    for _ in range(100):
        await asyncio.sleep(0.02)
        rows = await connections.get("default").execute_query_dict(
            "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        )
        if rows:
            return
