"""A GraphQL document, checked once: parsed, measured against the limits, validated.

``check`` is the document step of the operation gate (``server.gate``): the text of a
query is parsed once (graphql-core, with a token limit), each operation measured in time
linear in the document (``schema.limits``), and the document validated by graphql-core's
rules plus ``MaxIntrospectionDepthRule`` (and ``NoSchemaIntrospectionCustomRule`` for
callers who may not introspect, whose errors also lose graphql-core's "Did you mean …?"
guesses: each is a schema name). Each result is cached by the query's text in memory
bounded in bytes, so the same few documents cost a dictionary lookup each.

Codes, as Apollo Server names them so its clients recognise them: a document that does
not parse is GRAPHQL_PARSE_FAILED; one that parses but breaks a rule,
GRAPHQL_VALIDATION_FAILED; an operationName that picks no operation of it,
OPERATION_RESOLUTION_FAILURE; over the limits, QUERY_TOO_COMPLEX; variables that do not
coerce to their declared types (a string for an Int, a missing non-null), BAD_USER_INPUT:
checked here, before execution, so HTTP and WebSocket say the same.

``GateDocuments`` hangs this on strawberry's hooks: execution takes the document the gate
parsed and the verdict it reached, so strawberry neither parses nor validates again; an
execution that did not come through the gate (a script calling ``schema.execute``) runs
the same checks here, so nothing reaches a resolver unmeasured.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    get_operation_ast,
    parse,
    specified_rules,
    validate,
)
from graphql.error import GraphQLSyntaxError
from graphql.execution.values import VariableValues
from graphql.validation import MaxIntrospectionDepthRule, NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension

from schema import coercion, limits
from schema.coerced import handed
from schema.costs import MAX_COST
from tenants.memory import Bounded

__all__ = ["MAX_TOKENS", "Checked", "GateDocuments", "Refusal", "check"]

MAX_TOKENS = 2500  # the standard introspection query has 183; parsing 2,500 takes ~10 ms
MAX_VALIDATION_ERRORS = 20  # graphql-core stops there: junk costs no more than that
# A parsed document weighs up to ~280 times its text (one-letter fields, measured).
PARSED_WEIGHT = 300
PARSED = Bounded(entries=2048, budget=64 * 2**20)
VERDICTS = Bounded(entries=8192, budget=8 * 2**20)  # (query, introspection) -> errors
MEASURES = Bounded(entries=8192, budget=8 * 2**20)  # (query, budget) -> {operation: Measured}
RULES = (*specified_rules, MaxIntrospectionDepthRule)
RULES_WITHOUT_INTROSPECTION = (*RULES, NoSchemaIntrospectionCustomRule)


class Refusal(Exception):
    """The document is refused; ``errors`` say why, each with ``extensions.code``."""

    def __init__(self, errors: list[GraphQLError]) -> None:
        super().__init__(errors[0].message)
        self.errors = errors

    @property
    def code(self) -> str:
        return (self.errors[0].extensions or {}).get("code", "GRAPHQL_VALIDATION_FAILED")


@dataclass(frozen=True)
class Checked:
    document: DocumentNode
    operation: OperationDefinitionNode  # GraphQL spec §6.1 GetOperation's pick
    measured: limits.Measured
    variables: VariableValues | None = None  # coerced, when they were (``schema.coerced``)


def check(
    schema: GraphQLSchema,
    query: str | None,
    *,
    operation_name: str | None,
    variables: dict | None,
    max_cost: int = MAX_COST,
    introspection: bool = True,
    coerce: bool = True,
) -> Checked:
    """The checked document; raises Refusal (GRAPHQL_PARSE_FAILED, QUERY_TOO_COMPLEX,
    GRAPHQL_VALIDATION_FAILED, BAD_USER_INPUT). ``coerce=False``: the variables are not
    known yet (a price asked for before the values are), so they are not checked."""
    if not query:
        raise Refusal([_coded(GraphQLError("no GraphQL query found in the request"))])
    document = _parsed(query)
    try:
        measures = _measures(schema, query, document, variables, max_cost)
    except limits.TooComplex as error:
        raise Refusal([error]) from None
    if not measures:
        raise Refusal([_coded(GraphQLError("the document holds no operation"))])
    # GraphQL spec §6.1 GetOperation, once: the named operation, or the only one, else a
    # request error. Every later step (introspection policy, cost, limits, the kind a
    # transport may carry, execution) judges this one operation and no other.
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        raise Refusal([_coded(GraphQLError(_unresolved(operation_name)), UNRESOLVED)])
    measured = _measured_for(measures, operation)
    if measured.introspection:  # a key's plan never changes what the schema says
        verdict = _verdict(schema, query, document, introspection=introspection)
    else:
        verdict = _verdict(schema, query, document, introspection=True)
    if verdict:
        raise Refusal(verdict if introspection else _without_suggestions(verdict))
    coerced = None
    if coerce and operation.variable_definitions:
        try:
            coerced = _coerce(schema, operation, variables)
        except Refusal as refusal:
            if introspection:
                raise
            raise Refusal(_without_suggestions(refusal.errors)) from None
    return Checked(document, operation, measured, coerced)


UNRESOLVED = "OPERATION_RESOLUTION_FAILURE"  # Apollo Server's code for it


def _measured_for(measures: dict, operation: OperationDefinitionNode) -> limits.Measured:
    """The measures of ``operation``. By identity first: graphql-core hashes a node by
    walking all of it, the whole operation on every request (3% of a secret-key read's
    CPU); the document and the measures are cached together, so it is usually the very
    node. A document parsed again since (the caches evict separately) matches by value."""
    for node, measured in measures.items():
        if node is operation:
            return measured
    return measures[operation]


def _unresolved(operation_name: str | None) -> str:
    """graphql-core's own words for an operation it cannot pick."""
    if operation_name is None:
        return "Must provide operation name if query contains multiple operations."
    return f"Unknown operation named '{operation_name}'."


# graphql-core ends a message with its guesses: "Cannot query field 'polcy' on type
# 'Query'. Did you mean 'policy'?". Each guess is a schema name, so a caller who may not
# introspect could map the schema by typos; Apollo Server's
# hideSchemaDetailsFromClientErrors drops them the same way.
_SUGGESTION = re.compile(r"\s*Did you mean .*\?$", re.S)


def _without_suggestions(errors: list[GraphQLError]) -> list[GraphQLError]:
    """The errors, their "Did you mean …?" cut (new errors: the cached ones stay whole)."""
    return [
        GraphQLError(
            _SUGGESTION.sub("", error.message),
            error.nodes,
            error.source,
            error.positions,
            error.path,
            error.original_error,
            error.extensions,
        )
        for error in errors
    ]


def _coerce(
    schema, operation: OperationDefinitionNode, variables: dict | None
) -> VariableValues | None:
    """The variables coerced to the operation's declared types (GraphQL spec §6.1.2
    CoerceVariableValues), as execution would; refused, coded, when they do not."""
    if variables is not None and not isinstance(variables, dict):
        return None  # the transport's to refuse: not a map at all
    coerced = coercion.variable_values(
        schema, operation.variable_definitions, variables or {}, max_errors=MAX_VALIDATION_ERRORS
    )
    if isinstance(coerced, list):
        raise Refusal([_coded(error, "BAD_USER_INPUT") for error in coerced])
    return coerced


def _parsed(query: str) -> DocumentNode:
    document = PARSED.get(query)
    if document is None:
        try:
            document = parse(query, max_tokens=MAX_TOKENS, no_location=False)
        except GraphQLSyntaxError as error:
            code = "QUERY_TOO_COMPLEX" if "tokens" in error.message else "GRAPHQL_PARSE_FAILED"
            raise Refusal([_coded(error, code)]) from None
        PARSED.put(query, document, weight=PARSED_WEIGHT * len(query))
    return document


def _measures(schema, query, document, variables, max_cost) -> dict:
    key = (query, max_cost)
    found = MEASURES.get(key)
    if found is None:
        found = limits.measure(schema, document, variables, budget=max_cost)
        if not any(m.uses_variables for m in found.values()):  # else: this request's values
            MEASURES.put(key, found, weight=len(query) + 256 * len(found))
    return found


def _verdict(schema, query, document, *, introspection: bool) -> list[GraphQLError]:
    key = (query, introspection)
    errors = VERDICTS.get(key)
    if errors is None:
        rules = RULES if introspection else RULES_WITHOUT_INTROSPECTION
        errors = [
            _coded(error)
            for error in validate(schema, document, rules, max_errors=MAX_VALIDATION_ERRORS)
        ]
        VERDICTS.put(key, errors, weight=len(query) + 256 * (1 + len(errors)))
    return errors


def _coded(error: GraphQLError, code: str | None = None) -> GraphQLError:
    code = code or (error.extensions or {}).get("code") or "GRAPHQL_VALIDATION_FAILED"
    error.extensions = {**(error.extensions or {}), "code": code}
    return error


class GateDocuments(SchemaExtension):
    """Execution takes the gate's document and verdict (``context.admission``); without
    one it checks the document here, under the same limits."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        admission = getattr(context.context, "admission", None)
        if admission is not None:
            context.graphql_document = admission.checked.document
            if context.variables is admission.operation.variables:  # not coerced twice
                context.variables = handed(context.variables, admission.checked.variables)
        else:
            try:
                context.graphql_document = check(
                    context.schema._schema,
                    context.query,
                    operation_name=context.provided_operation_name,
                    variables=context.variables,
                ).document
            except Refusal as refusal:
                context.pre_execution_errors = refusal.errors
                raise refusal.errors[0] from None
        yield

    def on_validate(self) -> Iterator[None]:
        # Checked above or by the gate: strawberry's own validation would be a second one.
        if self.execution_context.pre_execution_errors is None:
            self.execution_context.pre_execution_errors = []
        yield
