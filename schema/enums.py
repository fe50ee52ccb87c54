"""Domain enums exposed to GraphQL under the contract's names."""

import strawberry

from tenants.rights import RequestType as _RequestType
from tenants.tenancy.roles import Role as _Role

Role = strawberry.enum(_Role, name="Role")
RequestType = strawberry.enum(_RequestType, name="RequestType")
