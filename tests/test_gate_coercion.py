"""Variables are coerced once per request: the gate coerces them (and refuses, coded,
what does not coerce); execution takes its result instead of walking every input again
(``schema.coerced``). A recordConsents of 500 spent as long coercing twice as writing."""

from __future__ import annotations

import pytest
from graphql.execution import values

from schema import coercion
from tests.factories import create_tenant
from tests.test_consent import publish_policy
from tests.test_consent_ledger import BATCH, item


@pytest.fixture
def coercions(monkeypatch) -> list[str]:
    """Who coerced variables: "gate" (``schema.coercion``, compiled or not) and
    "graphql-core" (its generic walk, the gate's fallback or the executor's own)."""
    seen: list[str] = []
    generic, gate = values.coerce_variable_values, coercion.variable_values

    def counted_generic(*args, **kwargs):
        seen.append("graphql-core")
        return generic(*args, **kwargs)

    def counted_gate(*args, **kwargs):
        seen.append("gate")
        return gate(*args, **kwargs)

    monkeypatch.setattr(values, "coerce_variable_values", counted_generic)
    monkeypatch.setattr(coercion, "variable_values", counted_gate)
    return seen


async def test_a_batch_is_coerced_once_and_recorded_whole(api, coercions):
    _, owner = await create_tenant(api, slug="acme")
    await publish_policy(api, owner)
    coercions.clear()
    result = await api(BATCH, {"inputs": [item(i) for i in range(5)]}, token=owner)
    assert result["data"]["recordConsents"] == {"recorded": 5, "duplicates": 0, "userErrors": []}
    assert coercions == ["gate"]  # compiled: no generic walk, and none by the executor


async def test_values_that_do_not_coerce_are_refused_coded_before_execution(api, client, coercions):
    _, owner = await create_tenant(api, slug="acme")
    await publish_policy(api, owner)
    coercions.clear()
    variables = {"inputs": [{**item(0), "method": "SMOKE_SIGNAL"}]}
    answer = await client.post(
        "/graphql",
        json={"query": BATCH, "variables": variables},
        headers={"Authorization": f"Bearer {owner}"},
    )
    assert answer.status_code < 500
    result = answer.json()
    assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert result.get("data") is None
    # The gate's, which leaves a value that does not coerce to graphql-core to explain;
    # nothing ran after it.
    assert coercions == ["gate", "graphql-core"]
