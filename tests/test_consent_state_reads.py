"""consentState read by many callers at once: each answer is its own subject's, of its own
tenant, whoever shared the round trip (tenants/consent/lookup.py groups concurrent reads
into one statement on PostgreSQL)."""

from __future__ import annotations

import asyncio
import random

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
