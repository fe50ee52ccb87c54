"""A large write of the ledger on PostgreSQL, its events sent while the rest are still
being checked and chained.

Checking and chaining an event is Python's work; inserting it is PostgreSQL's, on the
other core. Done one after the other, a recordConsents of 500 spent ~20 µs an event in
Python before the database had anything to do. With a ``Stream``, every CHUNK events
chained go to the database at once (a COPY of their own) and Python goes on with the
next while PostgreSQL inserts them; the fold into consent_state stays one statement
after the last chunk (``writes.append_rows``). Everything happens in the caller's
transaction, on its connection, in sequence order.

Measured over HTTP (``charter serve``, recordConsents of 500, trees taking turns): 76 µs
an event written in one go, 69 streamed. Folding each chunk as it went in, to overlap the
fold too, came to 74: each fold statement's own cost (~0.25 ms, as a COPY's) ate what
the overlap won.

The caller gives the event loop a turn often (``tenants.chunks.paced_chunks``): a
chunk's COPY is sent, and the next one started, only at those turns.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tenants.consent.writes import EventRow, copy_events

__all__ = ["CHUNK", "Stream"]

# Events per COPY. Each statement costs PostgreSQL ~0.25 ms of its own (measured with one
# row) besides ~12 µs a row; a hundred keeps that under a tenth of the write and starts
# the database after about 2 ms of Python.
CHUNK = 100


class Stream:
    """Inserts the events sent to it (``send``), in the order sent, on ``connection`` (the
    transaction's asyncpg connection). ``finish`` waits for all of it and raises the
    first failure; after a failure nothing later is sent, and the caller's transaction
    must roll back (``abandon`` first, so the connection is idle)."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection
        self._waiting: list[EventRow] = []
        self._last: asyncio.Future | None = None

    def send(self, events: list[EventRow]) -> None:
        """Queue ``events``, the next in sequence; a COPY starts once CHUNK are queued."""
        self._waiting.extend(events)
        if len(self._waiting) >= CHUNK:
            self._flush()

    def _flush(self) -> None:
        if self._waiting:
            chunk, self._waiting = self._waiting, []
            self._last = asyncio.ensure_future(self._write(self._last, chunk))

    async def _write(self, before: asyncio.Future | None, chunk: list[EventRow]) -> None:
        if before is not None:
            await before  # its failure is this chunk's too: nothing more is sent
        await copy_events(self._connection, chunk)

    async def finish(self) -> None:
        """Send what is queued and wait until every chunk is inserted."""
        self._flush()
        if self._last is not None:
            await self._last

    async def abandon(self) -> None:
        """Wait for the chunks in flight, whatever they end in, sending no more."""
        self._waiting = []
        if self._last is not None:
            await asyncio.gather(self._last, return_exceptions=True)
