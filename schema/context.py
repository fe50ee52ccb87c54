"""What every resolver gets: the connection, the response, who is calling, and what the
operation gate decided about this operation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import HTTPConnection
from starlette.responses import Response

from tenants.cache import Cache
from tenants.tenancy.principal import Principal


@dataclass
class Context:
    request: HTTPConnection  # the HTTP request, or the WebSocket an operation came on
    response: Response | None
    principal: Principal
    cache: Cache
    # A token was presented but is unknown or revoked, or the operation never passed the
    # gate: every operation answers UNAUTHENTICATED.
    rejected: bool = False
    # Set by strawberry from a websocket's connection_init payload.
    connection_params: dict | None = None
    # server.gate.Admission: the parsed document, the charge, the caller (client IP).
    admission: Any = None
    caller: Any = None  # server.gate.Caller: on a socket, before any operation is admitted
    live: Any = None  # tenants.live.Hub: the process's one pub/sub connection

    @property
    def client_ip(self) -> str | None:
        """The client's address, resolved once behind trusted proxies (server.client_ip)."""
        caller = self.admission.caller if self.admission is not None else self.caller
        return caller.ip if caller is not None else None
