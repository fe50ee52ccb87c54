"""Role checks as one small vocabulary. Resolvers call exactly one of these first."""

from __future__ import annotations

from strawberry.types import Info

from schema.context import Context
from schema.errors import Forbidden, Unauthenticated
from tenants.tenancy.models import Tenant
from tenants.tenancy.principal import Principal
from tenants.tenancy.roles import Capability


def caller(info: Info) -> Principal:
    context: Context = info.context
    if context.rejected:
        raise Unauthenticated("the API key or token is unknown or revoked")
    return context.principal


def require(info: Info, capability: Capability) -> tuple[Tenant, Principal]:
    """The caller's tenant, when the caller's key may do ``capability``.

    This is the only source of a tenant for a resolver: never an argument from the client.
    """
    principal = caller(info)
    if principal.key is None or principal.tenant is None:
        if principal.platform:
            raise Forbidden("the platform token may only create tenants")
        raise Unauthenticated("send a tenant API key as 'Authorization: Bearer <key>'")
    if not principal.can(capability):
        raise Forbidden(f"this key may not {capability.value.replace('_', ' ')}")
    return principal.tenant, principal


def require_platform(info: Info) -> Principal:
    principal = caller(info)
    if not principal.platform:
        if principal.key is None:
            raise Unauthenticated("send the platform token as 'Authorization: Bearer <token>'")
        raise Forbidden("only the platform token may create tenants")
    return principal
