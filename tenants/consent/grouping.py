"""Group commit for single consent events: the heaviest write path, one visitor at a time.

Each event of a tenant must wait for the chain head's lock anyway, so events that arrive
while a write is under way are not written one transaction each: they queue, and the
next write takes them all in one transaction (one lock, one COPY, one upsert, one
commit). Each caller still gets its own event back, or its own error. Events are grouped
per (tenant, actor), so the audit entry of a write names the right caller.

One caller's bad event must never fail another's (a visitor's lone surrogate, a value
the database refuses): a write that fails is split in two and each half written again,
down to the single event that fails, alone. A write is one transaction, so a failed one
left nothing behind and its halves can be written again safely; k bad events among n cost
about 2·k·log2(n) extra transactions, nothing when all are good. Failures that are about
the database rather than an event (the connection dropped, a timeout) fail the whole
write at once, and so does any failure once the write has been retried for
ISOLATION_BUDGET seconds: splitting cannot cure an outage, only prolong it.

The queue knows nothing of what it writes: consentState's reads (``lookup``) share a
round trip the same way, under a group of their own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

Item = Any  # what the writer takes: (ledger entry, e-mail)
Writer = Callable[[list[Item]], Awaitable[list[Any]]]  # items -> one result per item
Waiter = tuple[Item, asyncio.Future]

ISOLATION_BUDGET = 5.0  # seconds of splitting a failed write before its callers all hear
# Not about any one event: no smaller write would succeed where this one failed.
_OUTAGES = (ConnectionError, TimeoutError, OSError)


@dataclass
class _Queue:
    pending: list[Waiter] = field(default_factory=list)
    writing: bool = False


_queues: dict[tuple[object, str], _Queue] = {}


async def submit(group: tuple[object, str], item: Item, write: Writer) -> Any:
    """Write ``item`` with whatever else of ``group`` is waiting; its own result."""
    queue = _queues.setdefault(group, _Queue())
    future = asyncio.get_running_loop().create_future()
    queue.pending.append((item, future))
    if not queue.writing:
        queue.writing = True
        # A task of its own: a caller whose event is written returns at once, instead of
        # writing later arrivals' events for as long as they keep coming.
        asyncio.get_running_loop().create_task(_drain(group, queue, write))
    return await future


async def _drain(group: tuple[object, str], queue: _Queue, write: Writer) -> None:
    batch: list[Waiter] = []
    try:
        while queue.pending:
            batch, queue.pending = queue.pending, []
            deadline = asyncio.get_running_loop().time() + ISOLATION_BUDGET
            await _write(batch, write, deadline)
    finally:
        # Cancelled (shutdown) mid-write: nobody waits for an answer that will not come.
        for _, future in (*batch, *queue.pending):
            if not future.done():
                future.set_exception(RuntimeError("the consent write was interrupted"))
        queue.pending = []
        queue.writing = False
        _queues.pop(group, None)


async def _write(batch: list[Waiter], write: Writer, deadline: float) -> None:
    """Write ``batch``; on failure, its halves, so only the failing callers hear of it."""
    try:
        results = await write([item for item, _ in batch])
    except Exception as error:
        late = asyncio.get_running_loop().time() >= deadline
        if len(batch) == 1 or late or isinstance(error, _OUTAGES):
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        middle = len(batch) // 2
        # In arrival order, so the chain keeps the order events came in.
        await _write(batch[:middle], write, deadline)
        await _write(batch[middle:], write, deadline)
        return
    for (_, future), result in zip(batch, results, strict=True):
        if not future.done():
            future.set_result(result)
