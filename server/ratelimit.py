"""GCRA rate limiting in Redis: one key per bucket, O(1), atomic across app servers.

Every decision is made by one Lua script (EVALSHA) that reads the Redis server's clock, so
app servers' clocks never matter and any number of them share the same buckets. A bucket's
only state is its theoretical arrival time (TAT): the instant at which it would be full
again. The key expires at that instant, so an idle bucket costs no memory, and a changed
`rate` or `burst` applies at once to existing buckets.

Failure policy belongs to the caller: on any Redis error or timeout `hit`/`hit_all` raise
`RateLimiterUnavailable`, so cheap reads can fail open and the platform token closed.

Needs Redis >= 5 (scripts replicate their effects, so writing after TIME is allowed). In a
Redis Cluster, the keys of one `hit_all` must share a hash tag.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from redis.asyncio import Redis
from redis.exceptions import RedisError

# Microseconds throughout: integers stay exact in Lua's doubles (now is ~1.8e15 < 2^53), so
# "k units left" never rounds to k-1. The emission interval is rounded to a whole
# microsecond, a rate error below one part in a million for any sane rate.
_GCRA = """
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local cost = tonumber(ARGV[1])
local tats, new_tats, all_allowed = {}, {}, true
for i, key in ipairs(KEYS) do
  local emission = tonumber(ARGV[2 * i])
  local tau = emission * tonumber(ARGV[2 * i + 1])
  local tat = math.max(tonumber(redis.call('GET', key) or now), now)
  tats[i], new_tats[i] = tat, tat + cost * emission
  if new_tats[i] - now > tau then all_allowed = false end
end
local out = {}
for i, key in ipairs(KEYS) do
  local emission = tonumber(ARGV[2 * i])
  local burst = tonumber(ARGV[2 * i + 1])
  local tau = emission * burst
  -- A refused request charges no bucket, so report every bucket as it now stands.
  local tat = all_allowed and new_tats[i] or tats[i]
  local slack = tau - (tat - now)
  local remaining = math.max(0, math.floor(slack / emission))
  local next_unit = 0
  if remaining < burst then next_unit = (remaining + 1) * emission - slack end
  out[i] = {remaining, next_unit, math.max(0, new_tats[i] - now - tau)}
  if all_allowed then
    redis.call('SET', key, string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000))
  end
end
return {all_allowed and 1 or 0, out}
"""


class RateLimiterUnavailable(Exception):
    """Redis could not answer in time; the caller decides whether to fail open or closed."""


@dataclass(frozen=True)
class Limit:
    rate: float  # sustained cost units per second
    burst: int  # cost units a full bucket allows at once
    name: str = "default"  # the policy name in the RateLimit headers; part of the key

    def __post_init__(self) -> None:
        if not (self.rate > 0 and math.isfinite(self.rate)):
            raise ValueError(f"rate must be a positive number, not {self.rate!r}")
        if self.burst < 1:
            raise ValueError(f"burst must be at least 1, not {self.burst!r}")
        # The name becomes an sf-string, which allows printable ASCII only.
        if not self.name or not all(" " <= c <= "~" for c in self.name):
            raise ValueError(f"name must be non-empty printable ASCII, not {self.name!r}")

    @property
    def emission_us(self) -> int:
        return max(1, round(1_000_000 / self.rate))


class Decision(NamedTuple):  # a tuple: the hot path makes one per request
    allowed: bool
    limit: Limit  # the bucket this decision describes (the most restrictive one)
    remaining: int  # whole cost units available right now
    reset_seconds: float  # until the next unit is available; the draft's `t` (see headers)
    retry_after: float  # until this same request would be allowed; 0 when allowed
    # Every bucket the charge drew from, in the order given (the caller's, then the
    # tenant's ceiling); empty when this is the only one. All are advertised (headers).
    buckets: tuple = ()


class RateLimiter:
    def __init__(
        self, redis: Redis, *, prefix: str = "charter:rl:", timeout: float | None = 0.5
    ) -> None:
        # The timeout bounds the whole call: a client's own retries on a dead Redis (redis-py
        # retries with backoff by default) must not stall a request that would fail open.
        self._redis = redis
        self._script = redis.register_script(_GCRA)
        self._scripts: dict[str, object] = {}
        self._prefix = prefix
        self._timeout = timeout

    async def hit(self, key: str, limit: Limit, *, cost: int = 1) -> Decision:
        return await self.hit_all([(key, limit)], cost=cost)

    async def hit_all(self, checks: list[tuple[str, Limit]], *, cost: int = 1) -> Decision:
        """Charge `cost` to every bucket, or to none when any bucket refuses: one script call.

        Returns the most restrictive decision: when refused, the bucket that takes longest
        to allow the request; when allowed, the bucket with the fewest units left.
        """
        keys, args = self.prepare(checks, cost=cost)
        try:
            async with asyncio.timeout(self._timeout):
                raw = await self._script(keys=keys, args=args)
        except (RedisError, OSError, TimeoutError) as exc:
            raise RateLimiterUnavailable(f"rate limiter unavailable: {exc!r}") from exc
        return self.decide(checks, raw)

    async def call(self, script: str, keys: list[str], args: list[int]):
        """Any other script on the limiter's buckets (``server.leases.LEASE``), under the
        same timeout and failure policy as ``hit_all``."""
        registered = self._scripts.get(script)
        if registered is None:
            registered = self._scripts[script] = self._redis.register_script(script)
        try:
            async with asyncio.timeout(self._timeout):
                return await registered(keys=keys, args=args)
        except (RedisError, OSError, TimeoutError) as exc:
            raise RateLimiterUnavailable(f"rate limiter unavailable: {exc!r}") from exc

    def prepare(self, checks: list[tuple[str, Limit]], *, cost: int) -> tuple[list[str], list[int]]:
        """The script's keys and arguments, for a caller that sends it with other commands."""
        if not checks:
            raise ValueError("hit_all needs at least one (key, limit)")
        if isinstance(cost, bool) or not isinstance(cost, int) or cost < 1:
            raise ValueError(f"cost must be a positive int, not {cost!r}")
        keys = [f"{self._prefix}{limit.name}:{key}" for key, limit in checks]
        if len(set(keys)) != len(keys):
            # The script reads every bucket before writing any: a repeat would be charged once.
            raise ValueError("hit_all got the same bucket twice")
        args: list[int] = [cost]
        for _, limit in checks:
            if cost > limit.burst:
                raise ValueError(f"cost {cost} exceeds the burst of {limit.name!r}: never allowed")
            args += [limit.emission_us, limit.burst]
        return keys, args

    @property
    def script(self):
        return self._script

    def decide(self, checks: list[tuple[str, Limit]], raw) -> Decision:
        allowed, buckets = raw
        decisions = [
            Decision(
                allowed=bool(allowed),
                limit=limit,
                remaining=int(remaining),
                reset_seconds=next_unit / 1_000_000,
                retry_after=retry / 1_000_000,
            )
            for (_, limit), (remaining, next_unit, retry) in zip(checks, buckets, strict=True)
        ]
        if allowed:
            chosen = min(decisions, key=lambda d: (d.remaining, -d.reset_seconds))
        else:
            chosen = max(decisions, key=lambda d: (d.retry_after, -d.remaining))
        return chosen._replace(buckets=tuple(decisions)) if len(decisions) > 1 else chosen


def _sf_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# The draft's quota unit (`qu`): Charter charges an operation its cost (schema.costs),
# not one per request. Not one of the draft's registered units ("requests",
# "content-bytes", "concurrent-requests"), which would each misstate it.
QUOTA_UNIT = "cost-units"


@lru_cache(maxsize=256)
def policy_header(limit: Limit) -> tuple[str, str]:
    """The policy's name as an sf-string, and its RateLimit-Policy item (see headers)."""
    name = _sf_string(limit.name)
    window = max(1, math.ceil(limit.burst / limit.rate))
    return name, f'{name};q={limit.burst};qu="{QUOTA_UNIT}";w={window}'


def remaining_header(decision: Decision) -> str:
    """The RateLimit value (see headers): one item per bucket."""
    return ", ".join(_remaining(d) for d in decision.buckets or (decision,))


def policies_header(decision: Decision) -> str:
    """The RateLimit-Policy value (see headers): one item per bucket."""
    return ", ".join(policy_header(d.limit)[1] for d in decision.buckets or (decision,))


def _remaining(decision: Decision) -> str:
    name = policy_header(decision.limit)[0]
    return f"{name};r={decision.remaining};t={math.ceil(decision.reset_seconds)}"


def headers(decision: Decision) -> dict[str, str]:
    """RateLimit-Policy and RateLimit per draft-ietf-httpapi-ratelimit-headers-11, plus
    Retry-After when refused. Both are lists with one item per bucket the request drew
    from, in the same order: the caller's bucket, then its tenant's ceiling (a key's
    requests pay into both: server.limits), so a client sees which one will stop it.

    How GCRA state maps onto the draft's parameters, all integers (delay-seconds) but qu:
      qu = "cost-units" (QUOTA_UNIT): what q and r count.
      q = burst: the most units a client can spend at once.
      w = ceil(burst / rate), at least 1: the time a drained bucket takes to refill, so q/w
          is the sustained rate. Ceil because w must be a non-zero integer and rounding up
          only ever advertises less than we grant.
      r = whole units available now.
      t = ceil(seconds until the next unit is available), not until the bucket is full.
          The draft defines t as the effective window, "the number of seconds within which
          the client can use no more than the available quota": a GCRA bucket refills
          continuously, so that holds until the next unit drips in and no longer; by the
          time it is full the client could have spent all of `burst`, not `r`. It also
          keeps t <= Retry-After (the time until `cost` units are back), as section 6 asks:
          Retry-After SHOULD NOT point earlier than the end of the effective window.
    """
    result = {
        "RateLimit-Policy": policies_header(decision),
        "RateLimit": remaining_header(decision),
    }
    if not decision.allowed:
        result["Retry-After"] = str(max(1, math.ceil(decision.retry_after)))
    return result
