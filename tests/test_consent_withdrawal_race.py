"""A withdrawal (a WITHDRAWAL or OBJECTION request, an erasure) racing a decision of the
same subject: the decision is either withdrawn or chained after the withdrawal, never
left granted in between (read by the withdrawal before it, chained before the withdrawal)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from tortoise.transactions import in_transaction

from tenants.consent import service, withdrawal
from tenants.consent.intake import ConsentInput, Evidence
from tenants.consent.methods import ConsentMethod
from tenants.consent.models import ConsentState
from tenants.subjects.erasure import erase_subject, pseudonym
from tenants.tenancy.models import Tenant
from tests.factories import create_tenant
from tests.test_consent import publish_policy
from tests.test_consent_ledger import VERIFY
from tests.test_consent_unlocked import _waiting_for_a_lock


@pytest.fixture
async def owner(api):
    _, owner = await create_tenant(api, slug="acme", domains=["acme.example"])
    await publish_policy(api, owner)
    return owner


async def _grant(tenant: Tenant, purpose: str):
    item = ConsentInput(subject_id="v", decisions=[(purpose, True)], method=ConsentMethod.BANNER)
    return await service.record_consent(
        tenant=tenant, actor="key:site", item=item, evidence=Evidence(), cache=None
    )


async def test_a_grant_racing_an_erasure_is_withdrawn_or_comes_after_it(api, owner, monkeypatch):
    tenant = await Tenant.get(slug="acme")
    await _grant(tenant, "analytics.reporting")
    await _grant(tenant, "analytics.reporting")  # the next write may go unlocked
    read, go = asyncio.Event(), asyncio.Event()
    original = withdrawal.append

    async def append_later(**kwargs):
        read.set()  # the granted purposes are read: the withdrawal's events are set
        await go.wait()
        return await original(**kwargs)

    monkeypatch.setattr(withdrawal, "append", append_later)

    async def erase():
        async with in_transaction():
            await erase_subject(
                tenant=tenant, actor="user:owner", subject_id="v", now=datetime.now(UTC)
            )

    erasing = asyncio.create_task(erase())
    await asyncio.wait_for(read.wait(), 5)
    recording = asyncio.create_task(_grant(tenant, "third_party_sharing"))
    await _waiting_for_a_lock()
    go.set()
    await erasing
    await recording
    alias = pseudonym("v")
    left = await ConsentState.filter(subject_id=alias, granted=True).values_list(
        "purpose", flat=True
    )
    assert left == []  # the erased subject keeps no consent given
    verified = (await api(VERIFY, token=owner))["data"]["verifyConsentLedger"]
    assert verified["ok"] and verified["checked"] == 4
