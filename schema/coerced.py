"""Variables coerced once: by the gate, which must refuse values that do not coerce
before anything runs (``schema.documents``), not again by graphql-core's executor.

Coercion walks every input value against its type: for a recordConsents of 500
inputs, graphql-core made about 7,500 calls, as long as the ledger's whole write of
them. The gate's result is the executor's own (``get_variable_values``'s on the same
document, operation and values, by ``schema.coercion``), so execution is handed it
(``Coerced``) and skips its own pass. Values the gate did not coerce (a document checked
without them) are coerced by the executor as before.
"""

from __future__ import annotations

from typing import Any

from graphql.execution import executor
from graphql.execution.values import VariableValues
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


class Coerced(dict):
    """The request's raw variables (a dict, for everything that reads them) with the
    gate's coercion of them, ``values``."""

    def __init__(self, raw: dict, values: VariableValues) -> None:
        super().__init__(raw)
        self.values = values


def handed(raw: dict | None, values: VariableValues | None) -> dict | None:
    """The variables execution is given: ``raw`` with the gate's coercion of them when
    the gate coerced them (``values``), else ``raw`` for the executor to coerce."""
    return raw if values is None else Coerced(raw or {}, values)


class CoercedExecution(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, taking ``Coerced`` variables as already coerced."""

    @classmethod
    def build(cls, schema, document, root_value=None, context_value=None, raw_variable_values=None, *args: Any, **kwargs: Any):  # noqa: E501  # fmt: skip
        if not isinstance(raw_variable_values, Coerced):
            return super().build(
                schema, document, root_value, context_value, raw_variable_values, *args, **kwargs
            )
        # build() looks the function up in its module at each call and runs without a
        # single await: no other request can see the stand-in, which gives this
        # request's values back instead of coercing them again.
        values = raw_variable_values.values
        coerce, executor.get_variable_values = executor.get_variable_values, lambda *_, **__: values
        try:
            return super().build(
                schema, document, root_value, context_value, raw_variable_values, *args, **kwargs
            )
        finally:
            executor.get_variable_values = coerce
