"""create_app(settings): routes, middleware and the lifespan that opens the backends."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from schema import schema
from server import backends, graphiql, logs, site
from server.apq import PersistedQueries
from server.edge import Pipeline
from server.fastpath import FastPath
from server.gate import Gate
from server.graphql import CharterGraphQL
from server.health import healthz, readyz
from server.principals import Principals
from server.ratelimit import RateLimiter
from server.response_cache import ResponseCache
from server.security import SecurityHeaders
from server.settings import Settings
from server.websocket import Sockets
from tenants import crypto
from tenants.cache import INVALIDATIONS, Cache
from tenants.live import REVOKED, Hub

log = logging.getLogger("charter")

PATH = "/graphql"
STOP_SECONDS = 2.0  # for the background tasks to finish once cancelled


class CharterApp(Starlette):
    def build_middleware_stack(self) -> ASGIApp:
        # The hot path goes in front of even Starlette's error middleware: a cached read
        # pays for nothing it does not use. Whatever fails in it sends the request on down
        # the usual road (server.fastpath).
        return FastPath(super().build_middleware_stack())


class GraphQLFirst:
    """HTTP requests to /graphql go straight to the GraphQL app: nearly every request
    takes that one route, and Starlette's routing (each route's pattern tried in turn,
    the endpoint's exception wrapper) cost ~15 µs of each, 4% of a secret-key read. Last
    of the middleware, so everything before it applies to them as to any other route;
    the GraphQL app answers its own errors (server.graphql), so the exception middleware
    it skips has nothing to do for it. Sockets and every other path are routed."""

    def __init__(self, app: ASGIApp, graphql: ASGIApp) -> None:
        self.app = app
        self.graphql = graphql

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == PATH:
            return await self.graphql(scope, receive, send)
        await self.app(scope, receive, send)


def create_app(settings: Settings) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        crypto.configure(settings.secret_key, settings.encryption_keys)
        await backends.open_database(settings)
        embedded = backends.start_embedded_redis(settings) if settings.embedded_redis else None
        app.state.redis = backends.redis_client(embedded.url if embedded else settings.redis_url)
        app.state.cache = cache = Cache(app.state.redis)
        app.state.hub = hub = Hub(app.state.redis, channels=(INVALIDATIONS,))
        cache.hear(hub)  # remembered facts (published versions, domains) without a GET
        limiter = RateLimiter(app.state.redis)
        principals = Principals(app.state.redis, hub, cache)
        app.state.principals = principals
        gate = Gate(settings, limiter, cache, schema._schema, principals)
        graphql.gate, graphql.sockets = gate, Sockets(gate)
        graphql.pipeline = app.state.pipeline = Pipeline(
            settings,
            limiter=limiter,
            persisted=PersistedQueries(app.state.redis, max_bytes=settings.edge.apq_max_bytes),
            cache=ResponseCache(cache),
            gate=gate,
            hub=hub,
        )
        hub.on(REVOKED, graphql.sockets.revoked)
        hub.on_lost(graphql.sockets.recheck)
        hub.on_lost(lambda: cache.failed(TimeoutError("silent"), "the live feed"))
        tasks = [asyncio.create_task(hub.run()), asyncio.create_task(cache.keep_paid())]
        tasks.append(asyncio.create_task(principals.keep_checked()))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            # Bounded: a task cancelled while its pub/sub connection was half-open can
            # take for ever to finish, and a server that cannot stop ignores SIGTERM.
            await asyncio.wait(tasks, timeout=STOP_SECONDS)
            await app.state.redis.aclose()
            if embedded is not None:
                embedded.stop()
            await backends.close_database()

    graphql = CharterGraphQL(settings)
    app = CharterApp(
        routes=[
            Route(PATH, graphql),  # taken by GraphQLFirst, declared for the routes' list
            WebSocketRoute(PATH, graphql),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route(graphiql.PREFIX + "{name}", graphiql.file, methods=["GET"]),
            *site.routes(),  # the consent banner and the privacy center, under /t/SITE/
        ],
        lifespan=lifespan,
        middleware=[Middleware(SecurityHeaders), Middleware(GraphQLFirst, graphql=graphql)],
    )
    app.state.settings = settings
    return app


def app_from_env() -> Starlette:
    """Uvicorn's factory: each worker process reads the same environment."""
    settings = Settings.from_env()
    logs.configure(settings.log_level)  # e-mail addresses masked, control characters escaped
    app = create_app(settings)
    # What start-up built (modules, the schema, the app) lives as long as the process.
    # Frozen, the collector stops walking it: each full collection walked 130,000 such
    # objects, a tenth of a 500-event consent batch. Garbage goes first, or it never would.
    gc.collect()
    gc.freeze()
    return app
