"""GraphiQL, served by Charter itself, in headless Chromium with every other host blocked:
it loads, its docs pane lists the Query fields, a query runs with a key typed into the
headers editor, and the key is not persisted in localStorage. Runs outside production,
where introspection is open to all (in production GraphiQL is not served at all).
`CHARTER_UPDATE_SCREENSHOTS=1` writes the README's screenshot, docs/screenshots/graphiql.png."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from schema import schema
from server import graphiql
from tests import node
from tests.conftest import Api
from tests.factories import create_tenant
from tests.servers import serve

SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "screenshots" / "graphiql.png"


@pytest.fixture(autouse=True)
def _clean(app):
    """Each test starts from empty tables (conftest.clean_state), its server included."""


async def test_graphiql_works_offline_and_forgets_the_key(settings):
    node.installed(browser=True)
    async with serve(settings) as http:
        _, owner = await create_tenant(Api(http), slug="acme")
        page = await http.get("/graphql", headers={"Accept": "text/html"})
        shot = [str(SCREENSHOT)] if os.environ.get("CHARTER_UPDATE_SCREENSHOTS") else []
        [seen] = await node.run("graphiql.mjs", f"{http.base_url}/graphql", owner, *shot)
    assert page.headers["Content-Security-Policy"] == graphiql.CSP
    assert "https://" not in page.text and "unsafe-inline" not in graphiql.CSP
    assert seen["foreign"] == [] and seen["failed"] == [] and seen["violations"] == []
    assert set(seen["fields"]) == set(schema._schema.query_type.fields)
    assert '"slug": "acme"' in seen["result"]
    assert seen["authorization"] == f"Bearer {owner}"
    # GraphiQL keeps the query in its history: where the key would be, had it been kept.
    assert any("query Mine" in value for value in seen["storage"].values()), seen["storage"]
    assert [k for k, v in seen["storage"].items() if owner in v] == []


async def test_graphiql_files_are_served_by_hashed_name_only(client):
    page = await client.get("/graphql", headers={"Accept": "text/html"})
    names = [part.split('"')[0] for part in page.text.split(graphiql.PREFIX)[1:]]
    assert len(names) == 6
    for name in names:
        answer = await client.get(graphiql.PREFIX + name, headers={"Accept-Encoding": "gzip"})
        assert answer.status_code == 200 and "immutable" in answer.headers["Cache-Control"]
    assert (await client.get(graphiql.PREFIX + "graphiql.min.js")).status_code == 404
