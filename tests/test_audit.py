"""Every successful mutation leaves one audit entry; failures and reads leave none."""

from __future__ import annotations

from tests.factories import create_key, create_tenant

LOG = """query($first: Int, $after: String) {
  auditLog(first: $first, after: $after) {
    edges { cursor node { id at actor action target details } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def _entries(api, token, first=100, after=None):
    body = await api(LOG, {"first": first, "after": after}, token=token)
    return body["data"]["auditLog"]


async def test_each_mutation_is_recorded_without_secrets(api):
    tenant, owner = await create_tenant(api)
    own_key = (await api("{ viewer { key { id } } }", token=owner))["data"]["viewer"]["key"]
    key, secret = await create_key(api, owner, name="editor", role="EDITOR")
    await api('mutation { updateTenant(input: {name: "Renamed"}) { tenant { id } } }', token=owner)
    await api(
        "mutation($id: ID!) { revokeApiKey(id: $id) { apiKey { id } } }",
        {"id": key["id"]},
        token=owner,
    )
    # A failed mutation and a read add nothing.
    await api('mutation { updateTenant(input: {name: ""}) { tenant { id } } }', token=owner)
    await api("{ apiKeys { id } }", token=owner)

    log = await _entries(api, owner)
    nodes = [edge["node"] for edge in log["edges"]]
    assert [n["action"] for n in nodes] == [
        "api_key.revoke",
        "tenant.update",
        "api_key.create",
        "tenant.create",
    ]
    assert nodes[0]["target"] == f"api_key:{key['id']}"
    assert nodes[0]["actor"] == f"key:{own_key['id']}"
    assert nodes[1]["details"] == {"fields": ["name"]}
    assert nodes[3]["actor"] == "platform" and nodes[3]["target"] == f"tenant:{tenant['id']}"
    assert secret not in str(log) and owner not in str(log)


async def test_audit_log_pages_newest_first(api):
    _, owner = await create_tenant(api)
    for index in range(4):
        await create_key(api, owner, name=f"key {index}", role="AUDITOR")
    first = await _entries(api, owner, first=2)
    assert first["pageInfo"]["hasNextPage"] is True
    second = await _entries(api, owner, first=2, after=first["pageInfo"]["endCursor"])
    third = await _entries(api, owner, first=2, after=second["pageInfo"]["endCursor"])
    names = [
        e["node"]["details"].get("name") for page in (first, second, third) for e in page["edges"]
    ]
    assert names == ["key 3", "key 2", "key 1", "key 0", None]
    assert third["pageInfo"]["hasNextPage"] is False


async def test_bad_page_arguments_are_bad_user_input(api):
    _, owner = await create_tenant(api)
    for variables in ({"first": -1}, {"first": 101}, {"after": "garbage!"}):
        body = await api(LOG, variables, token=owner)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
