"""Fixtures: the app on each backend, clean state per test, and a GraphQL client."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from tortoise import Tortoise, connections

from server import backends
from server.app import create_app
from server.settings import Settings
from tenants import crypto
from tests import backends as tb


@pytest.fixture(scope="session")
async def backend(tmp_path_factory):
    """Settings for this run's backend; the PostgreSQL one gets a database of its own.

    One backend per pytest process (CHARTER_TEST_BACKEND): Tortoise caches SQL per model
    and connection name, so a process never switches dialects, in tests as in production.
    """
    kind = tb.BACKEND
    data_dir = str(tmp_path_factory.mktemp(kind))
    if kind == "embedded":
        yield kind, Settings.from_env(tb.environment(kind, data_dir))
        return
    reason = await tb.services_unreachable()
    if reason:
        if tb.REQUIRE_SERVICES:
            pytest.fail(f"CHARTER_TEST_REQUIRE_SERVICES=1 but {reason}")
        pytest.skip(f"PostgreSQL + Redis not reachable ({reason})")
    url = await tb.create_database()
    try:
        yield kind, Settings.from_env(tb.environment(kind, data_dir, url))
    finally:
        await tb.drop_database(url)


@pytest.fixture(scope="session")
async def settings(backend) -> Settings:
    return backend[1]


@pytest.fixture(scope="session")
async def app(settings):
    await backends.apply_migrations(settings)
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


_CRYPTO_STATE = ("_master", "_subkeys", "_keyring", "_current")


@pytest.fixture(autouse=True)
def crypto_restored():
    """The process-wide keys as they were before the test: a test that calls
    ``crypto.configure`` and restores only the secret left this process sealing with a
    key no worker or CLI process of the run holds ("no encryption key")."""
    saved = [getattr(crypto, name) for name in _CRYPTO_STATE]
    yield
    for name, value in zip(_CRYPTO_STATE, saved, strict=True):
        setattr(crypto, name, value)


@pytest.fixture(autouse=True)
async def clean_state(request):
    """Every test that uses the app starts with empty tables and an empty Redis."""
    if "app" not in request.fixturenames:
        yield
        return
    application = request.getfixturevalue("app")
    await _truncate()
    await application.state.redis.flushdb()
    application.state.cache._down_until = 0.0  # a test that broke Redis leaves no trace
    application.state.cache._owed.clear()
    application.state.cache._owed_keys.clear()
    application.state.cache.forget_facts()  # a flushed Redis publishes nothing either
    application.state.pipeline.local.forget_all()  # a flushed Redis publishes nothing
    application.state.principals.forget_all()  # nor do truncated keys
    await application.state.principals.check()  # the flushed generation, seen now
    application.state.pipeline.leases.clear()
    yield


async def _truncate() -> None:
    connection = connections.get("default")
    tables = [model._meta.db_table for model in Tortoise.apps["charter"].values()]
    if connection.capabilities.dialect == "postgres":
        await connection.execute_script(f"TRUNCATE {', '.join(tables)} CASCADE")
    else:
        for table in tables:
            await connection.execute_script(f"DELETE FROM {table}")


class Api:
    """Posts GraphQL to the app in-process and returns the decoded body."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
async def client(app):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def api(client) -> Api:
    return Api(client)


@pytest.fixture
def platform_token() -> str:
    return tb.ADMIN_TOKEN


class QueryCounter(logging.Handler):
    """Counts the SQL statements Tortoise sends, from its own debug log."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.statements.append(record.getMessage())

    def reset(self) -> None:
        self.statements.clear()

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def queries():
    logger = logging.getLogger("tortoise.db_client")
    counter = QueryCounter()
    level = logger.level
    logger.addHandler(counter)
    logger.setLevel(logging.DEBUG)
    try:
        yield counter
    finally:
        logger.removeHandler(counter)
        logger.setLevel(level)
