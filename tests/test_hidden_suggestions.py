"""In production, a caller who may not introspect gets no "Did you mean …?" in its
errors (as Apollo Server's hideSchemaDetailsFromClientErrors): each guess is a schema
name, so typos would map the schema with introspection off. Every transport: the one
gate (schema.documents) cuts them."""

from __future__ import annotations

import dataclasses
import os

import pytest
from graphql import GraphQLEnumType
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from schema import documents, schema
from tests.factories import error_codes
from tests.servers import serve
from tests.test_gate_websocket import Socket

GRAPHQL = schema._schema
FIELDS = sorted(n for n in GRAPHQL.query_type.fields if len(n) > 3)
ENUMS = sorted(
    (name, value)
    for name, kind in GRAPHQL.type_map.items()
    if isinstance(kind, GraphQLEnumType) and not name.startswith("__")
    for value in kind.values
    if len(value) > 3
)
TYPES = sorted(n for n in GRAPHQL.type_map if not n.startswith("__") and len(n) > 3)


@st.composite
def typo(draw, word: str) -> str:
    at = draw(st.integers(0, len(word) - 2))
    how = draw(st.sampled_from(["drop", "double", "swap"]))
    if how == "drop":
        return word[:at] + word[at + 1 :]
    if how == "double":
        return word[:at] + word[at] + word[at:]
    return word[:at] + word[at + 1] + word[at] + word[at + 2 :]


@st.composite
def misspelled(draw) -> tuple[str, dict | None]:
    """A document (and variables) misspelling one schema name: a field, a type, an enum
    value sent in the variables."""
    kind = draw(st.sampled_from(["field", "type", "enum"]))
    if kind == "field":
        return "{ " + draw(typo(draw(st.sampled_from(FIELDS)))) + " }", None
    if kind == "type":
        return f"query($v: {draw(typo(draw(st.sampled_from(TYPES))))}) {{ __typename }}", None
    enum, value = draw(st.sampled_from(ENUMS))
    return f"query($v: {enum}) {{ __typename }}", {"v": draw(typo(value))}


def _messages(query: str, variables: dict | None, *, introspection: bool) -> list[str]:
    try:
        documents.check(
            GRAPHQL, query, operation_name=None, variables=variables, introspection=introspection
        )
    except documents.Refusal as refusal:
        return [error.message for error in refusal.errors]
    return []


def test_no_guess_reaches_a_caller_who_may_not_introspect():
    guessed = []

    @hypothesis_settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(misspelled())
    def check(drawn):
        query, variables = drawn
        hidden = _messages(query, variables, introspection=False)
        assert hidden, query  # still refused, in the same number of words less the guess
        assert not any("Did you mean" in m for m in hidden), (query, hidden)
        shown = _messages(query, variables, introspection=True)
        assert len(shown) == len(hidden)
        guessed.extend(m for m in shown if "Did you mean" in m)

    check()
    assert guessed  # graphql-core does guess for the others: the cut is what hides them


TYPO = "{ jurisdiction { code } }"  # graphql-core: Did you mean 'jurisdictions'?


async def test_production_http_answers_carry_no_guess(app, client):
    pipeline = app.state.pipeline
    normal = pipeline.settings
    pipeline.settings = dataclasses.replace(normal, env="production")
    try:
        answers = [
            await client.post("/graphql", json={"query": TYPO}),
            await client.get("/graphql", params={"query": TYPO}),
        ]
    finally:
        pipeline.settings = normal
    shown = await client.post("/graphql", json={"query": TYPO})  # development: guesses help
    for answer in answers:
        assert error_codes(answer.json()) == ["GRAPHQL_VALIDATION_FAILED"], answer.text
        assert "Did you mean" not in answer.text and "jurisdictions" not in answer.text
    assert "Did you mean" in shown.text


@pytest.mark.skipif(
    os.environ.get("CHARTER_TEST_BACKEND") != "postgres",
    reason="production needs PostgreSQL and Redis (CHARTER_ENV=production)",
)
async def test_production_socket_answers_carry_no_guess(settings):
    async with (
        serve(settings, CHARTER_ENV="production") as http,
        Socket.open(http.base_url.port) as socket,
    ):
        await socket.start(TYPO)
        message = await socket.receive()
    assert message["type"] == "error", message
    assert [e["extensions"]["code"] for e in message["payload"]] == ["GRAPHQL_VALIDATION_FAILED"]
    assert "Did you mean" not in str(message)
