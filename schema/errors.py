"""How failures reach clients: ``userErrors`` for what the caller can fix, coded GraphQL
errors for the rest, and a mask over anything unexpected (logged here, never shown)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

import strawberry
from graphql import GraphQLError
from graphql.language import ValueNode
from strawberry.extensions import MaskErrors

from tenants.errors import DomainError

log = logging.getLogger("charter.graphql")


@strawberry.type
class UserError:
    field: list[str] | None
    code: str
    message: str


class CharterError(GraphQLError):
    """A GraphQL error with a stable ``extensions.code``."""

    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": self.code})


class Unauthenticated(CharterError):
    code = "UNAUTHENTICATED"


class Forbidden(CharterError):
    code = "FORBIDDEN"


class NotFound(CharterError):
    code = "NOT_FOUND"


class TooComplex(CharterError):
    """Work the request asks for that would take longer than its time budget."""

    code = "TOO_COMPLEX"


class BadUserInput(CharterError):
    """Bad arguments to a query (queries have no ``userErrors`` to carry them)."""

    code = "BAD_USER_INPUT"


def user_errors(error: DomainError) -> list[UserError]:
    return [
        UserError(field=list(p.field) if p.field else None, code=p.code.value, message=p.message)
        for p in error.problems
    ]


P = TypeVar("P")


async def mutate(payload: Callable[..., P], action: Callable[[], Awaitable[P]]) -> P:
    """Run a mutation; a domain error becomes the payload's ``userErrors``, nothing else."""
    try:
        return await action()
    except DomainError as error:
        return payload(user_errors=user_errors(error))


async def query(action: Awaitable[P]) -> P:
    """Run a query's service call; a domain error becomes a BAD_USER_INPUT error."""
    try:
        return await action
    except DomainError as error:
        raise BadUserInput(str(error)) from error


def expected(error: GraphQLError) -> bool:
    """Errors clients are meant to see: ours, and the request's own parse/validation errors.

    Errors without a path come from parsing, validation or variable coercion: they are
    about the request. Errors with a path arose while executing: only ours are meant, and
    graphql-core's refusal of an argument's value (``refused_argument``).
    """
    return (
        error.path is None
        or isinstance(error.original_error, CharterError)
        or refused_argument(error)
    )


def refused_argument(error: GraphQLError) -> bool:
    """graphql-core refused a field's argument as it executed the field: a variable
    declared nullable with a default (so the document is valid) sent as null where the
    argument is non-null. The request's fault, located at the value it sent (a value
    node; an error of a resolver or of completing its result points at the field)."""
    original = error.original_error
    return (
        isinstance(original, GraphQLError)
        and original.original_error is None
        and bool(error.nodes)
        and isinstance(error.nodes[0], ValueNode)
    )


class CodedErrors(MaskErrors):
    """Masks unexpected errors as INTERNAL_SERVER_ERROR and gives every error a code."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda error: not expected(error))

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        # The client gets an id to quote; the log has the same id next to the traceback.
        correlation = uuid.uuid4().hex[:16]
        log.error(
            "unexpected error %s in %s", correlation, error.path, exc_info=error.original_error
        )
        return GraphQLError(
            f"Internal server error (reference {correlation})",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": "INTERNAL_SERVER_ERROR", "correlationId": correlation},
        )

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed = super()._process_errors(errors)
        for error in processed:
            if error.path is None and not (error.extensions or {}).get("code"):
                # Errors outside the gate's coded ones (schema.documents codes parse,
                # validation and variable errors): the request itself is malformed, or
                # too big (the parser's token limit speaks only in words).
                code = (
                    "QUERY_TOO_COMPLEX"
                    if "tokens" in error.message
                    else "GRAPHQL_VALIDATION_FAILED"
                )
                error.extensions = {**(error.extensions or {}), "code": code}
            elif not (error.extensions or {}).get("code") and refused_argument(error):
                error.extensions = {**(error.extensions or {}), "code": "BAD_USER_INPUT"}
        return processed


def log_unexpected(errors: list[GraphQLError]) -> None:
    """Unexpected errors are logged where they are masked, with their correlation id."""
