"""CPU-heavy pure functions, off the event loop, each within a time budget.

Every request of every tenant shares one event loop per process, so a step that computes
for seconds (Markdown of a hostile draft, a diff of two long bodies) makes everyone wait.
A thread does not help: it holds the GIL between switches, and nothing can stop it once
an input turns out to be pathological. Such steps run here instead, in a small pool of
worker processes: the loop only awaits, and a call that outlives its budget has its
worker killed (and replaced) and raises ``TooSlow``, which the caller turns into a clear
error for whoever sent the input.

- Budget: ``BUDGET`` seconds of wall time per call, counted from when a worker starts it.
- Fairness: one call at a time per ``lane`` (a tenant), so one tenant's hostile inputs
  occupy at most one worker and the others stay free for everyone else.
- Workers run at a lower CPU priority (nice 10): a pathological input slows itself,
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
import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from pebble import ProcessPool

__all__ = ["BUDGET", "WORKERS", "TooSlow", "run"]

BUDGET = 5.0  # seconds: a real 1 MB policy renders in well under 3 s on a slow day
WORKERS = 2
NICENESS = 10

T = TypeVar("T")


class TooSlow(Exception):
    """The call ran past its budget and was stopped."""

    def __init__(self, budget: float) -> None:
        super().__init__(f"took longer than {budget:g} s")
        self.budget = budget


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
    """``function(*args)`` in a worker process; its result, or TooSlow past ``budget``.

    Exceptions raised by ``function`` come back as they were raised.
    """
    lock, users = _lanes.get(lane, (None, 0))
    if lock is None:
        lock = asyncio.Lock()
    _lanes[lane] = (lock, users + 1)
    try:
        async with lock:
            future = _get_pool().schedule(function, args=args, timeout=budget)
            try:
                # Cancelling the await (the request timed out) cancels the task, and
                # pebble stops a worker that has already started it.
                return await asyncio.wrap_future(future)
            except concurrent.futures.TimeoutError as error:
                raise TooSlow(budget) from error
    finally:
        lock, users = _lanes[lane]
        if users == 1:
            del _lanes[lane]
        else:
            _lanes[lane] = (lock, users - 1)
