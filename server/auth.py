"""Bearer token -> Principal: the gate's first step (server.gate.Gate.authenticate)."""

from __future__ import annotations

import hmac

from server.principals import Principals
from server.settings import Settings
from tenants.tenancy import keys
from tenants.tenancy.principal import PLATFORM, Principal


class Rejected(Exception):
    """A token was sent but stands for nobody (malformed, unknown or revoked)."""


async def principal_for(
    token: str, settings: Settings, principals: Principals | None = None
) -> Principal:
    """The caller a raw token stands for, from ``principals`` (this process's memory)
    when it holds the key, else from the database; raises Rejected. Unknown tokens are
    never remembered: a caller inventing tokens would only fill memory."""
    try:
        raw = token.encode()
    except UnicodeEncodeError:  # a lone surrogate: a socket's JSON can send one, no header can
        raise Rejected from None
    if settings.admin_token and hmac.compare_digest(raw, settings.admin_token.encode()):
        return PLATFORM
    key_hash = keys.digest(token)
    if key_hash is None:
        raise Rejected
    if principals is None:
        principal = await keys.authenticate_hash(key_hash)
        if principal is None:
            raise Rejected
        return principal
    cached = await principals.get(key_hash)
    if cached is not None:
        return cached
    epoch = principals.epoch
    principal = await keys.authenticate_hash(key_hash)
    if principal is None:
        raise Rejected
    return principals.put(key_hash, principal, epoch=epoch)
