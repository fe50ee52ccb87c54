"""The gate's compiled coercion (``schema.coercion``) gives exactly graphql-core's result:
the same coerced values for every input type of the schema, the same variable values,
and, for values that do not coerce, graphql-core's own errors. Values are drawn from
each type's own field names and leaves, right and wrong, nested as the type nests."""

from __future__ import annotations

import pytest
from graphql import (
    GraphQLError,
    is_enum_type,
    is_input_object_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    parse,
    parse_type,
)
from graphql.execution.values import get_variable_values
from graphql.pyutils import Undefined
from graphql.utilities import type_from_ast
from graphql.utilities.coerce_input_value import coerce_input_value
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schema import coercion
from schema import schema as charter

GRAPHQL = charter._schema
INPUTS = sorted(name for name, t in GRAPHQL.type_map.items() if is_input_object_type(t))
LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=True),
    st.text(max_size=8),
    st.sampled_from(["2025-03-01T10:00:00+00:00", "2025-03-01", "PRIVACY", "BANNER", "1"]),
)


def values_of(type_, depth: int = 0) -> st.SearchStrategy:
    """Mostly well-formed values of ``type_``, with wrong ones mixed in at every level."""
    if is_non_null_type(type_):
        return values_of(type_.of_type, depth)
    if depth > 4:
        return LEAVES
    if is_list_type(type_):
        item = values_of(type_.of_type, depth + 1)
        return st.one_of(st.lists(item, max_size=3), item, LEAVES)
    if is_input_object_type(type_):
        fields = {name: values_of(f.type, depth + 1) for name, f in type_.fields.items()}
        well_formed = st.fixed_dictionaries({}, optional=fields)
        stray = st.dictionaries(st.sampled_from([*fields, "stray"]), LEAVES, max_size=3)
        return st.one_of(well_formed, well_formed, stray.map(lambda d: d), LEAVES)
    if is_enum_type(type_):
        return st.one_of(st.sampled_from(list(type_.values)), LEAVES)
    return LEAVES


@pytest.mark.parametrize("name", INPUTS)
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_input_type_coerces_as_graphql_core_does(name, data):
    type_ = GRAPHQL.type_map[name]
    value = data.draw(values_of(type_))
    compiled = coercion._compiled(type_)
    assert _same(compiled(value), coerce_input_value(value, type_))


def _same(ours, theirs) -> bool:
    # NaN is not equal to itself; and Undefined must match Undefined, not a value.
    if ours is Undefined or theirs is Undefined:
        return ours is theirs
    return repr(ours) == repr(theirs)


BATCH = parse(
    "mutation($i: [ConsentInput!]!, $n: String) { recordConsents(inputs: $i) { recorded } }"
).definitions[0]
CONSENT = GRAPHQL.type_map["ConsentInput"]


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(inputs=st.lists(values_of(CONSENT), max_size=4), note=st.one_of(st.none(), LEAVES))
def test_variables_coerce_or_fail_as_graphql_core_says(inputs, note):
    variables = {"i": inputs} if note is None else {"i": inputs, "n": note}
    ours = coercion.variable_values(GRAPHQL, BATCH.variable_definitions, variables, max_errors=5)
    theirs = get_variable_values(GRAPHQL, BATCH.variable_definitions, variables, max_errors=5)
    if isinstance(theirs, list):
        assert [e.formatted for e in ours] == [e.formatted for e in theirs]
        return
    assert repr(ours.coerced) == repr(theirs.coerced)
    assert {k: s.value for k, s in ours.sources.items()} == {
        k: s.value for k, s in theirs.sources.items()
    }


def test_a_batch_of_consent_takes_the_compiled_path():
    inputs = [
        {
            "subjectId": f"v-{n}",
            "method": "BANNER",
            "decisions": [{"purpose": "analytics.reporting", "granted": True}],
            "occurredAt": "2025-03-01T10:00:00+00:00",
        }
        for n in range(3)
    ]
    found = coercion._fast(GRAPHQL, BATCH.variable_definitions, {"i": inputs})
    assert found is not None
    assert (
        found.coerced
        == get_variable_values(GRAPHQL, BATCH.variable_definitions, {"i": inputs}).coerced
    )
    assert coercion._fast(GRAPHQL, BATCH.variable_definitions, {"i": [{"method": "X"}]}) is None


def test_types_nested_past_the_depth_bound_are_left_to_graphql_core():
    deep = parse("query($v: [[[[[String]]]]]) { __typename }").definitions[0]
    assert coercion._fast(GRAPHQL, deep.variable_definitions, {"v": [[[[["a"]]]]]}) is None
    refused = coercion.variable_values(GRAPHQL, deep.variable_definitions, {"v": 1.5})
    assert [type(e) for e in refused] == [GraphQLError]


NAMED = sorted(
    name
    for name, t in GRAPHQL.type_map.items()
    if not name.startswith("__") and (is_input_object_type(t) or is_leaf_type(t))
)


@st.composite
def signatures(draw) -> tuple[str, dict]:
    """Up to three variables of any input type of the schema under up to four list and
    non-null wrappers, each given a value of its type, a wrong one, or none at all."""
    declared, given = [], {}
    for index in range(draw(st.integers(1, 3))):
        spelled = draw(st.sampled_from(NAMED))
        for wrapper in draw(st.lists(st.sampled_from("!["), max_size=4)):
            spelled = f"[{spelled}]" if wrapper == "[" else spelled.rstrip("!") + "!"
        declared.append(f"$v{index}: {spelled}")
        if draw(st.integers(0, 3)):
            type_ = type_from_ast(GRAPHQL, parse_type(spelled))
            given[f"v{index}"] = draw(values_of(type_))
    return f"query({', '.join(declared)}) {{ __typename }}", given


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(case=signatures())
def test_any_variable_signature_coerces_or_fails_as_graphql_core_says(case):
    document, variables = case
    definitions = parse(document).definitions[0].variable_definitions
    ours = coercion.variable_values(GRAPHQL, definitions, variables, max_errors=5)
    theirs = get_variable_values(GRAPHQL, definitions, variables, max_errors=5)
    if isinstance(theirs, list):
        assert [e.formatted for e in ours] == [e.formatted for e in theirs]
        return
    assert repr(ours.coerced) == repr(theirs.coerced)
    assert [(k, repr(s.value)) for k, s in ours.sources.items()] == [
        (k, repr(s.value)) for k, s in theirs.sources.items()
    ]


class _Text(str):
    """A str of another type: the exact-type shortcuts must not take it for one."""


class _Flag(int):
    """Not a bool, though it compares like one."""


@pytest.mark.parametrize("name", INPUTS)
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_odd_values_take_graphql_cores_road_too(name, data):
    """What the written-out coercion takes without a call (a str for a String, a bool
    for a Boolean, an enum's name) and what it must not: str and int subclasses,
    Undefined for a field known or not, an enum name of the wrong case."""
    type_ = GRAPHQL.type_map[name]
    value = data.draw(values_of(type_))
    if isinstance(value, dict):
        odd = st.sampled_from(
            [Undefined, _Text("x"), _Flag(1), "privacy", "BANNER", _Text("BANNER"), True]
        )
        for key in data.draw(st.lists(st.sampled_from([*type_.fields, "stray"]), max_size=3)):
            value = {**value, key: data.draw(odd)}
    assert _same(coercion._compiled(type_)(value), coerce_input_value(value, type_))
