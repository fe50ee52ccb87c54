"""GCRA rate limiter against a real Redis (DB 13; 14 in the PostgreSQL suite), flushed per test."""

from __future__ import annotations

import asyncio
import inspect
import math
import re
import socket

import pytest
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from server import ratelimit
from server.ratelimit import Decision, Limit, RateLimiter, RateLimiterUnavailable, headers
from tests.backends import BACKEND

# A database per backend's suite: `make test` runs the two side by side, and each test
# flushes its database first; sharing one, a flush from the other suite emptied a bucket
# between a refusal and the next hit (CI: remaining 4 where 0 was due).
REDIS_URL = "redis://127.0.0.1:6379/" + ("14" if BACKEND == "postgres" else "13")
# One unit a second: each assertion below tolerates up to a second of scheduling stall
# between two calls (two suites share two noisy cores in CI; at 50 ms a unit, one stall
# refilled the bucket between the refusal and the next hit), at the cost of ~2 s of sleep.
STEADY = Limit(rate=1, burst=5)


def _client() -> aioredis.Redis:
    return aioredis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


@pytest.fixture
async def redis():
    client = _client()
    try:
        await client.ping()
    except Exception as exc:
        await client.aclose()
        pytest.skip(f"GCRA tests need a real Redis at {REDIS_URL}: {exc.__class__.__name__}: {exc}")
    await client.flushdb()
    yield client
    await client.aclose()


@pytest.fixture
def limiter(redis) -> RateLimiter:
    return RateLimiter(redis)


async def test_burst_is_allowed_then_refused_then_one_unit_per_interval(limiter):
    decisions = [await limiter.hit("alice", STEADY) for _ in range(STEADY.burst)]
    assert all(d.allowed for d in decisions)
    assert [d.remaining for d in decisions] == [4, 3, 2, 1, 0]
    assert all(0 < d.reset_seconds <= 1 for d in decisions)

    refused = await limiter.hit("alice", STEADY)
    assert not refused.allowed
    assert refused.remaining == 0
    assert 0 < refused.retry_after <= 1

    await asyncio.sleep(refused.retry_after + 0.02)
    again = await limiter.hit("alice", STEADY)
    assert again.allowed and again.remaining == 0 and again.retry_after == 0
    assert not (await limiter.hit("alice", STEADY)).allowed
    assert (await limiter.hit("bob", STEADY)).remaining == 4  # buckets are per key


async def test_cost_consumes_more_units(limiter):
    limit = Limit(rate=1, burst=10)
    assert (await limiter.hit("mutations", limit, cost=4)).remaining == 6
    assert (await limiter.hit("mutations", limit, cost=4)).remaining == 2

    refused = await limiter.hit("mutations", limit, cost=4)
    assert not refused.allowed and refused.remaining == 2
    assert 1 < refused.retry_after <= 2  # two more units, a second each

    cheap = await limiter.hit("mutations", limit, cost=2)  # the refusal charged nothing
    assert cheap.allowed and cheap.remaining == 0


async def test_invalid_arguments_are_refused_before_redis(limiter):
    for cost in (0, -1, 1.5, True, STEADY.burst + 1):
        with pytest.raises(ValueError):
            await limiter.hit("alice", STEADY, cost=cost)
    with pytest.raises(ValueError):
        await limiter.hit_all([])
    with pytest.raises(ValueError):
        await limiter.hit_all([("alice", STEADY), ("alice", STEADY)])
    for bad in ({"rate": 0, "burst": 1}, {"rate": 1, "burst": 0}, {"rate": math.inf, "burst": 1}):
        with pytest.raises(ValueError):
            Limit(**bad)
    with pytest.raises(ValueError):
        Limit(rate=1, burst=1, name="caf\u00e9")


async def test_hit_all_refuses_on_tenant_ceiling_without_charging_the_key(redis, limiter):
    per_key = Limit(rate=1, burst=10, name="key")
    tenant = Limit(rate=1, burst=3, name="tenant")
    for key in ("k1", "k2", "k3"):
        assert (await limiter.hit_all([(key, per_key), ("acme", tenant)])).allowed

    refused = await limiter.hit_all([("k4", per_key), ("acme", tenant)])
    assert not refused.allowed
    assert refused.limit == tenant and refused.remaining == 0
    assert 0 < refused.retry_after <= 1
    assert not await redis.exists("charter:rl:key:k4")  # never charged, never written
    assert (await limiter.hit("k4", per_key)).remaining == 9

    # The other way round: the key bucket refuses, and the tenant ceiling keeps its room.
    small = Limit(rate=1, burst=1, name="key")
    roomy = Limit(rate=1, burst=5, name="tenant")
    assert (await limiter.hit_all([("solo", small), ("globex", roomy)])).remaining == 0
    refused = await limiter.hit_all([("solo", small), ("globex", roomy)])
    assert not refused.allowed and refused.limit == small
    assert (await limiter.hit("globex", roomy)).remaining == 3  # 5 - the one allowed - this


async def test_hit_all_reports_the_most_restrictive_bucket(limiter):
    per_key = Limit(rate=1, burst=10, name="key")
    tenant = Limit(rate=1, burst=4, name="tenant")
    decision = await limiter.hit_all([("k1", per_key), ("acme", tenant)], cost=2)
    assert decision.allowed and decision.limit == tenant and decision.remaining == 2


SF_ITEM = re.compile(
    r'^"((?:[ !#-\[\]-~]|\\["\\])*)"((?:;[a-z*][a-z0-9_.*-]*=(?:\d+|"[a-z-]+"))+)$'
)


def _parse(field: str) -> tuple[str, dict[str, int]]:
    """One sf-list member, a String with Integer parameters (and the quota unit, a
    String: `qu`), as the draft's fields carry; the unit must be Charter's."""
    match = SF_ITEM.match(field)
    assert match, f"not an sf-string item with integer parameters: {field!r}"
    name = re.sub(r"\\(.)", r"\1", match.group(1))
    params = dict(p.split("=") for p in match.group(2).lstrip(";").split(";"))
    unit = params.pop("qu", None)
    assert unit in (None, '"cost-units"'), unit
    return name, {key: int(value) for key, value in params.items()}


async def test_headers_follow_the_draft(limiter):
    allowed = headers(await limiter.hit("alice", STEADY, cost=2))
    assert set(allowed) == {"RateLimit-Policy", "RateLimit"}
    assert _parse(allowed["RateLimit-Policy"]) == ("default", {"q": 5, "w": 5})
    name, params = _parse(allowed["RateLimit"])
    assert name == "default" and list(params) == ["r", "t"]
    assert params == {"r": 3, "t": 1}  # the next unit comes back within a second

    await limiter.hit("alice", STEADY, cost=3)
    refused = await limiter.hit("alice", STEADY, cost=2)
    fields = headers(refused)
    assert _parse(fields["RateLimit"])[1] == {"r": 0, "t": 1}
    retry_after = int(fields["Retry-After"])
    assert retry_after >= 1 and retry_after >= _parse(fields["RateLimit"])[1]["t"]


def test_headers_window_rounding_and_name_escaping():
    slow = Limit(rate=0.5, burst=30, name='per "user"')  # 30 units, one back every 2 s
    decision = Decision(allowed=False, limit=slow, remaining=0, reset_seconds=1.2, retry_after=3.5)
    fields = headers(decision)
    assert fields["RateLimit-Policy"] == r'"per \"user\"";q=30;qu="cost-units";w=60'
    assert _parse(fields["RateLimit-Policy"]) == ('per "user"', {"q": 30, "w": 60})
    assert fields["RateLimit"] == r'"per \"user\"";r=0;t=2'
    assert fields["Retry-After"] == "4"
    odd = Limit(rate=3, burst=10)  # 3.33 s to refill: w rounds up, never advertising more
    assert _parse(headers(Decision(True, odd, 9, 0.3, 0.0))["RateLimit-Policy"])[1]["w"] == 4


async def test_keys_expire_when_the_bucket_would_be_full(redis, limiter):
    await limiter.hit("idle", STEADY)
    assert 0 < await redis.pttl("charter:rl:default:idle") <= 1000
    await limiter.hit("idle", STEADY, cost=3)
    assert 3000 < await redis.pttl("charter:rl:default:idle") <= 4000
    assert (await limiter.hit("gone", STEADY)).remaining == 4
    await asyncio.sleep(1.05)
    assert not await redis.exists("charter:rl:default:gone")
    assert (await limiter.hit("gone", STEADY)).remaining == 4  # full again, as if never seen


async def test_two_app_servers_share_buckets(redis):
    other = _client()  # a second connection pool, as another process would have
    await other.ping()  # connected before the clock matters: a unit refills every second
    try:
        servers = [RateLimiter(redis), RateLimiter(other)]
        decisions = [await servers[i % 2].hit("shared", STEADY) for i in range(STEADY.burst + 2)]
    finally:
        await other.aclose()
    assert [d.allowed for d in decisions] == [True] * STEADY.burst + [False, False]
    assert [d.remaining for d in decisions[: STEADY.burst]] == [4, 3, 2, 1, 0]


def test_the_algorithm_reads_only_the_redis_clock():
    source = inspect.getsource(ratelimit)
    assert "redis.call('TIME')" in source
    assert not re.search(r"\b(time\.time|monotonic|perf_counter|datetime|loop\.time)\b", source)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_unreachable_redis_raises_unavailable():
    client = aioredis.Redis(
        port=_closed_port(),
        socket_timeout=0.2,
        socket_connect_timeout=0.2,
        retry=Retry(NoBackoff(), 0),
    )
    try:
        with pytest.raises(RateLimiterUnavailable):
            await RateLimiter(client).hit("alice", STEADY)
    finally:
        await client.aclose()


async def test_a_silent_redis_is_cut_off_by_the_limiter_timeout():
    async def accept_and_say_nothing(reader, writer):
        await reader.read()  # until the client gives up and closes
        writer.close()

    server = await asyncio.start_server(accept_and_say_nothing, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = aioredis.Redis(port=port, socket_timeout=30)  # default retries, long timeout
    try:
        with pytest.raises(RateLimiterUnavailable):
            await RateLimiter(client, timeout=0.1).hit("alice", STEADY)
    finally:
        await client.aclose()
        server.close()
