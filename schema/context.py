"""What every resolver gets: the request, the response, and who is calling."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from tenants.cache import Cache
from tenants.tenancy.principal import Principal


@dataclass
class Context:
    request: Request
    response: Response | None
    principal: Principal
    cache: Cache
    # A token was presented but is unknown or revoked: every operation answers UNAUTHENTICATED.
    rejected: bool = False
    # Set by strawberry from a websocket's connection_init payload.
    connection_params: dict | None = None
