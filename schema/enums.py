"""Domain enums exposed to GraphQL under the contract's names."""

import strawberry

from tenants.breaches.kinds import BreachStatus as _BreachStatus
from tenants.breaches.kinds import ClockKind as _ClockKind
from tenants.breaches.kinds import RiskLevel as _RiskLevel
from tenants.consent.methods import ConsentMethod as _ConsentMethod
from tenants.outbound.models import OutboxStatus as _OutboxStatus
from tenants.policies.kinds import LegalBasis as _LegalBasis
from tenants.policies.kinds import PolicyKind as _PolicyKind
from tenants.policies.kinds import VersionStatus as _VersionStatus
from tenants.rights import RequestType as _RequestType
from tenants.subject_requests.lifecycle import RequestAction as _RequestAction
from tenants.subject_requests.models import IdentityProof as _IdentityProof
from tenants.subject_requests.models import RequestStatus as _RequestStatus
from tenants.tenancy.roles import Role as _Role

Role = strawberry.enum(_Role, name="Role")
RequestType = strawberry.enum(_RequestType, name="RequestType")

PolicyKind = strawberry.enum(_PolicyKind, name="PolicyKind")
VersionStatus = strawberry.enum(_VersionStatus, name="VersionStatus")
LegalBasis = strawberry.enum(_LegalBasis, name="LegalBasis")
ConsentMethod = strawberry.enum(_ConsentMethod, name="ConsentMethod")
RequestStatus = strawberry.enum(_RequestStatus, name="RequestStatus")
RequestAction = strawberry.enum(_RequestAction, name="RequestAction")
BreachStatus = strawberry.enum(_BreachStatus, name="BreachStatus")
RiskLevel = strawberry.enum(_RiskLevel, name="RiskLevel")
ClockKind = strawberry.enum(_ClockKind, name="ClockKind")
OutboxStatus = strawberry.enum(_OutboxStatus, name="OutboxStatus")
IdentityProof = strawberry.enum(_IdentityProof, name="IdentityProof")
