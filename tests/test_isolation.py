"""A key of tenant B can neither read nor change anything of tenant A."""

from __future__ import annotations

import json

from tests.factories import create_key, create_tenant

A_STATE = """{
  viewer { tenant { id slug name locales jurisdictions domains dpoEmail promises { days } } }
  apiKeys { id name role revokedAt }
  auditLog(first: 100) { edges { cursor node { id action target details } } }
}"""


async def test_tenant_b_cannot_touch_tenant_a(api):
    a_tenant, a_owner = await create_tenant(
        api, slug="alpha", domains=["alpha.example"], dpoEmail="dpo@alpha.example"
    )
    a_key, _ = await create_key(api, a_owner, name="alpha editor", role="EDITOR")
    _, b_owner = await create_tenant(api, slug="bravo")
    before = await api(A_STATE, token=a_owner)
    a_cursor = before["data"]["auditLog"]["edges"][0]["cursor"]
    secrets_of_a = {a_tenant["id"], "alpha", "alpha.example", "dpo@alpha.example", a_key["id"]}

    attempts = [
        (
            "mutation($id: ID!) { revokeApiKey(id: $id) { apiKey { id } userErrors { code } } }",
            {"id": a_key["id"]},
        ),
        (
            'mutation { updateTenant(input: {name: "Hijacked", domains: ["bravo.example"]}) '
            "{ tenant { id } userErrors { code } } }",
            {},
        ),
        ('mutation { createApiKey(input: {name: "x", role: OWNER}) { apiKey { id } } }', {}),
        ("{ viewer { tenant { id slug domains } } apiKeys { id name } }", {}),
        (
            "query($after: String) { auditLog(after: $after) { edges { node { target details } } } }",
            {"after": a_cursor},
        ),
        ("{ auditLog(first: 100) { edges { node { target details } } } }", {}),
    ]
    for document, variables in attempts:
        body = await api(document, variables, token=b_owner)
        text = json.dumps(body)
        leaked = [secret for secret in secrets_of_a if secret in text]
        assert not leaked, (document, leaked)

    revoke = await api(
        "mutation($id: ID!) { revokeApiKey(id: $id) { userErrors { code } } }",
        {"id": a_key["id"]},
        token=b_owner,
    )
    assert revoke["data"]["revokeApiKey"]["userErrors"] == [{"code": "NOT_FOUND"}]
    assert await api(A_STATE, token=a_owner) == before
