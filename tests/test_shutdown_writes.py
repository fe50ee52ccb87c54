"""A server told to stop (SIGTERM) while a write whose caller left is still running lets
it land: the socket's mutation runs on (``server.execution.shielded``), and closing the
database at shutdown waits for the connections in use (asyncpg's ``Pool.close`` is
graceful), so the write is neither cut nor rolled back. Were shutdown to terminate the
pool's connections instead, this would fail."""

from __future__ import annotations

import asyncio
import signal
import time

import asyncpg
import pytest

from tests import backends as tb
from tests.factories import create_tenant
from tests.servers import serve
from tests.test_consent import publish_policy
from tests.test_gate_websocket import RECORD, Socket, consent

BATCH = """mutation($i: [ConsentInput!]!) { recordConsents(inputs: $i) { recorded } }"""
WAITING = """SELECT count(*) FROM pg_stat_activity
  WHERE wait_event_type = 'Lock' AND query LIKE '%consent_chain_head%'"""


async def _until(connection, query: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not await connection.fetchval(query):
        assert time.monotonic() < deadline, f"never true: {query}"
        await asyncio.sleep(0.01)


async def test_a_write_whose_socket_left_ends_before_the_server_stops(api, settings):
    if tb.BACKEND != "postgres":
        pytest.skip("the write is held back by a row lock PostgreSQL shows")
    _, owner = await create_tenant(api, slug="acme", domains=["acme.example"])
    await publish_policy(api, owner)
    inputs = [consent(f"late-{n}")["i"] for n in range(5)]
    holder = await asyncpg.connect(settings.database_url)
    # Another connection watches: pg_stat_activity stays as first read in a transaction.
    watcher = await asyncpg.connect(settings.database_url)
    try:
        async with serve(settings) as http:
            async with Socket.open(http.base_url.port, owner) as socket:
                first = await socket.run(RECORD, consent("first"))  # the chain head exists
                assert first["data"]["recordConsent"]["userErrors"] == []
                transaction = holder.transaction()
                await transaction.start()
                await holder.execute("SELECT * FROM consent_chain_head FOR UPDATE")
                await socket.start(BATCH, {"i": inputs})
                await _until(watcher, WAITING)  # the write waits for the head's lock
            # The socket is closed: the write goes on (sockets never cut a mutation).
            # The server is told to stop while the write still waits; it is let through.
            process = http.server_process
            process.send_signal(signal.SIGTERM)
            await asyncio.sleep(1.0)
            await transaction.rollback()
            await asyncio.wait_for(process.wait(), 30)
        landed = await holder.fetchval(
            "SELECT count(*) FROM consent_event WHERE subject_id LIKE 'late-%'"
        )
        assert landed == len(inputs)
    finally:
        await holder.close()
        await watcher.close()
