"""The codes Apollo Server gives, so Apollo, urql and Relay clients recognise them:
GRAPHQL_PARSE_FAILED for a document that does not parse, BAD_USER_INPUT for variables
that do not coerce, GRAPHQL_VALIDATION_FAILED for a rule broken; the same over HTTP
(either media type) and over graphql-transport-ws, since the gate decides them once."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.factories import create_tenant, error_codes
from tests.servers import serve
from tests.test_gate_websocket import Socket

KEY_QUERY = "query($first: Int) { auditLog(first: $first) { edges { cursor } } }"
CASES = [
    ("{ viewer { ", None, "GRAPHQL_PARSE_FAILED"),
    ("query { ", None, "GRAPHQL_PARSE_FAILED"),
    ('{ viewer(x: "unterminated) }', None, "GRAPHQL_PARSE_FAILED"),
    ("{ noSuchField }", None, "GRAPHQL_VALIDATION_FAILED"),
    ('{ auditLog(first: "ten") { edges { cursor } } }', None, "GRAPHQL_VALIDATION_FAILED"),
    (KEY_QUERY, {"first": "ten"}, "BAD_USER_INPUT"),
    (KEY_QUERY, {"first": 1.5}, "BAD_USER_INPUT"),
    ("query($id: ID!) { node(id: $id) { id } }", {}, "BAD_USER_INPUT"),
    ("query($id: ID!) { node(id: $id) { id } }", {"id": None}, "BAD_USER_INPUT"),
    ("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [None]}, "BAD_USER_INPUT"),
    (
        'mutation($d: DateTime!) { reportBreach(input: {title: "t", risk: LOW, detectedAt: $d}) { breach { id } } }',
        {"d": "yesterday"},
        "BAD_USER_INPUT",
    ),
]
MEDIA = ("application/json", "application/graphql-response+json")


@pytest.fixture(autouse=True)
def _clean(app):
    """Each test starts from empty tables (conftest.clean_state), its server included."""


async def test_each_kind_of_bad_request_has_apollos_code_over_http_and_websocket(settings):
    async with serve(settings) as http:
        from tests.conftest import Api

        _, owner = await create_tenant(Api(http))
        async with Socket.open(http.base_url.port, owner) as socket:
            for query, variables, code in CASES:
                for media in MEDIA:
                    response = await http.post(
                        "/graphql",
                        json={"query": query, "variables": variables},
                        headers={"Authorization": f"Bearer {owner}", "Accept": media},
                    )
                    body = response.json()
                    assert set(error_codes(body)) == {code}, (query, media, body)
                    assert "data" not in body, body  # refused before execution began
                    wanted = (
                        200 if media == "application/json" and code != "BAD_USER_INPUT" else 400
                    )
                    assert response.status_code == wanted, (query, media, response.status_code)
                answer = await socket.run(query, variables)
                assert set(error_codes(answer)) == {code}, (query, answer)


async def test_get_and_persisted_queries_say_the_same(client):
    """The other roads into the gate: a GET, and a persisted query registered by GET."""
    query = "query($s: String!) { publishedPolicy(site: $s) { version } }"
    persisted = json.dumps(
        {"persistedQuery": {"version": 1, "sha256Hash": hashlib.sha256(query.encode()).hexdigest()}}
    )
    for variables in ({"s": 5}, {}, {"s": None}):
        for extra in ({}, {"extensions": persisted}):
            params = {"query": query, "variables": json.dumps(variables), **extra}
            response = await client.get("/graphql", params=params)
            assert response.status_code == 400, response.text
            assert error_codes(response.json()) == ["BAD_USER_INPUT"], (variables, extra)
    broken = await client.get("/graphql", params={"query": "{ publishedPolicy(site: "})
    assert error_codes(broken.json()) == ["GRAPHQL_PARSE_FAILED"]
