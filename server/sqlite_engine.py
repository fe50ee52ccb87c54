"""Tortoise's SQLite engine, with write transactions that take the write lock up front.

`charter serve`, `charter worker` and any CLI command share one SQLite file. SQLite's
default BEGIN is deferred: a transaction that reads first and writes later must upgrade
its read lock, and when another process committed in between, SQLite answers
SQLITE_BUSY at once ("database is locked"), whatever the busy timeout, because waiting
could not help (the snapshot it read is already stale). BEGIN IMMEDIATE takes the write
lock when the transaction starts, where the busy timeout (server/backends.py) makes it
wait its turn instead. Writers of one process already take turns on Tortoise's single
connection, so nothing is lost in concurrency; readers outside transactions never wait
(WAL).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from tortoise.backends.base.client import TransactionContext
from tortoise.backends.sqlite import client as sqlite
from tortoise.exceptions import TransactionManagementError


class ImmediateTransaction(sqlite.SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransactionManagementError(exc) from exc


class SqliteClient(sqlite.SqliteClient):
    def _in_transaction(self) -> TransactionContext:
        return sqlite.SqliteTransactionContext(ImmediateTransaction(self), self._lock)

    @sqlite.translate_exceptions
    async def execute_many(self, query: str, values: list[list]) -> None:
        async with self.acquire_connection() as connection:
            self.log.debug("%s: %s", query, values)
            await connection.execute("BEGIN IMMEDIATE")  # as above: a write from the start
            try:
                await connection.executemany(query, values)
            except Exception:
                await connection.rollback()
                raise
            else:
                await connection.commit()


def get_client_class(db_info: dict[str, Any]) -> type[SqliteClient]:
    return SqliteClient
