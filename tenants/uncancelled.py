"""Writes that, once started, run to their end even when their caller stops waiting.

A caller can be cancelled at any await: a socket's operation when its client sends
``complete`` or goes away, a request at the edge's time limit. A transaction cancelled
part-way may stop between two of a driver's messages, and asyncpg's ``executemany``
(Tortoise's ``bulk_create``) does not survive that: it swallows the cancellation and
waits for an answer PostgreSQL, itself waiting for the rest of the statement, never
sends. The transaction then stays open, holding the tenant's chain-head lock, and every
write of the tenant queues behind it until the connection dies (~45 s, seen with a
recordConsents of 1,000 e-mails whose socket closed).

The rule, for every mutation on every transport: once started, it runs to its end; a
cancelled caller only stops waiting, and the write finishes (commits or rolls back) on
its own. ``server.execution.shielded`` applies it where both transports await an admitted
operation: over HTTP the edge's time limit answers 503 while the write goes on (a client
that hangs up cancels nothing: uvicorn never cancels a request), over a socket a
``complete`` or a close drops only the answer. Queries and subscriptions stay
cancellable. recordConsents' service keeps its own ``to_the_end`` around its write,
which holds whoever calls it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import TypeVar

__all__ = ["to_the_end"]

log = logging.getLogger(__name__)
T = TypeVar("T")

# The writes whose callers stopped waiting: referenced so the loop keeps them to the end.
_running: set[asyncio.Task] = set()


async def to_the_end(work: Awaitable[T]) -> T:
    """``work``'s result. Cancelled, the caller gets CancelledError at once and ``work``
    goes on to its end; a failure after that is logged, as no one is left to see it."""
    task = asyncio.ensure_future(work)
    _running.add(task)
    task.add_done_callback(_running.discard)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        task.add_done_callback(_unseen_failure)
        raise


def _unseen_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("a write whose caller left failed", exc_info=task.exception())
