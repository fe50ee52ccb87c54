"""GraphQL over HTTP, as the spec and the graphql-http audit read it."""

from __future__ import annotations

import re
from functools import lru_cache

from strawberry.http import GraphQLHTTPResponse, process_result
from strawberry.types import ExecutionResult

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"


def content_type(media: str) -> str:
    """The Content-Type header of an answer in the negotiated ``media`` type."""
    return f"{GRAPHQL_RESPONSE}; charset=utf-8" if media == GRAPHQL_RESPONSE else JSON


def negotiate(accept: str | None) -> str:
    """The response media type for an ``Accept`` header.

    graphql-response+json only when named; application/json when named, for */* and
    application/*, with no header, and when nothing offered is acceptable (the spec lets a
    server disregard such an Accept). Highest q wins; ties go to the first listed.
    """
    best, best_q = JSON, 0.0
    for item in (accept or "").split(","):
        media_range, _, params = item.partition(";")
        media_range = media_range.strip().lower()
        if media_range == GRAPHQL_RESPONSE:
            candidate = GRAPHQL_RESPONSE
        elif media_range in (JSON, "application/*", "*/*"):
            candidate = JSON
        else:
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > best_q:
            best, best_q = candidate, q
    return best


# entity-tag = [ weak ] opaque-tag; opaque-tag = DQUOTE *etagc DQUOTE (RFC 9110 §8.8.3)
_ENTITY_TAG = re.compile(r'\s*(?:W/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*(?:,|$)')


@lru_cache(maxsize=4096)
def none_match(if_none_match: str | None, etag: str) -> bool:
    """Whether ``If-None-Match`` matches the current representation, whose strong ETag
    is ``etag`` (unquoted): RFC 9110 §13.1.2, which compares weakly (``W/"x"`` matches
    ``"x"``, as a proxy that compressed the answer sends it back), takes a list, and
    ``*`` for any current representation. A malformed header matches nothing."""
    if not if_none_match:
        return False
    value = if_none_match.strip()
    if value == "*":
        return True
    position = 0
    while position < len(value):
        found = _ENTITY_TAG.match(value, position)
        if found is None:
            return False
        if found.group(1) == etag:
            return True
        position = found.end()
    return False


ALLOW = "GET, POST, OPTIONS"


def unacceptable(method: str, headers) -> tuple[int, str, str, dict] | None:
    """(status, message, code, headers) for a request no GraphQL can be read from, before
    anything reads it; None when it may be one.

    405 METHOD_NOT_ALLOWED with ``Allow`` (RFC 9110 §15.5.6) for a method other than
    GET, POST and OPTIONS; 415 UNSUPPORTED_MEDIA_TYPE for a POST whose body is not
    ``application/json`` (RFC 9110 §15.5.16; GraphQL over HTTP §5.2, the one body media
    type Charter reads), with ``Accept-Post`` saying which it is (RFC 9110 does not
    name one, W3C LDP §7.1 does)."""
    if method not in ("GET", "POST"):
        return (
            405,
            f"{method} is not allowed here: use {ALLOW}",
            "METHOD_NOT_ALLOWED",
            {"Allow": ALLOW},
        )
    if method == "POST":
        media = headers.get("content-type", "").partition(";")[0].strip().lower()
        if media != JSON:
            shown = media or "none"
            return (
                415,
                f"the request body must be {JSON}, not {shown}",
                "UNSUPPORTED_MEDIA_TYPE",
                {"Accept-Post": JSON},
            )
    return None


def strawberry_refusal(status: int, reason: str) -> tuple[int, str, dict]:
    """(status, code, headers) for strawberry's own HTTPException: a mutation over GET is
    405 with ``Allow: POST`` (GraphQL over HTTP §6.1.1); no operation picked by
    ``operationName`` is Apollo Server's OPERATION_RESOLUTION_FAILURE; the rest are
    requests strawberry could not read, BAD_REQUEST."""
    if status == 405:
        return 405, "METHOD_NOT_ALLOWED", {"Allow": "POST"}
    if reason.startswith(("Unknown operation named", "Must provide operation name")):
        return 400, "OPERATION_RESOLUTION_FAILURE", {}
    return status, "BAD_REQUEST", {}


def is_request_error(result: ExecutionResult) -> bool:
    """Execution never began (parsing, validation, variables, operation selection): such
    errors carry no path, as every field error does, and leave no data."""
    return (
        result.data is None
        and bool(result.errors)
        and all(error.path is None for error in result.errors)
    )


def response_data(result: ExecutionResult) -> GraphQLHTTPResponse:
    """The answer's JSON object: strawberry's, without a data entry when execution never
    began (a request error, GraphQL over HTTP §7.1.2)."""
    response = process_result(result)
    if is_request_error(result):
        response.pop("data", None)
    return response
