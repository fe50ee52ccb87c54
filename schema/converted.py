"""A list argument converted in one pass: recordConsents' up to 1,000 inputs.

Strawberry converts a resolver's arguments before calling it: for a list of input objects,
one ``convert_argument`` call per item, each running about a dozen type checks before it
reaches the input type's own ``from_input`` hook (``schema.consent.consent_item``),
~3 µs an item. Strawberry offers that hook per input object and none per list, so for a
recordConsents of 500 its walk cost more than the hook's work it led to (measured
in-process, trees taking turns: 16.9 ms of CPU a batch with it, 15.0 without).

``convert_in_one_pass`` replaces the graphql-core resolver strawberry built for such a
field (``GraphQLField.resolve``, graphql-core's public surface) with one that converts the
list with a single comprehension of the same hook and calls the same Python resolver with
strawberry's ``Info``. Everything else about the field stays strawberry's: its SDL,
description, validation, and the coercion of its values (``schema.coerced``). What the
replaced resolver did besides converting, field extensions, permission classes and
per-field exception handlers, the field must not use: refused at import.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import strawberry
from graphql import GraphQLResolveInfo

__all__ = ["convert_in_one_pass"]


def convert_in_one_pass(
    schema: strawberry.Schema,
    *,
    type_name: str,
    field_name: str,
    argument: str,
    item: Callable[[Mapping[str, Any]], Any],
) -> None:
    """Have ``type_name.field_name``'s ``argument`` (a list of input objects, as graphql-core
    coerced them: mappings by GraphQL field name) converted by ``item`` one value at a time
    in one comprehension, instead of by strawberry's per-item walk. RuntimeError when the
    field is not one whose resolver only converts and calls (see the module's docstring)."""
    field = schema.get_field_for_type(field_name=field_name, type_name=type_name)
    resolver = field.base_resolver if field is not None else None
    if resolver is None or not resolver.is_async:
        raise RuntimeError(f"{type_name}.{field_name} has no async resolver to call")
    handlers = getattr(schema.schema_converter, "_get_field_exception_handlers", None)
    if field.extensions or field.permission_classes or (handlers and handlers(field)):
        raise RuntimeError(f"{type_name}.{field_name} has extensions to run: convert as usual")
    names = [a.python_name for a in field.arguments]
    if names != [argument] or resolver.info_parameter is None:
        raise RuntimeError(f"{type_name}.{field_name} must take info and {argument} alone")
    function, info_name = resolver.wrapped_func, resolver.info_parameter.name
    info_class = schema.config.info_class
    graphql_name = schema.config.name_converter.from_argument(field.arguments[0])

    async def resolve(root: Any, info: GraphQLResolveInfo, **arguments: Any) -> Any:
        values = arguments[graphql_name]  # required: graphql-core refused its absence
        kwargs = {
            info_name: info_class(_raw_info=info, _field=field),
            argument: [item(value) for value in values],
        }
        return await function(root, **kwargs)

    schema._schema.get_type(type_name).fields[field.graphql_name or field_name].resolve = resolve
