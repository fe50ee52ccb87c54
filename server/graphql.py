"""Strawberry on Starlette, with the caller resolved before any resolver runs."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError

from schema import schema
from schema.context import Context
from server.auth import Rejected, authenticate, principal_for
from server.settings import Settings
from tenants.tenancy.principal import ANONYMOUS


class CharterGraphQL(GraphQL):
    def __init__(self, settings: Settings) -> None:
        super().__init__(
            schema,
            graphql_ide=None if settings.production else "graphiql",
            allow_queries_via_get=True,
            multipart_uploads_enabled=False,
        )
        self.settings = settings

    async def on_ws_connect(self, context: Context) -> None:
        """Subscriptions authenticate in connection_init: {"Authorization": "Bearer sk_…"}."""
        params = context.connection_params or {}
        header = params.get("Authorization") or params.get("authorization")
        if not header:
            return None
        scheme, _, token = str(header).partition(" ")
        try:
            if scheme.lower() != "bearer" or not token.strip():
                raise Rejected
            context.principal = await principal_for(token.strip(), self.settings)
            context.rejected = False
        except Rejected:
            raise ConnectionRejectionError({"message": "unknown or revoked key"}) from None
        return None

    async def get_context(self, request: Request, response: Response) -> Context:
        cache = request.app.state.cache
        try:
            principal = await authenticate(request, self.settings)
        except Rejected:
            return Context(request, response, ANONYMOUS, cache, rejected=True)
        return Context(request, response, principal, cache)
