"""The fast path's memory: answers kept in-process (invalidated over pub/sub) and
rate-limit units leased a few at a time, without ever granting more than the bucket."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import time

from server.leases import LEASE, Leases, RenewalFailed, size
from server.local_answers import TTL_SECONDS, Answer, LocalAnswers
from server.ratelimit import Limit
from server.settings import Rate
from tests.factories import create_draft, create_tenant, publish
from tests.servers import serve

POLICY = "query($site: String!) { publishedPolicy(site: $site) { version title } }"
READ = {"query": POLICY, "variables": {"site": "acme"}}


async def _published(api, title="One"):
    _, owner = await create_tenant(api, slug="acme")
    draft = await create_draft(
        api, owner, translations=[{"locale": "en", "title": title, "body": "1"}]
    )
    await publish(api, owner, draft["id"])
    return owner


def test_lease_sizes_follow_the_burst():
    assert [size(Limit(rate=1, burst=b)) for b in (1, 31, 32, 160, 10_000)] == [1, 1, 2, 10, 64]


async def test_leases_in_two_processes_never_grant_more_than_the_burst(app):
    script = app.state.redis.register_script(LEASE)
    limit = Limit(rate=0.001, burst=64, name="public")  # no refill during the test
    processes = [Leases(), Leases()]  # each keeps its own units, as two servers would

    async def hit(leases: Leases) -> bool:
        decision = leases.spend("k", limit)
        if decision is None:
            raw = await script(
                keys=["charter:rl:test:k"], args=[size(limit), limit.emission_us, 64]
            )
            decision = leases.granted("k", limit, raw)
        return decision.allowed

    allowed = [await hit(processes[i % 2]) for i in range(100)]
    assert allowed == [True] * 64 + [False] * 36


async def test_concurrent_readers_get_exactly_the_burst(app, client, api):
    await _published(api)
    pipeline = app.state.pipeline
    params = {"query": POLICY, "variables": json.dumps({"site": "acme"})}
    assert (await client.get("/graphql", params=params)).status_code == 200  # fills the cache
    assert (await client.get("/graphql", params=params)).status_code == 200  # the copy, here
    settings = pipeline.settings
    tight = dataclasses.replace(settings.edge, public_rate=Rate(0.001, 64))
    pipeline.settings = dataclasses.replace(settings, edge=tight)
    for key in await app.state.redis.keys("charter:rl:*"):  # a fresh bucket under the new limit
        await app.state.redis.delete(key)
    pipeline.leases.clear()
    try:
        answers = await asyncio.gather(*(client.get("/graphql", params=params) for _ in range(100)))
    finally:
        pipeline.settings = settings
    statuses = [answer.status_code for answer in answers]
    assert statuses.count(200) == 64 and statuses.count(429) == 36
    refused = next(answer for answer in answers if answer.status_code == 429)
    assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert int(refused.headers["Retry-After"]) >= 1


async def test_post_reads_are_answered_from_memory_and_follow_a_publish(
    app, client, api, monkeypatch
):
    owner = await _published(api)
    handled = []
    original = app.state.pipeline.handle

    async def counting(request, run):
        handled.append(request.method)
        return await original(request, run)

    monkeypatch.setattr(app.state.pipeline, "handle", counting)
    first = await client.post("/graphql", json=READ)  # the usual road fills the cache
    second = await client.post("/graphql", json=READ)
    assert handled == ["POST"]
    assert second.content == first.content and "ETag" not in second.headers
    assert second.headers["RateLimit"].startswith('"public";r=')

    draft = await create_draft(
        api, owner, translations=[{"locale": "en", "title": "Two", "body": "2"}]
    )
    await publish(api, owner, draft["id"])
    after = await client.post("/graphql", json=READ)
    assert after.json()["data"]["publishedPolicy"] == {"version": 2, "title": "Two"}


async def test_a_copy_fetched_across_an_invalidation_is_not_kept(app):
    local: LocalAnswers = app.state.pipeline.local
    deadline = time.monotonic() + 30  # until the subscription is up
    while not local.usable():
        assert time.monotonic() < deadline, "the invalidation feed never came up"
        await asyncio.sleep(0.05)
    answer = Answer("tenant-1", "etag", b"{}", time.monotonic() + 10)
    before = local.epoch
    await _bump_and_hear(app, "tenant-1")  # arrives while the copy was on its way
    local.put("acme", "variant", answer, epoch=before)
    assert local.get("acme", "variant") is None
    local.put("acme", "variant", answer, epoch=local.epoch)
    assert local.get("acme", "variant") == answer
    await _bump_and_hear(app, "tenant-2")
    assert local.get("acme", "variant") == answer  # another tenant's publish keeps it
    await _bump_and_hear(app, "tenant-1")
    assert local.get("acme", "variant") is None


async def _bump_and_hear(app, tenant_id: str) -> None:
    """A bump, then its message back over pub/sub (the process tells itself first)."""
    local = app.state.pipeline.local
    before = local.epoch
    await app.state.cache.bump(tenant_id)
    deadline = time.monotonic() + 30  # a round trip through Redis, on a loaded machine
    while local.epoch < before + 2:
        assert time.monotonic() < deadline, "the invalidation never came back over pub/sub"
        await asyncio.sleep(0.01)


async def test_a_publish_on_one_server_reaches_another_servers_memory(api, settings):
    owner = await _published(api)
    async with serve(settings) as first, serve(settings) as second:
        for server in (first, second, second):  # the second server now holds a copy
            body = (await server.post("/graphql", json=READ)).json()
            assert body["data"]["publishedPolicy"] == {"version": 1, "title": "One"}
        copied = time.monotonic()
        draft = await create_draft(
            api, owner, translations=[{"locale": "en", "title": "Two", "body": "2"}]
        )
        mutation = (
            "mutation($id: ID!) { publishPolicyVersion(id: $id) { policyVersion { version } } }"
        )
        await first.post(
            "/graphql",
            json={"query": mutation, "variables": {"id": draft["id"]}},
            headers={"Authorization": f"Bearer {owner}"},
        )
        # The message may trail the HTTP answer by a moment, not by the TTL: waited for
        # until half the copy's life, a deadline rather than ten quick tries a loaded
        # machine could use up within its first stall.
        deadline = copied + TTL_SECONDS / 2
        seen = []
        while True:
            seen.append(
                (await second.post("/graphql", json=READ)).json()["data"]["publishedPolicy"]
            )
            if seen[-1]["version"] == 2 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
        assert seen[-1] == {"version": 2, "title": "Two"}, seen


async def test_a_fault_in_the_fast_path_costs_only_the_shortcut(client, api, monkeypatch, caplog):
    await _published(api)
    from server import fastpath

    async def broken(*args, **kwargs):
        raise RuntimeError("a bug in the shortcut")

    monkeypatch.setattr(fastpath, "answer", broken)
    answered = await client.post("/graphql", json=READ)
    assert answered.json()["data"]["publishedPolicy"] == {"version": 1, "title": "One"}
    assert "the fast path failed" in caplog.text


async def test_large_requests_are_answered_but_never_remembered(app, client, api):
    await _published(api)
    from schema.documents import PARSED
    from server.fastpath import MEMO_BYTES
    from server.response_cache import public_document

    big = POLICY + " " * 20_000  # the same document, padded past every memo's limit
    for _ in range(3):
        answered = await client.post("/graphql", json={"query": big, "variables": {"site": "acme"}})
        assert answered.json()["data"]["publishedPolicy"]["version"] == 1
    assert public_document(big) is None
    assert PARSED.weight <= PARSED.budget  # parsed documents are bounded in bytes
    assert all(len(raw) <= MEMO_BYTES for _, raw, *_ in app.middleware_stack._reads)


async def test_implausible_sites_share_one_bucket_and_are_never_remembered(app, client, api):
    await _published(api)
    from server import fastpath

    for index in range(3):
        site = f"{index}" * 5_000  # no host name is this long
        answered = await client.post(
            "/graphql", json={"query": POLICY, "variables": {"site": site}}
        )
        assert answered.status_code == 200 and answered.json()["data"]["publishedPolicy"] is None
    assert all(len(site) <= 253 for site, _ in fastpath._BUCKETS)
    assert all(len(key) < 400 for key in app.state.pipeline.leases._held)
    assert all(len(key) < 400 for key in await app.state.redis.keys("charter:rl:*"))


async def test_waiters_do_not_queue_behind_a_failed_renewal():
    leases = Leases()
    limit = Limit(rate=1, burst=64)

    async def failing_renewal():
        with leases.renewing("k"):
            await asyncio.sleep(0.01)
            raise ConnectionError("Redis went away")

    renewal = asyncio.ensure_future(failing_renewal())
    await asyncio.sleep(0)  # the renewal is under way
    try:
        await leases.wait_for_renewal("k", limit)
    except RenewalFailed:
        pass
    else:
        raise AssertionError("a waiter must hear that the renewal failed")
    with contextlib.suppress(ConnectionError):
        await renewal


async def test_only_plain_json_reads_are_answered_from_the_cache(client, api):
    await _published(api)
    for _ in range(3):  # warm: the site is known, the answer cached, then copied here
        assert (await client.post("/graphql", json=READ)).status_code == 200
    as_text = await client.post(
        "/graphql", content=json.dumps(READ), headers={"Content-Type": "text/plain"}
    )
    assert as_text.status_code in (400, 415), as_text.text  # as strawberry says, cached or not
    # An operation the document lacks is the client's error, never a cache hit.
    named = await client.post("/graphql", json={**READ, "operationName": "Missing"})
    params = {"query": POLICY, "variables": json.dumps({"site": "acme"}), "operationName": "X"}
    named_get = await client.get("/graphql", params=params)
    for answer in (named, named_get):
        assert answer.status_code >= 400 or "errors" in answer.json(), answer.text


async def test_invented_sites_share_one_bucket_and_real_sites_keep_theirs(app, client, api):
    await _published(api)
    pipeline = app.state.pipeline
    settings = pipeline.settings
    tight = dataclasses.replace(settings.edge, public_rate=Rate(0.001, 3))
    pipeline.settings = dataclasses.replace(settings, edge=tight)
    for key in await app.state.redis.keys("charter:rl:*"):
        await app.state.redis.delete(key)
    pipeline.leases.clear()
    try:
        invented = []
        for name in ("nobody-1", "nobody-2", "nobody-3", "nobody-4"):
            body = {"query": POLICY, "variables": {"site": name}}
            invented.append((await client.post("/graphql", json=body)).status_code)
        real = (await client.post("/graphql", json=READ)).status_code
    finally:
        pipeline.settings = settings
    assert invented == [200, 200, 200, 429]  # a fresh name is no fresh bucket
    assert real == 200  # a tenant's own site is counted apart
