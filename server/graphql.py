"""Strawberry on Starlette: the gate in front of both transports (HTTP through
``server.edge``, graphql-transport-ws through ``server.websocket``), GraphQL over HTTP
done exactly."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult

from schema import schema
from schema.context import Context
from server import cors, execution, graphiql, http_spec
from server.edge import PARSED_BODY, BadBody, BodyTooLarge, Pipeline, error_response
from server.gate import Admission, Caller, Gate
from server.http_spec import (
    GRAPHQL_RESPONSE,
    content_type,
    is_request_error,
    negotiate,
    response_data,
)
from server.settings import Settings
from server.websocket import GatedSocket, Sockets
from tenants import untrusted_json
from tenants.tenancy.principal import ANONYMOUS

log = logging.getLogger("charter.edge")

REQUEST_TIMEOUT_SECONDS = 30
# One encoder for every answer: json.dumps given any option builds a new JSONEncoder per
# call, ~4 µs of each response; the output is the same, byte for byte.
_ENCODE = json.JSONEncoder(separators=(",", ":")).encode
TOO_LARGE = "the request body is too large"


class CharterGraphQL(GraphQL):
    graphql_transport_ws_handler_class = GatedSocket

    def __init__(self, settings: Settings) -> None:
        super().__init__(
            schema,
            graphql_ide=None if settings.production else "graphiql",
            allow_queries_via_get=True,
            multipart_uploads_enabled=False,
            # graphql-transport-ws only, every operation through the gate
            # (server.websocket); any Origin may open a socket, the gate's origin policy
            # judges each operation; GatedSocket counts operations, and says so with a code.
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            allowed_origins=["*"],
            max_subscriptions_per_connection=None,
        )
        self.settings = settings
        self.pipeline: Pipeline | None = None  # built by the app once Redis is up
        self.gate: Gate | None = None
        self.sockets: Sockets | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.pipeline is None:
            return await super().__call__(scope, receive, send)
        request = Request(scope, _limited(receive, self.settings.edge.max_body_bytes))
        try:
            if request.method == "OPTIONS":
                response = await cors.preflight(
                    request, request.app.state.cache, strict=self.pipeline.settings.production
                )
            elif (refused := http_spec.unacceptable(request.method, request.headers)) is not None:
                response = error_response(request, *refused)
            else:
                async with asyncio.timeout(REQUEST_TIMEOUT_SECONDS):
                    response = await self.pipeline.handle(request, self._run)
        except BodyTooLarge:
            response = error_response(request, 413, TOO_LARGE, "PAYLOAD_TOO_LARGE")
        except BadBody as error:
            response = error_response(request, 400, str(error), "BAD_USER_INPUT")
        except ClientDisconnect:
            return  # the caller hung up mid-body: no one to answer, nothing that failed
        except TimeoutError:
            response = error_response(
                request, 503, "the request took too long", "INTERNAL_SERVER_ERROR"
            )
        except Exception as error:  # outside GraphQL's own masking: same rule, no traceback out
            correlation = uuid.uuid4().hex[:16]
            log.error("unexpected error %s at the edge", correlation, exc_info=error)
            response = error_response(
                request,
                503,
                f"the service is unavailable for a moment (reference {correlation})",
                "INTERNAL_SERVER_ERROR",
                {"Retry-After": "1"},
            )
        await response(scope, receive, send)

    async def _run(self, request: Request) -> Response:
        admission = getattr(request.state, "admission", None)
        # A mutation outlasting REQUEST_TIMEOUT_SECONDS: 503 at the limit, its write goes on.
        return await execution.shielded(admission, self._answer(request, admission))

    async def _answer(self, request: Request, admission: Admission | None) -> Response:
        if admission is not None:  # admitted: no second pass through the view
            response = await execution.respond(self, request, admission)
            if response is not None:
                return response
        try:
            return await self.run(request)
        except HTTPException as error:
            # Strawberry's own refusals (a body it cannot read, no operation picked, a
            # mutation over GET) in the same shape as every other error.
            status, code, extra = http_spec.strawberry_refusal(error.status_code, error.reason)
            return error_response(request, status, error.reason, code, extra)
        except BodyTooLarge:
            return error_response(request, 413, TOO_LARGE, "PAYLOAD_TOO_LARGE")

    async def on_ws_connect(self, context: Context) -> None:
        """A socket's key comes in connection_init: {"Authorization": "Bearer sk_…"}. A
        key that stands for nobody closes the socket (4403); the gate checks it again for
        every operation."""
        params = context.connection_params or {}
        header = params.get("Authorization") or params.get("authorization")
        context.caller = Caller.of(context.request, self.settings, header)
        principal, rejected = await self.gate.authenticate(context.caller)
        if rejected:
            raise ConnectionRejectionError({"message": "unknown or revoked key"})
        context.principal = principal
        return None

    async def get_context(self, request, response) -> Context:
        state = request.app.state
        admission = getattr(request.state, "admission", None)
        if admission is not None:
            return Context(
                request, response, admission.principal, state.cache, admission=admission,
                live=state.hub,
            )  # fmt: skip
        if isinstance(request, Request):
            # No admission: a shape the edge could not read. It runs as nobody, and the
            # document limits still apply (schema.documents.GateDocuments).
            return Context(request, response, ANONYMOUS, state.cache, rejected=True, live=state.hub)
        caller = Caller.of(request, self.settings)  # a socket, until connection_init
        return Context(request, response, ANONYMOUS, state.cache, caller=caller, live=state.hub)

    # --- GraphQL over HTTP, as the spec says -------------------------------------------

    def should_render_graphql_ide(self, request) -> bool:
        # A persisted query over GET has no `query` parameter, but it is no visit to the IDE.
        if "extensions" in request.query_params:
            return False
        return self.graphql_ide is not None and super().should_render_graphql_ide(request)

    async def render_graphql_ide(self, request: Request) -> Response:
        return graphiql.page(request)  # Charter's own, offline (server.graphiql)

    def encode_json(self, data: object) -> str:
        return _ENCODE(data)  # strawberry's encoding: json.dumps with compact separators

    def decode_json(self, data: str | bytes) -> object:
        parsed = PARSED_BODY.get()
        if parsed is not None and parsed[0] is data:  # the edge decoded these very bytes
            return parsed[1]
        # Every body, form field and socket message strawberry reads: nesting bounded.
        return untrusted_json.loads(data)

    async def get_sub_response(self, request: Request) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = negotiate(request.headers.get("accept"))
        if request.method == "GET":  # an answer a cache may keep: it depends on Accept
            sub_response.headers["Vary"] = "Accept"
        return sub_response

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        # Strawberry calls .get() on whatever the body decodes to: 1, null or "x" would
        # end in a 500. A list is a batch, which strawberry refuses with a 400.
        media, _ = parse_content_type(request.content_type or "")
        if request.method == "POST" and "application/json" in media:
            body = self.parse_json(await request.get_body())
            if not isinstance(body, dict | list):
                raise HTTPException(400, "The GraphQL request body must be a JSON object.")
        return await super().parse_http_body(request)

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: object | None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        # A persisted query arrives as a hash: the edge put the document on the request.
        if request_data.query is None:
            request_data.query = getattr(request.state, "query", None)
        try:
            result = await super().execute_single(
                request=request,
                request_adapter=request_adapter,
                sub_response=sub_response,
                context=context,
                root_value=root_value,
                request_data=request_data,
            )
        except HTTPException as error:
            # Strawberry answers a mutation over GET with 400; the spec says 405.
            if request_adapter.method == "GET" and isinstance(
                error.__cause__, InvalidOperationTypeError
            ):
                raise HTTPException(405, error.reason) from error.__cause__
            raise
        if sub_response.media_type == GRAPHQL_RESPONSE and is_request_error(result):
            sub_response.status_code = 400
        return result

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        return response_data(result)

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        response.headers["content-type"] = content_type(sub_response.media_type)
        return response


def _limited(receive: Receive, limit: int) -> Receive:
    """A receive that refuses bodies over ``limit`` bytes, however they are sent."""
    seen = 0

    async def guarded() -> dict:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge
        return message

    return guarded
