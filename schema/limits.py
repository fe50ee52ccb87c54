"""How big a query may be: depth, aliases, and a static cost estimate, refused with
QUERY_TOO_COMPLEX before anything runs. Lists cost by the page they ask for (`first`).

Runs where validation runs, with the caller in reach, so a tenant's plan may allow more.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import lru_cache

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    parse,
    validate,
)
from strawberry.extensions import SchemaExtension
from strawberry.extensions.validation_cache import _get_validate_cache

MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_COST = 5000
DEFAULT_PAGE = 20  # a connection without `first` pays for a default page
LIST_GUESS = 5  # a plain list (translations, clocks): a few items, paid for as such


class TooComplex(GraphQLError):
    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": "QUERY_TOO_COMPLEX"})


class Measure:
    def __init__(
        self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode], variables: dict
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.aliases = 0

    def walk(
        self, selections: SelectionSetNode | None, parent, depth: int, seen: frozenset[str]
    ) -> tuple[int, int]:
        """(depth, cost) of a selection set; fragments are followed once per path."""
        if selections is None:
            return depth, 0
        deepest, cost = depth, 0
        for field, owner, more_seen in self._fields(selections, parent, seen):
            if field.alias is not None:
                self.aliases += 1
            definition = owner.fields.get(field.name.value) if hasattr(owner, "fields") else None
            child = get_named_type(definition.type) if definition else None
            below, inner = self.walk(field.selection_set, child, depth + 1, more_seen)
            deepest = max(deepest, below)
            cost += 1 + inner * self._page(field, definition)
        return deepest, cost

    def _fields(self, selections: SelectionSetNode, parent, seen: frozenset[str]):
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                yield selection, parent, seen
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                owner = self.schema.get_type(condition.name.value) if condition else parent
                yield from self._fields(selection.selection_set, owner, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in seen:  # cycles are validation's job
                    owner = self.schema.get_type(fragment.type_condition.name.value)
                    yield from self._fields(fragment.selection_set, owner, seen | {name})

    def _page(self, field: FieldNode, definition) -> int:
        """How many times the field's children are paid for."""
        if definition is None:
            return 1
        if "first" in definition.args:  # a connection: its page size, asked or default
            argument = next((a for a in field.arguments or () if a.name.value == "first"), None)
            value = argument.value if argument else None
            if isinstance(value, IntValueNode):
                return max(1, int(value.value))
            if isinstance(value, VariableNode):
                given = self.variables.get(value.name.value)
                return max(1, given) if isinstance(given, int) else DEFAULT_PAGE
            return DEFAULT_PAGE
        kind = (
            definition.type.of_type
            if isinstance(definition.type, GraphQLNonNull)
            else definition.type
        )
        if isinstance(kind, GraphQLList) and field.name.value != "edges":  # edges: paid by `first`
            return LIST_GUESS
        return 1


def problems(
    schema: GraphQLSchema, document, variables: dict, *, max_cost: int
) -> list[GraphQLError]:
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    measure = Measure(schema, fragments, variables or {})
    errors = []
    for operation in document.definitions:
        if not isinstance(operation, OperationDefinitionNode):
            continue
        root = schema.get_root_type(operation.operation)
        depth, cost = measure.walk(operation.selection_set, root, 0, frozenset())
        if depth > MAX_DEPTH:
            errors.append(TooComplex(f"the query is {depth} levels deep; at most {MAX_DEPTH}"))
        if cost > max_cost:
            errors.append(TooComplex(f"the query would cost {cost}; at most {max_cost}"))
    if measure.aliases > MAX_ALIASES:
        errors.append(TooComplex(f"the query has {measure.aliases} aliases; at most {MAX_ALIASES}"))
    return errors


# Parsed documents are cached (and validated through a cache) only when small: a parsed
# document can weigh ~300 times its text (2 KB of one-letter fields: 0.6 MB), and a
# client sending many large distinct documents must not pin gigabytes. 256 of at most
# 2 KB stay under ~150 MB at worst; real documents weigh a fraction of that.
CACHED_DOCUMENTS = 256
CACHED_DOCUMENT_BYTES = 2 * 1024
_validate = _get_validate_cache(CACHED_DOCUMENTS)
_parse = lru_cache(maxsize=CACHED_DOCUMENTS)(parse)


def _cacheable(query: str | None) -> bool:
    return bool(query) and len(query) <= CACHED_DOCUMENT_BYTES


class CachedParse(SchemaExtension):
    """The same few documents arrive again and again: each is parsed once. A document
    that does not parse is left to strawberry, which reports the error its usual way
    (strawberry's own ParserCache raises from a place that skips error processing)."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if _cacheable(context.query):
            with contextlib.suppress(GraphQLError):
                context.graphql_document = _parse(context.query, **context.parse_options)
        yield


class QueryLimits(SchemaExtension):
    """Refuses oversized queries before validation and execution spend anything on them,
    then validates the rest, remembering documents it has seen valid (or not)."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None and context.pre_execution_errors is None:
            caller = getattr(context.context, "principal", None)
            plan = (caller.tenant.limits or {}) if caller is not None and caller.tenant else {}
            found = problems(
                context.schema._schema,
                context.graphql_document,
                context.variables or {},
                max_cost=plan.get("max_cost", MAX_COST),
            )
            # Either way strawberry skips its own validation: this is it.
            check = _validate if _cacheable(context.query) else validate
            context.pre_execution_errors = found or check(
                context.schema._schema, context.graphql_document, context.validation_rules
            )
        yield
