"""Bearer token -> Principal: the gate's first step (server.gate.Gate.authenticate)."""

from __future__ import annotations

import hmac

from server.settings import Settings
from tenants.tenancy import keys
from tenants.tenancy.principal import PLATFORM, Principal


class Rejected(Exception):
    """A token was sent but stands for nobody (malformed, unknown or revoked)."""


async def principal_for(token: str, settings: Settings) -> Principal:
    """The caller a raw token stands for; raises Rejected."""
    if settings.admin_token and hmac.compare_digest(token.encode(), settings.admin_token.encode()):
        return PLATFORM
    principal = await keys.authenticate(token)
    if principal is None:
        raise Rejected
    return principal
