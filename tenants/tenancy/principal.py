"""Who is calling: the platform operator, a tenant's API key, or nobody."""

from __future__ import annotations

from dataclasses import dataclass

from tenants.tenancy.models import ApiKey, Tenant
from tenants.tenancy.roles import Capability, Role, allows


@dataclass(frozen=True)
class Principal:
    tenant: Tenant | None = None
    key: ApiKey | None = None
    platform: bool = False

    @property
    def role(self) -> Role | None:
        return self.key.role if self.key else None

    @property
    def publishable(self) -> bool:
        return bool(self.key and self.key.publishable)

    @property
    def actor(self) -> str:
        """How the audit log names this caller: the key's id, or "platform"."""
        if self.key is not None:
            return f"key:{self.key.id}"
        return "platform" if self.platform else "anonymous"

    def can(self, capability: Capability) -> bool:
        return self.key is not None and allows(
            self.role, capability, publishable=self.key.publishable
        )


ANONYMOUS = Principal()
PLATFORM = Principal(platform=True)
