"""What the privacy center asks of Charter: the public API's own operations, run
in-process as the site, so a form gets exactly the checks, errors and side effects a
browser calling GraphQL with the tenant's publishable key would get.

The site acts as a publishable key would (it may collect: record consent, submit and
verify requests; read nothing private); the audit log names it `site:privacy-center`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from schema import schema
from schema.context import Context
from tenants.tenancy.models import ApiKey, Tenant
from tenants.tenancy.principal import Principal

SUBMIT = """mutation($input: SubjectRequestInput!) {
  submitSubjectRequest(input: $input) {
    subjectRequest { id type status }
    userErrors { field code message }
  }
}"""
VERIFY = """mutation($id: ID!, $token: String!) {
  verifySubjectRequest(id: $id, token: $token) {
    subjectRequest { id type status dueAt jurisdiction }
    userErrors { field code message }
  }
}"""
RECORD = """mutation($input: ConsentInput!) {
  recordConsent(input: $input) {
    receipt { id policyVersion locale decisions { purpose granted } }
    userErrors { field code message }
  }
}"""
_NAMESPACE = uuid.UUID("6f9b1c52-1d2e-4b8a-9c33-2b7f0e5d4a10")


@dataclass(frozen=True)
class SitePrincipal(Principal):
    @property
    def actor(self) -> str:
        return "site:privacy-center"


def principal_of(tenant: Tenant) -> SitePrincipal:
    # A key that is never stored: it stands for the site's own pages, with exactly the
    # publishable key's capabilities (tenants.tenancy.roles), and cannot be presented.
    key = ApiKey(
        id=uuid.uuid5(_NAMESPACE, str(tenant.id)),
        tenant_id=tenant.id,
        name="privacy center",
        role=None,
        publishable=True,
        prefix="",
        key_hash="",
    )
    return SitePrincipal(tenant=tenant, key=key)


class OperationFailed(Exception):
    """The operation raised a GraphQL error (not a userError): its code."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


async def run(
    request: Request, *, tenant: Tenant, document: str, variables: dict[str, Any]
) -> dict[str, Any]:
    """The operation's data; raises OperationFailed with the error's code."""
    context = Context(request, None, principal_of(tenant), request.app.state.cache)
    result = await schema.execute(document, variable_values=variables, context_value=context)
    if result.errors:
        raise OperationFailed((result.errors[0].extensions or {}).get("code", "GENERIC"))
    return result.data or {}
