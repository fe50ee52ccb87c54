"""Hostile caller against the streamed recordConsents (tenants/consent/stream.py)."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from tenants import uncancelled
from tenants.consent import service, writes
from tenants.consent import stream as stream_writes
from tenants.consent.intake import Evidence
from tenants.consent.models import ConsentEvent
from tenants.tenancy.models import Tenant
from tests.test_consent_ledger import VERIFY
from tests.test_consent_stream import consent_inputs, owner  # noqa: F401


async def test_cancelled_while_waiting_for_the_last_chunk(api, owner):  # noqa: F811
    """The client gone while ``finish`` waits on the chunks in flight: the COPY itself is
    caller stops waiting, the write goes on to its end (``tenants.uncancelled``): every
    batch lands whole, the ledger verifies."""
    if not writes.on_postgres():
        pytest.skip("no stream on SQLite")
    tenant = await Tenant.get(slug="acme")
    items = consent_inputs(5 * stream_writes.CHUNK)
    waiting = asyncio.Event()
    original_write, original_finish = stream_writes.Stream._write, stream_writes.Stream.finish

    async def slow(self, before, chunk):
        await original_write(self, before, chunk)

    async def finishing(self):
        waiting.set()
        await original_finish(self)

    stream_writes.Stream.finish = finishing
    try:
        for _ in range(5):
            waiting.clear()
            task = asyncio.ensure_future(
                service.record_consents(
                    tenant=tenant, actor="test", items=items, evidence=Evidence(), cache=None
                )
            )
            await asyncio.wait_for(waiting.wait(), 10)
            await asyncio.sleep(0)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await asyncio.wait_for(asyncio.gather(*uncancelled._running), 20)
    finally:
        stream_writes.Stream.finish = original_finish
    # Each cancelled caller's batch ran to its end (tenants.uncancelled): the same inputs
    # five times, no clientEventId, five whole batches, none cut part-way.
    assert await ConsentEvent.filter(tenant_id=tenant.id).count() == 5 * len(items)
    verified = (await api(VERIFY, token=owner))["data"]["verifyConsentLedger"]
    assert verified == {"ok": True, "checked": 5 * len(items), "firstBrokenId": None}


@pytest.mark.parametrize("delay", [0.00025 * n for n in range(40)])
async def test_cancelled_while_saving_contacts_frees_the_ledger(api, owner, delay):  # noqa: F811
    """A batch with e-mails, its caller gone (a graphql-transport-ws ``complete``, a closed
    socket) while the contacts are written: asyncpg's executemany, cancelled between its
    messages, left PostgreSQL waiting for the rest (ClientRead) with the transaction
    open, the tenant's chain head locked, for ~45 s: every write of the tenant waited
    and timed out. The next write must go through at once, and nothing half-written."""
    from asyncpg.connection import Connection

    tenant = await Tenant.get(slug="acme")
    items = [
        item._replace(email=f"{'p' * 60}{n}@{'d' * 60}.example.com")
        for n, item in enumerate(consent_inputs(1000, prefix="m"))
    ]
    saving = asyncio.Event()
    original = Connection.executemany

    async def signalling(self, command, args, *more, **named):
        if "subject_contact" in command:
            # A busy server reads slowly: asyncpg then waits, between its messages, for
            # the socket to drain. A small buffer makes that wait certain.
            self._transport.set_write_buffer_limits(high=512)
            saving.set()
        return await original(self, command, args, *more, **named)

    Connection.executemany = signalling
    try:
        task = asyncio.ensure_future(
            service.record_consents(
                tenant=tenant, actor="test", items=items, evidence=Evidence(), cache=None
            )
        )
        if writes.on_postgres():
            await asyncio.wait_for(saving.wait(), 20)
        await asyncio.sleep(delay)
        task.cancel()
        # asyncpg's executemany swallowed a cancellation between its messages (a
        # ``return`` in its ``finally``) and waited for an answer PostgreSQL, still
        # waiting for the rest of the messages, never sent: the task never ended.
        await asyncio.wait({task}, timeout=15)
        if not task.done():
            pytest.fail("the cancelled batch is stuck, holding the tenant's chain head")
        if not task.cancelled():
            task.exception()  # retrieved: a batch that ended otherwise is fine too
        await asyncio.wait_for(asyncio.gather(*uncancelled._running), 30)
    finally:
        Connection.executemany = original
    written = await ConsentEvent.filter(tenant_id=tenant.id).count()
    # On PostgreSQL the caller left inside the write (while saving contacts): the write
    # ran to its end (tenants.uncancelled). Elsewhere it may have left before it began.
    assert written == len(items) if writes.on_postgres() else written in (0, len(items))
    again = consent_inputs(3, prefix="after")
    result = await asyncio.wait_for(
        service.record_consents(
            tenant=tenant, actor="test", items=again, evidence=Evidence(), cache=None
        ),
        10,
    )
    assert result.recorded == 3
    verified = (await api(VERIFY, token=owner))["data"]["verifyConsentLedger"]
    assert verified == {"ok": True, "checked": written + 3, "firstBrokenId": None}
