"""consentState read by many callers at once: each answer is its own subject's, of its own
tenant, whoever shared the round trip (tenants/consent/lookup.py groups concurrent reads
into one statement on PostgreSQL)."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime

import pytest
from tortoise.transactions import in_transaction

from tenants.consent import lookup
from tenants.consent.methods import ConsentMethod
from tenants.consent.models import ConsentState
from tenants.policies.kinds import PolicyKind
from tenants.subjects.models import SubjectFlags
from tenants.tenancy.models import Tenant
from tests import backends as tb
from tests.factories import create_key, create_tenant
from tests.test_consent import grant, publish_policy
from tests.test_restriction import complete

RECORD = """mutation($input: ConsentInput!) {
  recordConsent(input: $input) { userErrors { code } }
}"""
STATE = """query($s: String!) {
  consentState(subjectId: $s) { purpose granted restricted objected }
}"""
PURPOSES = ("analytics.reporting", "marketing.communications.email")


async def _tenant(api, slug: str) -> dict:
    _, owner = await create_tenant(
        api, slug=slug, jurisdictions=["RU"], domains=[f"{slug}.example"]
    )
    await publish_policy(api, owner)
    _, site = await create_key(api, owner, name="site", publishable=True)
    return {"owner": owner, "site": site}


async def _consent(api, site: str, subject: str, decisions: list[dict]) -> None:
    item = {"subjectId": subject, "method": "FORM", "decisions": decisions}
    body = await api(RECORD, {"input": item}, token=site)
    assert body["data"]["recordConsent"]["userErrors"] == [], body


async def _state(api, owner: str, subject: str) -> list[dict]:
    body = await api(STATE, {"s": subject}, token=owner)
    assert "errors" not in body, body
    return body["data"]["consentState"]


async def test_concurrent_reads_each_get_their_own_subject_of_their_own_tenant(api, queries):
    acme, globex = await _tenant(api, "acme"), await _tenant(api, "globex")
    # The same subject ids in both tenants, with opposite decisions; subjects with one
    # purpose, with two, with none at all, and one restricted (its flags ride the join).
    for index in range(6):
        subject = f"v{index}"
        chosen = PURPOSES[: index % 3]
        if chosen:
            await _consent(api, acme["site"], subject, grant(*chosen))
            await _consent(api, globex["site"], subject, grant(*chosen, granted=False))
    await complete(api, acme["owner"], "RESTRICTION", subject="v1")
    reads = [(tenant, f"v{i}") for tenant in (acme, globex) for i in range(7)] * 3
    expected = {(t["owner"], s): await _state(api, t["owner"], s) for t, s in reads}
    assert expected[(acme["owner"], "v1")][0]["restricted"] is True
    assert expected[(globex["owner"], "v1")][0]["restricted"] is False
    assert expected[(globex["owner"], "v2")][0]["granted"] is False
    assert expected[(acme["owner"], "v3")] == [] == expected[(acme["owner"], "v6")]

    random.Random(7).shuffle(reads)
    queries.reset()
    answers = await asyncio.gather(*(_state(api, t["owner"], s) for t, s in reads))
    for (tenant, subject), answer in zip(reads, answers, strict=True):
        assert answer == expected[(tenant["owner"], subject)], (subject, answer)
    statements = [s for s in queries.statements if '"consent_state"' in s]
    if tb.BACKEND == "postgres":  # reads in flight together shared round trips
        assert len(statements) < len(reads), len(statements)


async def test_a_read_in_a_batch_sees_a_write_committed_before_it(api):
    acme = await _tenant(api, "acme")
    await _consent(api, acme["site"], "w", grant(*PURPOSES))
    # Readers pile up; a withdrawal lands between their arrivals: every read that starts
    # after the withdrawal's answer came back sees it, however reads were grouped.
    before = [asyncio.ensure_future(_state(api, acme["owner"], "w")) for _ in range(10)]
    await _consent(api, acme["site"], "w", grant(*PURPOSES, granted=False))
    after = await asyncio.gather(*(_state(api, acme["owner"], "w") for _ in range(10)))
    await asyncio.gather(*before)
    assert all(d["granted"] is False for answer in after for d in answer), after


async def _read(tenant: Tenant, subject: str) -> list[tuple[str, bool]]:
    rows, _ = await lookup.state_of(tenant=tenant, subject_id=subject)
    return [(row.purpose, row.granted) for row in rows]


async def test_a_bad_subject_id_fails_its_own_read_only(api):
    acme = await _tenant(api, "acme")
    await _consent(api, acme["site"], "good", grant(*PURPOSES))
    tenant = await Tenant.get(slug="acme")
    # The gate refuses NUL and lone surrogates in variables; a read that gets one anyway
    # (or any value the database refuses) must not take down the reads it was sent with.
    subjects = ["good", "a\x00b", "good", "\ud800", "x" * 10_000, "good"]
    answers = await asyncio.gather(*(_read(tenant, s) for s in subjects), return_exceptions=True)
    expected = [(purpose, True) for purpose in sorted(PURPOSES)]
    assert [answers[i] for i in (0, 2, 5)] == [expected] * 3, answers
    assert answers[4] == [], answers[4]  # too long to exist, but a question like any other
    if tb.BACKEND == "postgres":  # SQLite stores what PostgreSQL refuses
        assert isinstance(answers[1], Exception) and isinstance(answers[3], Exception), answers


async def test_a_cancelled_read_leaves_the_reads_beside_it_answered(api):
    acme = await _tenant(api, "acme")
    await _consent(api, acme["site"], "good", grant(*PURPOSES))
    tenant = await Tenant.get(slug="acme")
    expected = [(purpose, True) for purpose in sorted(PURPOSES)]
    for _ in range(3):  # the first read goes at once; the others wait for it, and some leave
        reads = [asyncio.ensure_future(_read(tenant, "good")) for _ in range(12)]
        await asyncio.sleep(0)
        for read in reads[1::2]:
            read.cancel()
        answers = await asyncio.gather(*reads, return_exceptions=True)
        assert answers[0::2] == [expected] * 6, answers
        assert all(isinstance(a, asyncio.CancelledError) for a in answers[1::2]), answers
    assert await _read(tenant, "good") == expected  # nothing left waiting on the queue


async def test_a_read_inside_a_transaction_sees_what_the_transaction_wrote(api):
    await _tenant(api, "acme")
    tenant = await Tenant.get(slug="acme")
    state = {
        "purpose": PURPOSES[0], "granted": True, "method": ConsentMethod.FORM,
        "policy_kind": PolicyKind.PRIVACY, "policy_version": 1,
        "decided_at": datetime.now(UTC), "event_id": uuid.uuid4(),
    }  # fmt: skip
    go = asyncio.Event()

    async def elsewhere() -> list:  # another request's read, outside the transaction
        await go.wait()
        return await _read(tenant, "t")

    other = asyncio.ensure_future(elsewhere())  # made here: no transaction in its context
    with pytest.raises(RuntimeError):
        async with in_transaction():
            await ConsentState.create(tenant=tenant, subject_id="t", **state)
            await SubjectFlags.create(tenant=tenant, subject_id="t", restricted=True)
            go.set()
            await asyncio.sleep(0)  # the other read is on its way: ours must not join it
            rows, flags = await lookup.state_of(tenant=tenant, subject_id="t")
            assert [(row.purpose, row.granted) for row in rows] == [(PURPOSES[0], True)]
            assert flags == (True, False)
            raise RuntimeError("rolled back")
    assert await other == []  # never saw the uncommitted row
    assert await lookup.state_of(tenant=tenant, subject_id="t") == ([], (False, False))
