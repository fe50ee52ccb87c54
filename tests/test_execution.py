"""Admitted operations skip strawberry's view and its Schema.execute (server.execution):
the answer is the one the view gives, whatever the operation ends in."""

from __future__ import annotations

import re

import pytest

from server import execution
from tenants.tenancy import keys
from tests.factories import create_tenant

CASES = [
    ("{ viewer { tenant { slug name } key { name role } } }", None),
    ("query Q($s: String!) { consentState(subjectId: $s) { purpose granted } }", {"s": "x"}),
    # A coded field error with a path, and data beside it.
    (
        '{ consentHistory(subjectId: "x", first: -1) { edges { cursor } } viewer { key { name } } }',
        None,
    ),
    # An unexpected failure: masked, with a reference.
    ("{ apiKeys { id } }", None),
    # A mutation whose input is refused: userErrors, no GraphQL error.
    ('mutation { updateTenant(input: {name: ""}) { tenant { id } userErrors { code } } }', None),
    ('mutation { createApiKey(input: {name: "k", role: ADMIN}) { userErrors { code } } }', None),
]


def _same(text: str) -> str:
    # Masked errors carry a fresh reference each time.
    return re.sub(r"[0-9a-f]{16}", "REF", text)


@pytest.mark.parametrize(("query", "variables"), CASES)
@pytest.mark.parametrize("accept", ["application/json", "application/graphql-response+json"])
async def test_the_admitted_path_answers_as_the_view_does(
    client, api, monkeypatch, query, variables, accept
):
    _, owner = await create_tenant(api)

    async def broken(*, tenant):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(keys, "api_keys", broken)
    calls = []
    real = execution.run

    async def counted(admission, context):
        calls.append(admission.kind)
        return await real(admission, context)

    monkeypatch.setattr(execution, "run", counted)
    headers = {"Authorization": f"Bearer {owner}", "Accept": accept}
    body = {"query": query, "variables": variables}
    admitted = await client.post("/graphql", json=body, headers=headers)
    assert calls, "the request never took the admitted path"

    async def declined(view, request, admission):
        return None  # the view answers, as it would for any other shape

    monkeypatch.setattr(execution, "respond", declined)
    viewed = await client.post("/graphql", json=body, headers=headers)
    assert len(calls) == 1
    assert admitted.status_code == viewed.status_code
    assert admitted.headers["content-type"] == viewed.headers["content-type"]
    assert _same(admitted.text) == _same(viewed.text)


@pytest.mark.parametrize("accept", ["application/json", "application/graphql-response+json"])
async def test_a_get_answers_with_the_views_headers(client, api, monkeypatch, accept):
    _, owner = await create_tenant(api)
    headers = {"Authorization": f"Bearer {owner}", "Accept": accept}
    params = {"query": "{ viewer { tenant { slug } } }"}
    admitted = await client.get("/graphql", params=params, headers=headers)

    async def declined(view, request, admission):
        return None

    monkeypatch.setattr(execution, "respond", declined)
    viewed = await client.get("/graphql", params=params, headers=headers)
    assert admitted.status_code == viewed.status_code == 200
    assert admitted.text == viewed.text

    def named(response) -> dict:
        # The charge moves RateLimit's remaining units between the two requests.
        return {k: v for k, v in response.headers.items() if k not in ("ratelimit", "date")}

    assert named(admitted) == named(viewed)
    assert admitted.headers["vary"] == "Accept"


@pytest.mark.parametrize(
    "value",
    [
        {"data": {"viewer": {"tenant": {"slug": "acme", "name": "Ünïcode ✓ \u2028"}}}},
        {"data": None, "errors": [{"message": "x", "extensions": {"code": "C"}}]},
        {"data": {"n": [1, 2.5, 1e300, -0.0, True, None, '\x00\x1f\\"']}},
        # What a resolver could hand back that JSON itself cannot say, or barely.
        {"data": {"n": [float("nan"), float("inf"), -float("inf"), 10**40, -(2**64)]}},
        {"data": {"s": "\ud800 lone \udfff", "k\ud83d": "\U0001f600"}},
    ],
)
def test_answers_are_encoded_as_strawberry_encodes_them(value):
    from strawberry.http.base import BaseView

    from server.graphql import CharterGraphQL

    view = CharterGraphQL.__new__(CharterGraphQL)
    assert view.encode_json(value) == BaseView.encode_json(view, value)
