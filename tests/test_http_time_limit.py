"""The edge's time limit over HTTP (server.graphql.REQUEST_TIMEOUT_SECONDS): the client
gets its 503 at the limit, and a mutation already under way runs to its end anyway
(server.execution.shielded, tenants.uncancelled): committed or rolled back, never cut
part-way holding its locks."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time

import asyncpg

from server import graphql
from server.backends import database_url
from tests import backends as tb
from tests.factories import PUBLISH, create_draft, create_tenant, publish

LIMIT = 1.0  # seconds: the limit the test sets, in place of 30
VERSION = "query($id: ID!) { policyVersion(id: $id) { status } }"
WAITING = """SELECT EXISTS (SELECT FROM pg_stat_activity
  WHERE datname = current_database() AND wait_event_type = 'Lock')"""


@contextlib.asynccontextmanager
async def _held(settings, version_id: str):
    """The lock publishing the draft needs, held from another connection until the block
    ends: its row, FOR UPDATE, on PostgreSQL; the write lock of the file on SQLite (which
    takes one writer at a time, server.sqlite_engine). Yields a check, true while a write
    waits for it (None where the database cannot tell)."""
    if tb.BACKEND == "postgres":
        holder = await asyncpg.connect(settings.database_url)
        watcher = await asyncpg.connect(settings.database_url)
        try:
            async with holder.transaction():
                await holder.execute(
                    "SELECT FROM policy_version WHERE id = $1 FOR UPDATE", version_id
                )
                yield lambda: watcher.fetchval(WAITING)
        finally:
            await holder.close()
            await watcher.close()
        return
    path = database_url(settings).removeprefix("sqlite://").partition("?")[0]
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield None
        finally:
            holder.execute("ROLLBACK")
    finally:
        holder.close()


async def _status(api, owner: str, version_id: str) -> str:
    body = await api(VERSION, {"id": version_id}, token=owner)
    return body["data"]["policyVersion"]["status"]


async def test_a_mutation_past_the_time_limit_answers_503_and_its_write_lands(
    client, api, settings, monkeypatch
):
    """publishPolicyVersion waits for a lock held elsewhere past the time limit: the
    client gets the edge's 503 at the limit, and once the lock is let go the publication
    lands, whole, and the tenant's next write goes through at once. Cancelled at the
    limit, as it was, the write was cut: nothing published, and (SQLite) the connection's
    transaction lock never released."""
    _, owner = await create_tenant(api)
    draft = await create_draft(api, owner)
    monkeypatch.setattr(graphql, "REQUEST_TIMEOUT_SECONDS", LIMIT)
    request = {"query": PUBLISH, "variables": {"id": draft["id"]}}
    headers = {"Authorization": f"Bearer {owner}"}
    async with _held(settings, draft["id"]) as waiting:
        started = time.monotonic()
        answer = await client.post("/graphql", json=request, headers=headers)
        elapsed = time.monotonic() - started
        assert answer.status_code == 503, answer.text
        assert answer.json() == {
            "errors": [
                {
                    "message": "the request took too long",
                    "extensions": {"code": "INTERNAL_SERVER_ERROR"},
                }
            ]
        }
        assert LIMIT <= elapsed < LIMIT + 5, elapsed
        if waiting is not None:  # the write is still there, waiting for its lock
            assert await waiting()

    deadline = time.monotonic() + 10
    while (status := await _status(api, owner, draft["id"])) != "PUBLISHED":
        assert time.monotonic() < deadline, f"the publication never landed ({status})"
        await asyncio.sleep(0.05)

    monkeypatch.setattr(graphql, "REQUEST_TIMEOUT_SECONDS", 30)
    started = time.monotonic()
    second = await create_draft(api, owner)
    assert (await publish(api, owner, second["id"]))["status"] == "PUBLISHED"
    assert time.monotonic() - started < 5  # no lock left held by the first
