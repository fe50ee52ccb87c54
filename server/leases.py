"""Rate-limit units taken from Redis a few at a time, so the hot path asks Redis once per
lease instead of once per request.

A lease is the same GCRA bucket as the limiter's (same key, same script semantics), asked
for up to `size(limit)` units at once: at most 1/16 of the burst and at most 64, and
never more than the bucket holds. Units a process took but did not spend within
`LEASE_SECONDS` are dropped, never handed out twice, so the bucket's own accounting is
never exceeded: a busy client may be refused a little early (by at most one lease per
process), and over a short window it may be admitted up to one lease more than a
per-request charge would allow, since a unit can be spent up to a second after Redis
granted it. A bucket whose burst is below 32 leases one unit at a time: exactly the
precision of charging every request.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass

from server.ratelimit import Decision, Limit

LEASE_SECONDS = 1.0
MAX_UNITS = 64
MAX_BUCKETS = 10_000  # held leases; expired ones are swept when there are more

# KEYS[1] the bucket; ARGV: units wanted, emission interval (µs), burst, and optionally
# the fewest units worth granting (default 1). Grants as many units as the bucket has, up
# to the number wanted, or none when it has fewer than the fewest; reports the bucket
# afterwards: {granted, remaining, µs until the next unit, µs until the fewest would be}.
LEASE = """
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local want = tonumber(ARGV[1])
local emission = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local need = tonumber(ARGV[4] or 1)
local tau = emission * burst
local tat = math.max(tonumber(redis.call('GET', KEYS[1]) or now), now)
local granted = math.max(0, math.min(want, math.floor((tau - (tat - now)) / emission)))
if granted < need then granted = 0 end
if granted > 0 then
  tat = tat + granted * emission
  redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000))
end
local slack = tau - (tat - now)
local remaining = math.max(0, math.floor(slack / emission))
local next_unit = 0
if remaining < burst then next_unit = (remaining + 1) * emission - slack end
return {granted, remaining, next_unit, math.max(0, tat + need * emission - now - tau)}
"""


def size(limit: Limit) -> int:
    return max(1, min(MAX_UNITS, limit.burst // 16))


def ask(limit: Limit, units: int, held: int) -> list[int]:
    """The LEASE script's arguments when ``units`` are wanted and ``held`` are still held
    here: at least a lease's size, and never fewer than the request lacks."""
    need = max(1, units - held)
    return [max(size(limit), need), limit.emission_us, limit.burst, need]


class RenewalFailed(Exception):
    """The renewal this request waited for failed: it takes the usual road at once."""


@dataclass
class _Held:
    left: int  # units this process may still spend
    until: float  # monotonic instant the lease lapses
    remaining: int  # what Redis had left after granting it
    reset_seconds: float
    refused: Decision | None = None  # the bucket is empty until `until`: say so locally
    refused_units: int = 1  # ...for requests of at least this many units


class Leases:
    def __init__(self) -> None:
        self._held: dict[str, _Held] = {}
        self._renewing: dict[str, asyncio.Future] = {}

    async def wait_for_renewal(self, key: str, limit: Limit, units: int = 1) -> Decision | None:
        """When another request is already asking Redis for this bucket, its lease will
        likely cover this one too: wait for it rather than asking again."""
        while (renewal := self._renewing.get(key)) is not None:
            if not await asyncio.shield(renewal):
                raise RenewalFailed  # Redis failed the renewer: don't queue up behind it
            decision = self.spend(key, limit, units)
            if decision is not None:
                return decision
        return None  # the caller renews next; any other waiter then waits on it

    @contextlib.contextmanager
    def renewing(self, key: str) -> Iterator[None]:
        if key in self._renewing:  # a waiter the last lease did not cover: it asks alone
            yield
            return
        renewal = self._renewing[key] = asyncio.get_running_loop().create_future()
        renewed = False
        try:
            yield
            renewed = True
        finally:
            del self._renewing[key]
            renewal.set_result(renewed)

    def spend(self, key: str, limit: Limit, units: int = 1) -> Decision | None:
        """A decision from a lease held here, or None when Redis must be asked."""
        held = self._held.get(key)
        if held is None or held.until <= time.monotonic():
            return None
        if held.refused is not None:
            return held.refused if units >= held.refused_units else None
        if held.left < units:
            return None
        held.left -= units
        return Decision(True, limit, held.remaining + held.left, held.reset_seconds, 0.0)

    def peek(self, key: str, limit: Limit) -> Decision | None:
        """What this process last knew of the bucket, spending nothing (for headers)."""
        held = self._held.get(key)
        if held is None or held.refused is not None:
            return held and held.refused
        return Decision(True, limit, held.remaining + held.left, held.reset_seconds, 0.0)

    def held(self, key: str) -> int:
        """Units still live here for ``key`` (what ``ask`` needs to know)."""
        held = self._held.get(key)
        return held.left if held is not None and held.until > time.monotonic() else 0

    def granted(self, key: str, limit: Limit, raw, units: int = 1) -> Decision:
        """Keeps what the LEASE script granted (asked with ``ask``) and spends ``units``
        of it, with what was still held."""
        granted, remaining, next_unit, retry = (int(value) for value in raw)
        if len(self._held) >= MAX_BUCKETS:
            self._sweep()
        now = time.monotonic()
        old = self._held.get(key)
        if granted < 1:
            refused = Decision(False, limit, remaining, next_unit / 1e6, retry / 1e6)
            if old is None or old.until <= now or old.left < 1:
                # Not this many units before retry_after: callers wanting as many are
                # refused here until then; cheaper ones ask Redis.
                until = now + retry / 1e6
                self._held[key] = _Held(0, until, 0, next_unit / 1e6, refused, units)
            return refused
        kept = old.left if old is not None and old.until > now else 0  # still live: not lost
        left = max(0, granted - units + kept)  # a concurrent spend may have taken `kept`
        held = _Held(left, now + LEASE_SECONDS, remaining, next_unit / 1e6)
        self._held[key] = held
        return Decision(True, limit, remaining + held.left, held.reset_seconds, 0.0)

    def clear(self) -> None:
        self._held.clear()

    def _sweep(self) -> None:
        now = time.monotonic()
        self._held = {k: v for k, v in self._held.items() if v.until > now}
        if len(self._held) >= MAX_BUCKETS:  # all live: the oldest half goes
            self._held = dict(list(self._held.items())[MAX_BUCKETS // 2 :])
