"""Variables are coerced once per request: the gate coerces them (and refuses, coded,
what does not coerce); execution takes its result instead of walking every input again
(``schema.coerced``). A recordConsents of 500 spent as long coercing twice as writing."""

from __future__ import annotations

import pytest
from graphql.execution import values

from tests.factories import create_tenant
from tests.test_consent import publish_policy
from tests.test_consent_ledger import BATCH, item


@pytest.fixture
def coercions(monkeypatch) -> list[dict]:
    seen: list[dict] = []
    original = values.coerce_variable_values

    def counted(schema, definitions, inputs, *args, **kwargs):
        seen.append(inputs)
        return original(schema, definitions, inputs, *args, **kwargs)

    monkeypatch.setattr(values, "coerce_variable_values", counted)
    return seen


async def test_a_batch_is_coerced_once_and_recorded_whole(api, coercions):
    _, owner = await create_tenant(api, slug="acme")
    await publish_policy(api, owner)
    coercions.clear()
    result = await api(BATCH, {"inputs": [item(i) for i in range(5)]}, token=owner)
    assert result["data"]["recordConsents"] == {"recorded": 5, "duplicates": 0, "userErrors": []}
    assert len(coercions) == 1


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
    assert len(coercions) == 1  # the gate's; nothing ran after it
