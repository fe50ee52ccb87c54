"""CPU-heavy pure functions, off the event loop, each within a time budget.

Every request of every tenant shares one event loop per process, so a step that computes
for seconds (Markdown of a hostile draft, a diff of two long bodies) makes everyone wait.
A thread does not help: it holds the GIL between switches, and nothing can stop it once
an input turns out to be pathological. Such steps run here instead, in a small pool of
worker processes: the loop only awaits, and a call that outlives its budget has its
worker killed (and replaced) and raises ``TooSlow``, which the caller turns into a clear
error for whoever sent the input.

- Budget: ``BUDGET`` seconds of CPU time per call, counted in the worker by a CPU-time
  alarm (SIGVTALRM), so neither waiting for a worker nor a busy machine eats into it. A
  call past its budget raises ``TooSlow`` and leaves the worker as it was; a call that
  still runs after ``WALL_FACTOR`` times its budget in wall time (native code that
  ignores the alarm, a starved worker) has its worker killed and replaced.
- Fairness: one call at a time per ``lane`` (a tenant), so one tenant's hostile inputs
  occupy at most one worker and the others stay free for everyone else.
- Workers run at a lower CPU priority (nice 5): a pathological input slows itself,
  not the server processes answering requests.

Functions and their arguments cross a process boundary: module-level functions of
plain values only.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from pebble import ProcessPool

__all__ = ["BUDGET", "WORKERS", "TooSlow", "run", "run_measured"]

BUDGET = 5.0  # CPU seconds: a real 1 MB policy renders in well under 3 s
# Wall-clock backstop, in budgets (plus a second): 21 s, inside the server's 30 s request
# limit, so an input still computing on a starved machine is refused as too complex
# (a clear error for whoever sent it), never answered 503 by the request timeout first.
WALL_FACTOR = 4
WORKERS = 2
NICENESS = 5

T = TypeVar("T")


class TooSlow(Exception):
    """The call ran past its budget and was stopped."""

    def __init__(self, budget: float) -> None:
        super().__init__(f"took more than {budget:g} s of computing")
        self.budget = budget


class _OutOfTime(Exception):
    """Raised inside a worker by the CPU-time alarm."""


def _alarm(signum: int, frame: object) -> None:
    raise _OutOfTime


def _measured(function: Callable[..., T], args: tuple, budget: float) -> tuple[T, float]:
    """Runs in the worker: ``function(*args)`` under a CPU-time alarm; with the CPU
    seconds it took."""
    started = time.process_time()
    signal.signal(signal.SIGVTALRM, _alarm)
    signal.setitimer(signal.ITIMER_VIRTUAL, max(budget, 0.001))
    try:
        result = function(*args)
    finally:
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)
    return result, time.process_time() - started


_pool: ProcessPool | None = None
_pool_lock = threading.Lock()
_lanes: dict[Hashable, tuple[asyncio.Lock, int]] = {}


def _lower_priority() -> None:
    with contextlib.suppress(OSError):
        os.nice(NICENESS)


def _get_pool() -> ProcessPool:
    global _pool
    with _pool_lock:
        if _pool is None or not _pool.active:
            # "spawn": a fresh interpreter, not a fork of a process full of threads and
            # open sockets (a fork can inherit a lock some thread held, and hang).
            _pool = ProcessPool(
                max_workers=WORKERS,
                initializer=_lower_priority,
                context=multiprocessing.get_context("spawn"),
            )
        return _pool


@atexit.register
def _stop() -> None:
    # Before multiprocessing's own exit hook, which would wait for live workers forever.
    pool = _pool
    if pool is not None:
        pool.stop()
        pool.join(timeout=5)


async def run(function: Callable[..., T], *args: Any, lane: Hashable, budget: float = BUDGET) -> T:
    """``function(*args)`` in a worker process; its result, or TooSlow past ``budget``
    CPU seconds. Exceptions raised by ``function`` come back as they were raised."""
    return (await run_measured(function, *args, lane=lane, budget=budget))[0]


async def run_measured(
    function: Callable[..., T], *args: Any, lane: Hashable, budget: float = BUDGET
) -> tuple[T, float]:
    """As ``run``, with the CPU seconds the call took (to share one budget across calls)."""
    if budget <= 0:
        raise TooSlow(BUDGET)
    lock, users = _lanes.get(lane, (None, 0))
    if lock is None:
        lock = asyncio.Lock()
    _lanes[lane] = (lock, users + 1)
    try:
        async with lock:
            future = _get_pool().schedule(
                _measured, args=(function, args, budget), timeout=budget * WALL_FACTOR + 1
            )
            try:
                # Cancelling the await (the request timed out) cancels the task, and
                # pebble stops a worker that has already started it.
                return await asyncio.wrap_future(future)
            except (_OutOfTime, concurrent.futures.TimeoutError) as error:
                raise TooSlow(budget) from error
    finally:
        lock, users = _lanes[lane]
        if users == 1:
            del _lanes[lane]
        else:
            _lanes[lane] = (lock, users - 1)
