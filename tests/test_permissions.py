"""The role matrix, walked for every operation and every kind of caller."""

from __future__ import annotations

import pytest

from schema import schema
from tests.backends import ADMIN_TOKEN
from tests.factories import create_key, create_tenant, error_codes

OK, NULL, FORBIDDEN, UNAUTH = "ok", "null", "FORBIDDEN", "UNAUTHENTICATED"
CALLERS = ("OWNER", "ADMIN", "EDITOR", "AUDITOR", "PUBLISHABLE", "PLATFORM", "ANONYMOUS")

# operation -> (document, variables, expected outcome per caller, in CALLERS order)
MATRIX = {
    "viewer": ("{ viewer { key { id } } }", {}, (OK, OK, OK, OK, FORBIDDEN, NULL, NULL)),
    "apiKeys": (
        "{ apiKeys { id } }",
        {},
        (OK, OK, FORBIDDEN, OK, FORBIDDEN, FORBIDDEN, UNAUTH),
    ),
    "auditLog": (
        "{ auditLog { edges { node { id } } } }",
        {},
        (OK, OK, FORBIDDEN, OK, FORBIDDEN, FORBIDDEN, UNAUTH),
    ),
    "createTenant": (
        """mutation($input: CreateTenantInput!) { createTenant(input: $input) {
             tenant { id } userErrors { code } } }""",
        {"input": {"slug": "newco", "name": "New", "defaultLocale": "en", "jurisdictions": ["EU"]}},
        (FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK, UNAUTH),
    ),
    "updateTenant": (
        """mutation { updateTenant(input: {name: "Renamed"}) { tenant { id } userErrors { code } } }""",
        {},
        (OK, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, UNAUTH),
    ),
    "createApiKey": (
        """mutation { createApiKey(input: {name: "n", role: AUDITOR}) {
             apiKey { id } userErrors { code } } }""",
        {},
        (OK, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, UNAUTH),
    ),
    "revokeApiKey": (
        """mutation($id: ID!) { revokeApiKey(id: $id) { apiKey { id } userErrors { code } } }""",
        {"id": "VICTIM"},
        (OK, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, UNAUTH),
    ),
}


def test_matrix_covers_every_operation():
    graphql = schema._schema
    every = set(graphql.query_type.fields) | set(graphql.mutation_type.fields)
    assert every == set(MATRIX), f"add {every - set(MATRIX)} to the matrix"


@pytest.fixture
async def callers(api) -> dict[str, str | None]:
    _, owner = await create_tenant(api, slug="acme")
    tokens = {"OWNER": owner, "PLATFORM": ADMIN_TOKEN, "ANONYMOUS": None}
    for role in ("ADMIN", "EDITOR", "AUDITOR"):
        tokens[role] = (await create_key(api, owner, name=role, role=role))[1]
    tokens["PUBLISHABLE"] = (await create_key(api, owner, name="site", publishable=True))[1]
    return tokens


@pytest.mark.parametrize("operation", sorted(MATRIX))
async def test_each_caller_gets_what_the_matrix_says(api, callers, operation):
    document, variables, outcomes = MATRIX[operation]
    for caller, expected in zip(CALLERS, outcomes, strict=True):
        if operation == "revokeApiKey":
            victim, _ = await create_key(api, callers["OWNER"], name="victim", role="EDITOR")
            variables = {"id": victim["id"]}
        if operation == "createTenant":
            variables = {"input": {**variables["input"], "slug": f"newco-{caller.lower()}"}}
        body = await api(document, variables, token=callers[caller])
        result = (body.get("data") or {}).get(operation)
        if expected == OK:
            assert "errors" not in body, (caller, body)
            assert result is not None, (caller, body)
            assert not (isinstance(result, dict) and result.get("userErrors")), (caller, body)
        elif expected == NULL:
            assert "errors" not in body and result is None, (caller, body)
        else:
            assert error_codes(body) == [expected], (caller, body)
