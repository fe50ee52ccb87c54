"""The gate picks THE operation once (GraphQL spec §6.1 GetOperation: the named one, or
the only one, else a request error), and introspection policy, cost, the kind a transport
may carry and execution all judge that one: over HTTP GET and POST and over the socket."""

from __future__ import annotations

import dataclasses
import json

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from schema import documents, schema
from tests.factories import create_tenant, error_codes
from tests.servers import serve
from tests.test_gate_websocket import Socket

BODIES = {
    "query": "{ __typename }",
    "introspect": "{ __schema { types { name } } }",
    "dear": "{ " + " ".join(f"j{i}: jurisdictions {{ code }}" for i in range(29)) + " }",
    "subscription": "{ breachUpdated { id } }",
}
KIND = {"query": "query", "introspect": "query", "dear": "query", "subscription": "subscription"}


def _document(ops: list[tuple[str | None, str]]) -> str:
    return " ".join(
        f"{KIND[body]} {name or ''} {BODIES[body]}".replace("  ", " ") for name, body in ops
    )


OPS = st.lists(
    st.tuples(st.sampled_from(["A", "B", "C", None]), st.sampled_from(sorted(BODIES))),
    min_size=1,
    max_size=3,
).filter(
    # a valid document: operation names unique, an anonymous operation alone (§5.2.2)
    lambda ops: len({n for n, _ in ops}) == len(ops) and (len(ops) == 1 or None not in dict(ops))
)


@hypothesis_settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(ops=OPS, name=st.sampled_from(["A", "B", "C", "Z", None]), introspection=st.booleans())
def test_the_gate_judges_the_operation_the_spec_picks(ops, name, introspection):
    query = _document(ops)
    named = [body for op_name, body in ops if op_name == name]
    if name is None:
        expected = ops[0][1] if len(ops) == 1 else None
    else:
        expected = named[0] if named else None
    try:
        checked = documents.check(
            schema._schema, query, operation_name=name, variables=None, introspection=introspection
        )
    except documents.Refusal as refusal:
        if expected is None:
            assert refusal.code == "OPERATION_RESOLUTION_FAILURE", (query, name)
        else:  # refused for what the picked operation does, never for another one
            assert expected == "introspect" and not introspection, (query, name, refusal.errors)
        return
    assert expected is not None, (query, name)
    assert checked.measured.operation == KIND[expected]
    assert checked.measured.introspection == (expected == "introspect")
    assert introspection or expected != "introspect"
    assert (name is None) or checked.operation.name.value == name


SEVERAL = f"query A {BODIES['introspect']} query B {BODIES['dear']}"


async def test_several_operations_without_a_name_are_refused_on_get_and_post(app, client):
    pipeline = app.state.pipeline
    normal = pipeline.settings
    pipeline.settings = dataclasses.replace(normal, env="production")
    try:
        answers = [
            await client.post("/graphql", json={"query": SEVERAL}),
            await client.get("/graphql", params={"query": SEVERAL}),
            await client.post(
                "/graphql",
                json={"query": SEVERAL},
                headers={"Accept": "application/graphql-response+json"},
            ),
        ]
        named = await client.post("/graphql", json={"query": SEVERAL, "operationName": "A"})
    finally:
        pipeline.settings = normal
    for answer in answers:
        body = answer.json()
        assert body.get("data") is None, body
        assert error_codes(body) == ["OPERATION_RESOLUTION_FAILURE"], body
    assert answers[2].status_code == 400
    # Named, the introspection itself is what production refuses an anonymous caller.
    assert named.json().get("data") is None
    assert "GRAPHQL_VALIDATION_FAILED" in error_codes(named.json())


async def test_several_operations_without_a_name_are_refused_over_the_socket(api, settings):
    _, owner = await create_tenant(api, slug="acme")
    document = "subscription S { breachUpdated { id } } query Q { __typename }"
    async with serve(settings) as http, Socket.open(http.base_url.port, owner) as socket:
        await socket.start(document)
        message = await socket.receive()
        assert message["type"] == "error", message
        assert [e["extensions"]["code"] for e in message["payload"]] == [
            "OPERATION_RESOLUTION_FAILURE"
        ], json.dumps(message)
