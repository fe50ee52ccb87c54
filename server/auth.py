"""Bearer token -> Principal, once per request, before GraphQL sees it."""

from __future__ import annotations

import hmac

from starlette.requests import HTTPConnection

from server.settings import Settings
from tenants.tenancy import keys
from tenants.tenancy.principal import ANONYMOUS, PLATFORM, Principal


class Rejected(Exception):
    """A token was sent but stands for nobody (malformed, unknown or revoked)."""


def bearer_token(connection: HTTPConnection) -> str | None:
    header = connection.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Rejected
    return token.strip()


async def authenticate(connection: HTTPConnection, settings: Settings) -> Principal:
    """The caller; raises Rejected when a token is present but not accepted."""
    token = bearer_token(connection)
    if token is None:
        return ANONYMOUS
    return await principal_for(token, settings)


async def principal_for(token: str, settings: Settings) -> Principal:
    """The caller a raw token stands for; raises Rejected."""
    if settings.admin_token and hmac.compare_digest(token.encode(), settings.admin_token.encode()):
        return PLATFORM
    principal = await keys.authenticate(token)
    if principal is None:
        raise Rejected
    return principal
