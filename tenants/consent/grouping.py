"""Group commit for single consent events: the heaviest write path, one visitor at a time.

Each event of a tenant must wait for the chain head's lock anyway, so events that arrive
while a write is under way are not written one transaction each: they queue, and the
next write takes them all in one transaction (one lock, one COPY, one upsert, one
commit). Each caller still gets its own event back, or the write's error. Events are
grouped per (tenant, actor), so the audit entry of a write names the right caller.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

Item = Any  # what the writer takes: (ledger entry, e-mail)
Writer = Callable[[list[Item]], Awaitable[list[Any]]]  # items -> one result per item


@dataclass
class _Queue:
    pending: list[tuple[Item, asyncio.Future]] = field(default_factory=list)
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
    try:
        while queue.pending:
            batch, queue.pending = queue.pending, []
            try:
                results = await write([item for item, _ in batch])
            except Exception as error:  # every caller of this write hears of it
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)
    finally:
        queue.writing = False
        if not queue.pending:
            _queues.pop(group, None)
