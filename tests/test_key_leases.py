"""A key's rate-limit units are leased a few at a time (server.leases, Gate._charge): Redis
is asked once per lease, never more units pass than the bucket holds, and a refusal of
an expensive operation does not refuse a cheap one the bucket can still pay for."""

from __future__ import annotations

import asyncio

from tests.factories import create_key, create_tenant, set_plan

VIEWER = {"query": "{ viewer { key { id } } }"}
RATE = 0.001  # units per second: nothing drips back during a test
EMISSION_US = round(1_000_000 / RATE)


async def units_taken(app, key_id: str) -> int:
    """How many units of the key's bucket Redis has handed out."""
    redis = app.state.redis
    tat, (seconds, micros) = await redis.get(f"charter:rl:key:{key_id}"), await redis.time()
    now = seconds * 1_000_000 + micros
    return 0 if tat is None else round((int(tat) - now) / EMISSION_US)


async def test_a_keys_units_come_from_redis_a_lease_at_a_time(app, client, api):
    _, owner = await create_tenant(api, slug="alpha")
    key, secret = await create_key(api, owner, name="reader", role="AUDITOR")
    await set_plan(app, "alpha", {"key_rate": [RATE, 640]})  # a lease: 640 / 16 = 40 units
    headers = {"Authorization": f"Bearer {secret}"}
    assert (await client.post("/graphql", json=VIEWER, headers=headers)).status_code == 200
    assert await units_taken(app, key["id"]) == 40
    for _ in range(39):
        assert (await client.post("/graphql", json=VIEWER, headers=headers)).status_code == 200
    assert await units_taken(app, key["id"]) == 40  # 39 requests, no new lease
    answer = await client.post("/graphql", json=VIEWER, headers=headers)
    assert answer.status_code == 200 and answer.headers["RateLimit"].startswith(
        '"key";r=599;t=1000, '
    )
    assert await units_taken(app, key["id"]) == 80


async def test_no_more_than_the_burst_passes_however_many_ask_at_once(app, client, api):
    _, owner = await create_tenant(api, slug="alpha")
    _, secret = await create_key(api, owner, name="reader", role="AUDITOR")
    await set_plan(app, "alpha", {"key_rate": [RATE, 64]})  # leases of 4
    headers = {"Authorization": f"Bearer {secret}"}
    answers = await asyncio.gather(
        *(client.post("/graphql", json=VIEWER, headers=headers) for _ in range(90))
    )
    statuses = [answer.status_code for answer in answers]
    assert set(statuses) == {200, 429}
    # Never above the burst; below it only by units leased and left to lapse (1 s).
    assert 56 <= statuses.count(200) <= 64


async def test_an_expensive_refusal_does_not_refuse_what_the_bucket_can_pay(app, client, api):
    _, owner = await create_tenant(api, slug="alpha")
    _, secret = await create_key(api, owner, name="writer", role="ADMIN")
    await set_plan(app, "alpha", {"key_rate": [RATE, 60]})
    headers = {"Authorization": f"Bearer {secret}"}
    batch = {"query": "mutation { recordConsents(inputs: []) { recorded } }"}  # 50 units
    assert (await client.post("/graphql", json=batch, headers=headers)).status_code == 200
    assert (await client.post("/graphql", json=batch, headers=headers)).status_code == 429
    for _ in range(10):  # the 10 units left
        assert (await client.post("/graphql", json=VIEWER, headers=headers)).status_code == 200
    assert (await client.post("/graphql", json=VIEWER, headers=headers)).status_code == 429
