"""Executing an admitted query or mutation over HTTP, without a second pass through
strawberry's HTTP view.

By the time ``server.edge`` has admitted an operation, the request's body is decoded, its
operation picked, its document parsed, measured and validated (``server.gate``). The view
(``CharterGraphQL.run``) would then read the request again, decide once more whether it
is the IDE, a batch or a multipart upload, and pick the operation again. ``respond`` goes
straight to ``schema.execute`` with what the gate found, and answers through the view's
own hooks (context, result processing, response), so the answer is the same, byte for
byte. Anything but a plain query or mutation whose operation the gate picked goes to the
view as before (``None``).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from strawberry.types.graphql import OperationType

from schema import schema
from server.gate import Admission
from server.http_spec import GRAPHQL_RESPONSE, is_request_error

_KINDS = {"query": {OperationType.QUERY}, "mutation": {OperationType.MUTATION}}


async def respond(view, request: Request, admission: Admission) -> Response | None:
    """The view's answer to this admitted request, or None when the view must give it."""
    allowed = _KINDS.get(admission.kind)
    if allowed is None:
        return None
    if request.method == "GET" and admission.kind != "query":
        return None  # the view answers a mutation over GET with its 405
    if request.method == "POST" and "json" not in request.headers.get("content-type", ""):
        return None  # multipart and other bodies: the view's own reading
    operation = admission.operation
    sub_response = await view.get_sub_response(request)
    context = await view.get_context(request, sub_response)
    result = await schema.execute(
        operation.query,
        variable_values=operation.variables,
        context_value=context,
        operation_name=operation.operation_name,
        allowed_operation_types=allowed,
    )
    if sub_response.media_type == GRAPHQL_RESPONSE and is_request_error(result):
        sub_response.status_code = 400
    return view.create_response(await view.process_result(request, result), sub_response)
