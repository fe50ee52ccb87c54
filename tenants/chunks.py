"""Lists that reach SQL, a chunk at a time.

A list handed to ``filter(column__in=...)`` becomes one bind parameter per item, and the
drivers cap those per statement: asyncpg at 32,767, SQLite at 32,766 (older builds 999).
A list that comes from a client (``subjectIds``) or grows with a table (everyone with
consent, a tenant's versions) would one day cross that line and fail as an internal
error. The same list, handled in one go, also means one long stretch of Python on the
event loop; a chunk at a time, every database round trip between chunks gives other
requests their turn.

Every list-to-SQL query goes through ``fetch_in``; loops over large sets of people use
``chunks`` (a list in hand) or ``keyset`` (a table) and do one chunk's work per step;
a loop of CPU-bound steps over a batch (a thousand consent events to check and chain)
goes through ``paced``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from itertools import islice
from typing import Any, TypeVar

__all__ = ["CHUNK", "PACE", "chunks", "fetch_in", "keyset", "paced", "paced_chunks"]

# Ids per statement: far under every driver's cap even with a few other parameters, and
# small enough that the Python work on one chunk's rows stays a few milliseconds.
CHUNK = 500

# Items between two turns of the event loop in ``paced``: at tens of microseconds each
# (hashing, encrypting, building rows), a few milliseconds of other requests' waiting.
PACE = 100

T = TypeVar("T")
R = TypeVar("R")


def chunks(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    """``items`` in lists of at most ``size``, in order."""
    if size < 1:
        raise ValueError("a chunk holds at least one item")
    iterator = iter(items)
    while part := list(islice(iterator, size)):
        yield part


async def fetch_in(
    values: Iterable[T],
    fetch: Callable[[list[T]], Awaitable[Iterable[R]]],
    *,
    size: int = CHUNK,
) -> list[R]:
    """``fetch(chunk)`` for each chunk of the distinct ``values``, results concatenated.

    ``fetch`` is the query with ``column__in=chunk``. All rows of one value come from one
    statement, so an ``order_by`` still holds among the rows of each value (the latest
    locale a person saw, the newest request), though not across chunks.
    """
    found: list[R] = []
    for part in chunks(dict.fromkeys(values), size):
        found.extend(await fetch(part))
    return found


async def paced(items: Iterable[T], every: int = PACE) -> AsyncIterator[T]:
    """``items``, giving the event loop a turn after every ``every`` of them, so a loop of
    CPU-bound steps over a large batch never holds other requests for long."""
    for index, item in enumerate(items, 1):
        yield item
        if index % every == 0:
            await asyncio.sleep(0)


async def paced_chunks(items: Iterable[T], size: int = PACE) -> AsyncIterator[list[T]]:
    """``items`` in lists of at most ``size`` (``chunks``), with a turn of the event loop
    after each: ``paced`` for a loop that works a list at a time."""
    for part in chunks(items, size):
        yield part
        await asyncio.sleep(0)


async def keyset(query: Any, column: str, *, size: int = CHUNK) -> AsyncIterator[list[str]]:
    """The distinct text values of ``column`` in ``query`` (a Tortoise queryset), in order,
    at most ``size`` at a time. Each chunk starts after the last value of the one before
    (keyset paging), so the thousandth chunk costs what the first did, where an OFFSET
    would scan every row before it."""
    last = ""
    while True:
        part = (
            await query.filter(**{f"{column}__gt": last})
            .distinct()
            .order_by(column)
            .limit(size)
            .values_list(column, flat=True)
        )
        if not part:
            return
        last = part[-1]
        yield part
