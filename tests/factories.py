"""Ways to reach a state through the public API, shared by the tests."""

from __future__ import annotations

from typing import Any

from tests.backends import ADMIN_TOKEN

CREATE_TENANT = """
mutation($input: CreateTenantInput!) {
  createTenant(input: $input) {
    tenant { id slug name defaultLocale locales jurisdictions domains dpoEmail
             promises { requestType days workingDays } }
    ownerKey
    userErrors { field code message }
  }
}"""

CREATE_KEY = """
mutation($input: CreateApiKeyInput!) {
  createApiKey(input: $input) {
    apiKey { id name role publishable prefix createdAt lastUsedAt revokedAt }
    secret
    userErrors { field code message }
  }
}"""


async def create_tenant(api, slug: str = "acme", **extra: Any) -> tuple[dict, str]:
    """A tenant and its owner key."""
    payload = {"slug": slug, "name": f"{slug} Ltd", "defaultLocale": "en", "jurisdictions": ["EU"]}
    payload.update(extra)
    body = await api(CREATE_TENANT, {"input": payload}, token=ADMIN_TOKEN)
    result = body["data"]["createTenant"]
    assert result["userErrors"] == [], result
    return result["tenant"], result["ownerKey"]


async def create_key(api, owner: str, name: str = "key", **extra: Any) -> tuple[dict, str]:
    payload = {"name": name, **extra}
    body = await api(CREATE_KEY, {"input": payload}, token=owner)
    result = body["data"]["createApiKey"]
    assert result["userErrors"] == [], result
    return result["apiKey"], result["secret"]


def error_codes(body: dict) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]
