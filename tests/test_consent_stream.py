"""A large recordConsents on PostgreSQL is checked, chained and written a chunk at a time
(``tenants/consent/stream.py``), the database inserting and folding one chunk while the
next is checked. What it leaves must be what the batch says, read by the rule, whatever
chunk an event fell in; and a batch that fails or is cancelled part-way leaves nothing.
On SQLite the same batches go the one-write way: the expectations are the same."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import pytest

from tenants import uncancelled
from tenants.consent import service, writes
from tenants.consent import stream as stream_writes
from tenants.consent.intake import ConsentInput, Evidence
from tenants.consent.methods import ConsentMethod
from tenants.consent.models import ConsentChainHead, ConsentEvent, ConsentState
from tenants.tenancy.models import Tenant
from tests.factories import create_tenant
from tests.test_consent import publish_policy, state
from tests.test_consent_ledger import BATCH, VERIFY

PURPOSES = ("analytics.reporting", "marketing.communications.email")
START = datetime(2026, 1, 1, tzinfo=UTC)
SUBJECTS = 9
BAD = {  # an input the checks refuse, by the code they refuse it with
    "UNDISCLOSED_PURPOSE": {"decisions": [{"purpose": "not.disclosed", "granted": True}]},
    "INVALID": {"subjectId": "erased:someone"},
    "REQUIRED": {"decisions": []},
}


def _inputs(seed: int, count: int) -> tuple[list[dict], dict[int, str]]:
    """``count`` inputs over a few subjects in shuffled time order (ties included), every
    thirteenth one refused by the checks: (the inputs, index -> the code refusing it)."""
    chance = random.Random(seed)
    made, refused = [], {}
    for index in range(count):
        purposes = chance.sample(PURPOSES, chance.randint(1, 2))
        item = {
            "subjectId": f"s-{chance.randrange(SUBJECTS)}",
            "method": "IMPORT",
            "occurredAt": (START + timedelta(hours=chance.randrange(12))).isoformat(),
            "decisions": [{"purpose": p, "granted": chance.random() < 0.5} for p in purposes],
        }
        if index % 13 == 5:
            code = chance.choice(sorted(BAD))
            item |= BAD[code]
            refused[index] = code
        made.append(item)
    return made, refused


def _expected(inputs: list[dict], refused: dict[int, str]) -> dict[str, dict]:
    """The state by the rule: per subject and purpose the newest decision, ties to the
    later input."""
    found: dict[str, dict] = {}
    for index, item in enumerate(inputs):
        if index in refused:
            continue
        for decision in item["decisions"]:
            at = datetime.fromisoformat(item["occurredAt"])
            held = found.setdefault(item["subjectId"], {}).get(decision["purpose"])
            if held is None or held[1] <= at:
                found[item["subjectId"]][decision["purpose"]] = (decision["granted"], at)
    return found


def consent_inputs(count: int, prefix: str = "c") -> list[ConsentInput]:
    """``count`` inputs the service takes as they are (one granted purpose, new subjects)."""
    return [
        ConsentInput(
            subject_id=f"{prefix}-{n}",
            decisions=[(PURPOSES[0], True)],
            method=ConsentMethod.BANNER,
            occurred_at=START,
        )
        for n in range(count)
    ]


@pytest.fixture
async def owner(api):
    _, owner = await create_tenant(api, slug="acme", domains=["acme.example"])
    await publish_policy(api, owner)
    return owner


@pytest.fixture
def copies(monkeypatch) -> list[int]:
    """The size of every chunk a Stream wrote, in order."""
    sizes: list[int] = []
    original = stream_writes.Stream._write

    async def counted(self, before, chunk):
        await original(self, before, chunk)
        sizes.append(len(chunk))

    monkeypatch.setattr(stream_writes.Stream, "_write", counted)
    return sizes


async def test_a_batch_over_several_chunks_folds_by_the_rule(api, owner, copies):
    inputs, refused = _inputs(seed=29, count=3 * stream_writes.CHUNK + 40)
    body = await api(BATCH, {"inputs": inputs}, token=owner)
    result = body["data"]["recordConsents"]
    assert result["recorded"] == len(inputs) - len(refused)
    assert {int(e["field"][1]): e["code"] for e in result["userErrors"]} == refused
    if writes.on_postgres():  # else the one-write way: nothing streamed
        assert len(copies) >= 3 and sum(copies) == result["recorded"]
    read = {
        f"s-{n}": {
            purpose: (d["granted"], datetime.fromisoformat(d["decidedAt"]))
            for purpose, d in (await state(api, owner, f"s-{n}")).items()
        }
        for n in range(SUBJECTS)
    }
    assert read == _expected(inputs, refused)
    verified = (await api(VERIFY, token=owner))["data"]["verifyConsentLedger"]
    assert verified == {"ok": True, "checked": result["recorded"], "firstBrokenId": None}


async def test_retries_and_reused_ids_across_chunks(api, owner):
    """A clientEventId repeated far apart in one batch, and one stored by an earlier batch:
    the same event is a duplicate, another event under the same id is refused."""

    def item(n: int, event_id: str | None = None, granted: bool = True) -> dict:
        made = {
            "subjectId": f"r-{n}",
            "method": "BANNER",
            "occurredAt": START.isoformat(),
            "decisions": [{"purpose": PURPOSES[0], "granted": granted}],
        }
        return made | ({"clientEventId": event_id} if event_id else {})

    await api(BATCH, {"inputs": [item(0, "stored")]}, token=owner)
    inputs = [item(n) for n in range(2 * stream_writes.CHUNK + 30)]
    inputs[3] = item(3, "early")
    inputs[150] = item(3, "early")  # the same event again: a retry
    inputs[160] = item(9, "early")  # another event under that id: refused
    inputs[220] = item(0, "stored")  # a retry of the earlier batch's event
    result = (await api(BATCH, {"inputs": inputs}, token=owner))["data"]["recordConsents"]
    assert result["duplicates"] == 2
    assert [(e["field"], e["code"]) for e in result["userErrors"]] == [
        (["inputs", "160", "clientEventId"], "CLIENT_EVENT_ID_REUSED")
    ]
    assert result["recorded"] == len(inputs) - 3
    verified = (await api(VERIFY, token=owner))["data"]["verifyConsentLedger"]
    assert verified == {"ok": True, "checked": result["recorded"] + 1, "firstBrokenId": None}


async def test_a_failure_in_a_later_chunk_writes_nothing(api, owner, monkeypatch):
    original = stream_writes.Stream._write
    written = []

    async def third_fails(self, before, chunk):
        if before is not None:
            await before
        if len(written) == 2:
            raise ConnectionError("the database went away")
        await original(self, None, chunk)
        written.append(len(chunk))

    monkeypatch.setattr(stream_writes.Stream, "_write", third_fails)
    made, refused = _inputs(seed=3, count=4 * stream_writes.CHUNK + 40)
    inputs = [item for index, item in enumerate(made) if index not in refused]
    body = await api(BATCH, {"inputs": inputs}, token=owner)
    if not writes.on_postgres():
        pytest.skip("no stream on SQLite: the write is one")
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert len(written) == 2  # two chunks went in before the failure
    tenant = await Tenant.get(slug="acme")
    assert await ConsentEvent.filter(tenant_id=tenant.id).count() == 0
    assert await ConsentState.filter(tenant_id=tenant.id).count() == 0
    head = await ConsentChainHead.get_or_none(tenant_id=tenant.id)
    assert head is None or head.sequence == 0
    monkeypatch.setattr(stream_writes.Stream, "_write", original)
    again = (await api(BATCH, {"inputs": inputs}, token=owner))["data"]["recordConsents"]
    assert again["recorded"] == len(inputs) and again["userErrors"] == []
    verified = (await api(VERIFY, token=owner))["data"]["verifyConsentLedger"]
    assert verified == {"ok": True, "checked": len(inputs), "firstBrokenId": None}


async def test_a_batch_whose_caller_left_mid_stream_lands_whole(api, owner):
    """The caller gone while a chunk is in the database (the request's task cancelled: a
    socket's ``complete``, the edge's time limit): the caller stops waiting at once, and
    the write goes on to its end (``tenants.uncancelled``), never cut between a driver's
    messages. The batch lands whole, the connection serves the next one."""
    if not writes.on_postgres():
        pytest.skip("no stream on SQLite: the write is one")
    tenant = await Tenant.get(slug="acme")
    items = consent_inputs(5 * stream_writes.CHUNK)
    started = asyncio.Event()
    original = stream_writes.Stream._write

    async def signalling(self, before, chunk):
        started.set()
        await original(self, before, chunk)

    stream_writes.Stream._write = signalling
    try:
        task = asyncio.ensure_future(
            service.record_consents(
                tenant=tenant, actor="test", items=items, evidence=Evidence(), cache=None
            )
        )
        await asyncio.wait_for(started.wait(), 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.wait_for(asyncio.gather(*uncancelled._running), 20)
    finally:
        stream_writes.Stream._write = original
    assert await ConsentEvent.filter(tenant_id=tenant.id).count() == len(items)
    again = [item._replace(subject_id=f"d-{n}") for n, item in enumerate(items)]
    result = await service.record_consents(
        tenant=tenant, actor="test", items=again, evidence=Evidence(), cache=None
    )
    assert result.recorded == len(items) and result.problems == ()
    verified = (await api(VERIFY, token=owner))["data"]["verifyConsentLedger"]
    assert verified == {"ok": True, "checked": 2 * len(items), "firstBrokenId": None}
