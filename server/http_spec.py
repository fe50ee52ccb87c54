"""GraphQL over HTTP, as the spec and the graphql-http audit read it."""

from __future__ import annotations

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


def is_request_error(result: ExecutionResult) -> bool:
    """Execution never began (parsing, validation, variables, operation selection): such
    errors carry no path, as every field error does, and leave no data."""
    return (
        result.data is None
        and bool(result.errors)
        and all(error.path is None for error in result.errors)
    )
