"""Executing an admitted query or mutation over HTTP, without a second pass through
strawberry's HTTP view.

By the time ``server.edge`` has admitted an operation, the request's body is decoded, its
operation picked, its document parsed, measured and validated (``server.gate``). The view
(``CharterGraphQL.run``) would then read the request again, decide once more whether it
is the IDE, a batch or a multipart upload, and pick the operation again. ``respond`` goes
straight to graphql-core's executor with what the gate found, and answers with the view's
context and JSON encoding, the result shaped as for the view (``response_data``), in the
same status and headers (``CharterGraphQL.get_sub_response``): the same answer, byte for
byte, without the sub-response and the second response object the view builds and merges
per request. Anything but a plain query or mutation whose operation the gate picked goes
to the view as before (``None``).

Strawberry's ``Schema.execute`` would, per request, build its execution context, an
instance of each schema extension and their hook runners, then parse and validate (which
``schema.documents.GateDocuments`` turns into taking the gate's document): about a tenth
of a secret-key read's CPU, for nothing the gate has not already done. What its
extensions do to a result is done here the same way: ``Schema.process_errors`` sees the
errors first (the log), then ``schema.errors.CodedErrors`` masks and codes them.

``shielded`` is how every transport awaits an admitted operation's execution: a mutation,
once started, runs to its end whatever becomes of its caller (``tenants.uncancelled``).
"""

from __future__ import annotations

from collections.abc import Awaitable
from inspect import isawaitable
from typing import TypeVar

from graphql import execute
from starlette.requests import Request
from starlette.responses import Response
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.types import ExecutionResult

from schema import coerced, schema
from schema.context import Context
from schema.errors import CodedErrors
from server.gate import Admission
from server.http_spec import (
    GRAPHQL_RESPONSE,
    content_type,
    is_request_error,
    negotiate,
    response_data,
)
from tenants.uncancelled import to_the_end

T = TypeVar("T")

_KINDS = {"query", "mutation"}
_MASK = CodedErrors()  # holds no state between results outside a stream


async def shielded(admission: Admission | None, work: Awaitable[T]) -> T:
    """``work``, the execution of ``admission``'s operation, as its transport awaits it. A
    mutation's runs to its end (commits or rolls back) when the transport stops waiting,
    at the edge's time limit (HTTP: 503) or on a ``complete`` or a closed socket: only its
    answer is lost, never a write cut part-way (``tenants.uncancelled``). A query's or a
    subscription's stops with its caller."""
    if admission is not None and admission.kind == "mutation":
        return await to_the_end(work)
    return await work


async def respond(view, request: Request, admission: Admission) -> Response | None:
    """The view's answer to this admitted request, or None when the view must give it."""
    if admission.kind not in _KINDS:
        return None
    if request.method == "GET" and admission.kind != "query":
        return None  # the view answers a mutation over GET with its 405
    if request.method == "POST" and "json" not in request.headers.get("content-type", ""):
        return None  # multipart and other bodies: the view's own reading
    media = negotiate(request.headers.get("accept"))
    # No resolver writes to the response it is handed (the view's sub-response, merged
    # into the answer after execution): the answer is built once, here, afterwards.
    result = await run(admission, await view.get_context(request, None))
    status = 400 if media == GRAPHQL_RESPONSE and is_request_error(result) else 200
    body = view.encode_json(response_data(result))
    response = Response(body, status, media_type=content_type(media))
    if request.method == "GET":  # as get_sub_response says it: a cache keeps it by Accept
        response.raw_headers.append((b"vary", b"Accept"))
    return response


async def run(admission: Admission, context: Context) -> ExecutionResult:
    """The admitted operation executed on the gate's document, its errors logged, masked
    and coded as strawberry's ``Schema.execute`` with Charter's extensions would."""
    operation = admission.operation
    variables = coerced.handed(operation.variables, admission.checked.variables)
    result = execute(
        schema._schema,
        admission.checked.document,
        context_value=context,
        variable_values=variables,
        operation_name=operation.operation_name,
        executor_class=schema.execution_context_class,
        is_awaitable=optimized_is_awaitable,
        operation_extensions=None,
    )
    if isawaitable(result):
        result = await result
    errors = result.errors
    if errors:
        schema._process_errors(errors)  # before masking: the log sees the original
        errors = _MASK._process_errors(errors)
    return ExecutionResult(data=result.data, errors=errors)
