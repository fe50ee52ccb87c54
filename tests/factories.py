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


DRAFT_FIELDS = """
  id kind version status effectiveAt publishedAt material changeSummary
  translations { locale title body html contentHash }
  disclosures {
    controller { name email address phone } dpo { name email }
    dataCategories purposes { key legalBasis requiresConsent dataCategories description }
    retention { subject period criteria } recipients { name purpose country }
    transfers { country safeguard } rights minimumAge complaintAuthority
  }
"""
CREATE_DRAFT = f"""
mutation($input: PolicyDraftInput!) {{
  createPolicyDraft(input: $input) {{ policyVersion {{ {DRAFT_FIELDS} }} userErrors {{ field code message }} }}
}}"""
PUBLISH = f"""
mutation($id: ID!, $effectiveAt: DateTime) {{
  publishPolicyVersion(id: $id, effectiveAt: $effectiveAt) {{
    policyVersion {{ {DRAFT_FIELDS} }} userErrors {{ field code message }}
  }}
}}"""


async def create_draft(api, token: str, **extra: Any) -> dict:
    payload = {
        "kind": "PRIVACY",
        "translations": [{"locale": "en", "title": "Privacy", "body": "We keep little."}],
    }
    payload.update(extra)
    body = await api(CREATE_DRAFT, {"input": payload}, token=token)
    result = body["data"]["createPolicyDraft"]
    assert result["userErrors"] == [], result
    return result["policyVersion"]


async def publish(api, token: str, version_id: str, effective_at: str | None = None) -> dict:
    body = await api(PUBLISH, {"id": version_id, "effectiveAt": effective_at}, token=token)
    result = body["data"]["publishPolicyVersion"]
    assert result["userErrors"] == [], result
    return result["policyVersion"]


async def set_plan(app, slug: str, plan: dict) -> None:
    """The operator's plan for a tenant, as `charter tenant limits` sets it."""
    from tenants.tenancy import service

    tenant = await service.tenant_by_slug(slug)
    await service.set_limits(tenant=tenant, cache=app.state.cache, plan=plan)
