"""Variables coerced by functions made once per input type: graphql-core's rules, minus
its generic walk.

graphql-core's ``coerce_input_value`` asks of every value what its type is (non-null?
list? input object? leaf?) and ``coerce_variable_values`` first walks every value once
more to bound its depth: for a recordConsents of 500 inputs, about 10,500 calls, half
the CPU of the whole request. The questions have the same answers for every value of
one type, so they are answered once, into a closure per type (``_compiled``), and the
depth bound is read off the type itself (``_depth``): an input type that does not refer
to itself cannot carry a value nested deeper than its own nesting.

Only values that coerce take this path, and each step is graphql-core's own (leaves'
``coerce_input_value``, defaults by ``coerce_default_value``, ``out_type``). Anything
else (a value that does not coerce, a variable left to its default, a recursive or
@oneOf input type, an invalid signature) returns None from ``_fast``, and graphql-core's
``get_variable_values`` does the whole work, errors and all: what a client is told never
comes from here. ``tests/test_gate_coercion_compiled`` holds the two to the same result.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLSchema,
    VariableDefinitionNode,
    is_input_object_type,
    is_list_type,
    is_non_null_type,
    is_required_input_field,
)
from graphql.execution.get_variable_signature import get_variable_signature
from graphql.execution.values import VariableValues, VariableValueSource, get_variable_values
from graphql.language.parser import MAX_NESTING_DEPTH
from graphql.pyutils import Undefined, is_iterable
from graphql.type.scalars import coerce_boolean, coerce_string
from graphql.utilities.coerce_input_value import coerce_default_value
from strawberry.schema.schema_converter import CustomGraphQLEnumType

__all__ = ["variable_values"]

Coerce = Callable[[Any], Any]  # a value -> its coerced value, or Undefined
MAX_WRAPPERS = 4  # list/non-null wrappers of a variable's type this path takes on


def variable_values(
    schema: GraphQLSchema,
    definitions: Collection[VariableDefinitionNode],
    inputs: dict[str, Any],
    *,
    max_errors: int | None = None,
) -> VariableValues | list[GraphQLError]:
    """Exactly ``graphql.execution.values.get_variable_values`` (the coerced values, or
    the errors), by the compiled path when every variable coerces on it."""
    found = _fast(schema, definitions, inputs)
    if found is not None:
        return found
    return get_variable_values(schema, definitions, inputs, max_errors=max_errors)


def _fast(
    schema: GraphQLSchema, definitions: Collection[VariableDefinitionNode], inputs: dict
) -> VariableValues | None:
    # coerce_variable_values's loop for values that coerce; None: let graphql-core judge.
    sources: dict[str, VariableValueSource] = {}
    coerced: dict[str, Any] = {}
    for node in definitions:
        signature = get_variable_signature(schema, node)
        if isinstance(signature, GraphQLError):
            return None
        name, type_ = signature.name, signature.type
        value = inputs.get(name, Undefined)
        if value is Undefined:
            if node.default_value or is_non_null_type(type_):
                return None  # a default to apply, or an error to report
            sources[name] = VariableValueSource(signature)
            continue
        coerce = _for_variable(type_)
        if coerce is None:
            return None
        result = coerce(value)
        if result is Undefined:
            return None
        sources[name] = VariableValueSource(signature, value)
        coerced[name] = result
    return VariableValues(sources, coerced)


# Keyed by the named type and its wrappers: a variable's wrapper types are built anew
# for each request (type_from_ast), the named types are the schema's own.
_COMPILED: dict[tuple[Any, tuple[str, ...]], Coerce | None] = {}


def _for_variable(type_: GraphQLInputType) -> Coerce | None:
    wrappers = []
    named = type_
    while is_non_null_type(named) or is_list_type(named):
        wrappers.append("!" if is_non_null_type(named) else "[]")
        named = named.of_type
    key = (named, tuple(wrappers))
    if key not in _COMPILED:
        fits = len(wrappers) <= MAX_WRAPPERS and _depth(type_, frozenset()) <= MAX_NESTING_DEPTH
        _COMPILED[key] = _compiled(type_) if fits else None
    return _COMPILED[key]


def _depth(type_: GraphQLInputType, seen: frozenset) -> float:
    """The deepest graphql-core's ``input_is_nested_too_deeply`` can count in a value of
    ``type_``: a list item or an input field is one level. Infinite for a type that
    refers to itself (or is @oneOf: left whole to graphql-core)."""
    if is_non_null_type(type_):
        return _depth(type_.of_type, seen)
    if is_list_type(type_):
        return 1 + _depth(type_.of_type, seen)
    if is_input_object_type(type_):
        if type_ in seen or type_.is_one_of:
            return float("inf")
        inner = seen | {type_}
        return 1 + max((_depth(f.type, inner) for f in type_.fields.values()), default=0)
    return 0


def _compiled(type_: GraphQLInputType) -> Coerce:
    """graphql-core's ``coerce_input_value(value, type_)`` for a type ``_depth`` bounds.

    A non-null type is no closure of its own: its inner type's answers null (None or
    Undefined) with Undefined instead of None, one call less per value."""
    if is_non_null_type(type_):
        return _nullable(type_.of_type, Undefined)
    return _nullable(type_, None)


def _nullable(type_: GraphQLInputType, empty: Any) -> Coerce:
    # ``empty``: what None and Undefined coerce to (None; Undefined under a non-null).
    if is_list_type(type_):
        return _list(_compiled(type_.of_type), empty)
    if is_input_object_type(type_):
        return _object(type_, empty)
    return _leaf(type_, empty)


def _list(item: Coerce, empty: Any) -> Coerce:
    def coerce(value: Any) -> Any:
        if value is None or value is Undefined:
            return empty
        if type(value) is not list and not is_iterable(value):
            single = item(value)  # a non-list value is a list of one
            return Undefined if single is Undefined else [single]
        coerced = []
        for each in value:
            each = item(each)
            if each is Undefined:
                return Undefined
            coerced.append(each)
        return coerced

    return coerce


def _object(type_: GraphQLInputObjectType, empty: Any) -> Coerce:
    fields = type_.fields
    names = fields.keys()
    plan = [
        (
            name,
            field.out_name or name,
            _compiled(field.type),
            is_required_input_field(field),
            # coerce_default_value gives Undefined (no entry) when the field has neither
            # kind of default: not asked for each value left out.
            field if field.default is not None or field.default_value is not Undefined else None,
        )
        for name, field in fields.items()
    ]
    out_type = type_.out_type

    def coerce(value: Any) -> Any:
        if value is None or value is Undefined:
            return empty
        if not isinstance(value, dict):
            return Undefined
        if not value.keys() <= names:  # an unknown field, unless its value is Undefined
            for key, given in value.items():
                if given is not Undefined and key not in fields:
                    return Undefined
        coerced = {}
        for name, out_name, inner, required, defaulted in plan:
            given = value.get(name, Undefined)
            if given is Undefined:
                if required:
                    return Undefined
                if defaulted is not None:
                    default = coerce_default_value(defaulted)
                    if default is not Undefined:
                        coerced[out_name] = default
                continue
            given = inner(given)
            if given is Undefined:
                return Undefined
            coerced[out_name] = given
        return out_type(coerced)

    return coerce


# Leaves whose coercion of a value of one exact Python type is that very value
# (graphql-core's coerce_string and coerce_boolean): no call, no try, for those.
_ITSELF = {coerce_string: str, coerce_boolean: bool}


def _leaf(type_: GraphQLInputType, empty: Any) -> Coerce:
    parse = type_.coerce_input_value
    itself = _ITSELF.get(parse)  # type: ignore[call-overload]
    names = _enum_names(type_)

    def coerce(value: Any) -> Any:
        if type(value) is itself:
            return value
        if names is not None and type(value) is str:
            found = names.get(value, _MISSING)
            if found is not _MISSING:
                return found
        if value is None or value is Undefined:
            return empty
        try:
            return parse(value)
        except Exception:  # as graphql-core: a value that does not coerce
            return Undefined

    return coerce


_MISSING = object()


def _enum_names(type_: GraphQLInputType) -> dict[str, Any] | None:
    """An enum's coercion of each of its names, made once: graphql-core's (and
    strawberry's, which wraps the value in its Python enum, whose members are
    singletons) gives the same object for a name every time. None for any other type."""
    if type(type_) not in (GraphQLEnumType, CustomGraphQLEnumType):
        return None
    try:
        return {name: type_.coerce_input_value(name) for name in type_.values}
    except Exception:  # a name that does not coerce: each value asks the type itself
        return None
