"""PostgreSQL connections go back to the pool clean, without a reset query per release."""

from __future__ import annotations

import asyncio

import pytest
from tortoise import connections

from server import backends
from server.settings import Settings
from tests import backends as tb


def test_postgres_pool_skips_the_reset_query_and_sqlite_is_untouched(tmp_path) -> None:
    postgres = Settings.from_env(tb.environment("postgres", str(tmp_path), tb.PG_URL))
    connection = backends.tortoise_config(postgres)["connections"]["default"]
    assert connection["credentials"]["reset"] is backends.keep_session
    assert connection["credentials"]["application_name"] == "charter"
    embedded = Settings.from_env(tb.environment("embedded", str(tmp_path)))
    sqlite = backends.tortoise_config(embedded)["connections"]["default"]
    assert sqlite["engine"] == backends.SQLITE_ENGINE  # BEGIN IMMEDIATE, no asyncpg options
    assert "reset" not in sqlite["credentials"]


@pytest.mark.skipif(tb.BACKEND != "postgres", reason="the pool is asyncpg's")
async def test_a_connection_released_mid_transaction_comes_back_rolled_back(app) -> None:
    pool = connections.get("default")._pool
    assert pool._reset is backends.keep_session  # the live pool, not just the settings
    async with pool.acquire() as connection:
        await connection.execute("BEGIN")
        await connection.execute("CREATE TABLE left_open (x int)")
    # Every connection the pool holds, at once: the one released above is among them.
    held = [await pool.acquire() for _ in range(pool.get_size())]
    try:
        assert not any(c.is_in_transaction() for c in held)
        tables = await asyncio.gather(
            *(c.fetchval("SELECT to_regclass('left_open') IS NULL") for c in held)
        )
        assert all(tables)
    finally:
        for connection in held:
            await pool.release(connection)


def test_the_pool_holds_up_to_sixteen_unless_the_url_says_otherwise(tmp_path) -> None:
    # At 5 (Tortoise's default) requests queued for a connection under load, and each
    # hand-over cost the server more CPU than the query did.
    postgres = Settings.from_env(tb.environment("postgres", str(tmp_path), tb.PG_URL))
    connection = backends.tortoise_config(postgres)["connections"]["default"]
    assert int(connection["credentials"]["maxsize"]) == backends.POOL_MAXSIZE == 16
    chosen = tb.PG_URL + ("&" if "?" in tb.PG_URL else "?") + "maxsize=3"
    own = Settings.from_env(tb.environment("postgres", str(tmp_path), chosen))
    connection = backends.tortoise_config(own)["connections"]["default"]
    assert int(connection["credentials"]["maxsize"]) == 3


@pytest.mark.skipif(tb.BACKEND != "postgres", reason="the pool is asyncpg's")
async def test_the_live_pool_has_the_configured_size(app) -> None:
    assert connections.get("default")._pool._maxsize == backends.POOL_MAXSIZE
